"""Writes the Grafana dashboards in deploy/grafana/dashboards/ from the panel lists below.

Run `python deploy/grafana/build_dashboards.py` after changing a panel; tests/deploy checks that every metric a
dashboard queries is exported by some service.
"""

from __future__ import annotations

import json
from pathlib import Path

DATASOURCE = {"type": "prometheus", "uid": "opsdesk-prometheus"}
OUT = Path(__file__).with_name("dashboards")

# Every service dead-letters through the shared consumer and counts it in its own `<prefix>_dead_letters_total`
# (the SLA monitor's prefix is `sla`); tests/deploy checks this covers every service.
DEAD_LETTER_METRICS = {
    "intake": "intake", "dispatch": "dispatch", "sla-monitor": "sla", "assets": "assets", "reporting": "reporting",
    "knowledge": "knowledge",
}

# Titles are zh-CN (the desk reads them); each description keeps the English name for the people who maintain it.
# title -> (uid, description, [(panel title, description, panel type, unit, [(expr, legend)])])
Panel = tuple[str, str, str, str, list[tuple[str, str]]]
DASHBOARDS: dict[str, tuple[str, str, list[Panel]]] = {
    "Opsdesk：服务台": ("opsdesk-desk", "Opsdesk: service desk", [
        ("各渠道新建工单（每小时）", "Tickets created by channel (per hour)", "timeseries", "short",
         [("sum by (channel) (increase(intake_tickets_created_total[1h]))", "{{channel}}")]),
        ("各服务目录新建工单（近24小时）", "Tickets created by catalog service (last 24 h)", "bargauge", "short",
         [("sum by (service_code) (increase(intake_tickets_created_total[1d]))", "{{service_code}}")]),
        ("各优先级新建工单（近24小时）", "Tickets created by priority (last 24 h)", "piechart", "short",
         [("sum by (priority) (increase(intake_tickets_created_total[1d]))", "{{priority}}")]),
        ("各状态未关闭工单", "Open tickets by state", "timeseries", "short", [("sum by (status) (intake_open_tickets)", "{{status}}")]),
        ("服务台一线解决率（近30天，目标30%–50%）", "Resolved at the desk, 30 days (target 30-50%)", "gauge", "percentunit",
         [("sum(increase(intake_desk_resolutions_total[30d])) / clamp_min(sum(increase(intake_resolutions_total[30d])), 1)", "一线解决占比")]),
        ("本月服务台一线解决率（报表投影）", "Resolved at the desk this month (reporting's projection)", "stat", "percentunit",
         [("reporting_desk_resolution_share", "本月")]),
        ("各厂商在修设备", "Repairs at vendors", "bargauge", "short", [("sum by (vendor) (reporting_repairs_at_vendor)", "{{vendor}}")]),
        ("维修记录状态变更（近24小时）", "Repair record changes by status (last 24 h)", "bargauge", "short",
         [("sum by (status) (increase(assets_repairs_updated_total[1d]))", "{{status}}")]),
        ("资产标签查询", "Asset tag look-ups (found or not)", "timeseries", "short",
         [("sum by (found) (rate(assets_lookups_total[5m]))", "找到={{found}}")]),
        ("报表生成与逾期（近7天）", "Reports generated / overdue (7 days)", "stat", "short",
         [("sum(increase(reporting_reports_generated_total[7d]))", "已生成"),
          ("sum by (reason) (increase(reporting_reports_overdue_total[7d]))", "逾期 {{reason}}")]),
    ]),
    "Opsdesk：SLA时限": ("opsdesk-sla", "Opsdesk: SLA", [
        ("各计时器SLA违约（每小时）", "SLA breaches by timer (per hour)", "timeseries", "short",
         [("sum by (timer) (increase(sla_breaches_total[1h]))", "{{timer}}")]),
        ("各计时器SLA预警（每小时）", "SLA warnings by timer (per hour)", "timeseries", "short",
         [("sum by (timer) (increase(sla_warnings_total[1h]))", "{{timer}}")]),
        ("各计时器违约占比（近24小时）", "Breach share by timer (24 h)", "bargauge", "percentunit",
         [("sum by (timer) (increase(sla_breaches_total[1d])) / clamp_min(sum by (timer) (increase(sla_timers_started_total[1d])), 1)", "{{timer}}")]),
        ("计时器启动与按时停止", "Timers started / stopped in time", "timeseries", "short",
         [("sum by (timer) (rate(sla_timers_started_total[5m]))", "启动 {{timer}}"),
          ("sum by (timer) (rate(sla_timers_stopped_total[5m]))", "停止 {{timer}}")]),
        ("升级通知（按渠道与结果）", "Escalation notifications by channel and outcome", "timeseries", "short",
         [("sum by (channel, outcome) (increase(sla_notifications_total[1h]))", "{{channel}} {{outcome}}")]),
        ("报表统计的违约总数（按计时器）", "Breaches projected by reporting (total by timer)", "bargauge", "short",
         [("sum by (timer) (reporting_sla_breaches_total)", "{{timer}}")]),
        ("近似工作时间计算（缺节假日数据）", "Approximate business-time answers (no holiday data)", "stat", "short",
         [("sum(increase(sla_approximate_results_total[1d]))", "近似结果")]),
    ]),
    "Opsdesk：派单": ("opsdesk-dispatch", "Opsdesk: dispatch", [
        ("派单耗时p50/p90", "Assignment latency p50 / p90", "timeseries", "s",
         [("histogram_quantile(0.5, sum by (le) (rate(dispatch_assignment_latency_seconds_bucket[5m])))", "p50"),
          ("histogram_quantile(0.9, sum by (le) (rate(dispatch_assignment_latency_seconds_bucket[5m])))", "p90")]),
        ("各工程师派单数（近24小时）", "Assignments by engineer (last 24 h)", "bargauge", "short",
         [("sum by (engineer_id) (increase(dispatch_assignments_total[1d]))", "{{engineer_id}}")]),
        ("暂无工程师可接的工单", "Tickets nobody could take yet", "timeseries", "short",
         [("sum(increase(dispatch_no_engineer_available_total[1h]))", "无可用工程师")]),
        ("改派次数（按决定方）", "Reassignments by who decided", "bargauge", "short", [("sum by (by) (reporting_tickets_reassigned_total)", "{{by}}")]),
        ("各类升级次数", "Escalations raised by kind", "bargauge", "short", [("sum by (kind) (reporting_escalations_raised_total)", "{{kind}}")]),
        ("工单上记录的派单", "Assignments recorded on tickets (intake)", "timeseries", "short",
         [("sum(rate(intake_assignments_recorded_total[5m]))", "已记录")]),
    ]),
    "Opsdesk：平台运行": ("opsdesk-platform", "Opsdesk: platform", [
        ("各服务HTTP响应时间p90", "HTTP p90 by service", "timeseries", "s",
         [("histogram_quantile(0.9, sum by (le, service) (rate(http_request_duration_seconds_bucket[5m])))", "{{service}}")]),
        ("各服务HTTP请求（按状态码）", "HTTP requests by service and status", "timeseries", "reqps",
         [("sum by (service, status) (rate(http_request_duration_seconds_count[5m]))", "{{service}} {{status}}")]),
        ("各服务事件处理耗时p90", "Event handling p90 by service", "timeseries", "s",
         [("histogram_quantile(0.9, sum by (le, service) (rate(events_handled_seconds_bucket[5m])))", "{{service}}")]),
        ("事件处理结果", "Events handled by outcome", "timeseries", "short",
         [("sum by (service, outcome) (rate(events_handled_seconds_count[5m]))", "{{service}} {{outcome}}")]),
        ("死信（每小时，全部服务）", "Dead letters per hour, every service: messages a consumer gave up on (stream OPSDESK_DEADLETTER)",
         "timeseries", "short", [
             (f"sum by (subject) (increase({prefix}_dead_letters_total[1h]))", f"{service} {{{{subject}}}}")
             for service, prefix in DEAD_LETTER_METRICS.items()
         ]),
        ("建单耗时p90", "Ticket create time p90 (intake)", "timeseries", "s",
         [("histogram_quantile(0.9, sum by (le) (rate(intake_ticket_create_seconds_bucket[5m])))", "p90")]),
        ("报表投影的事件", "Events projected by reporting", "timeseries", "short",
         [("sum by (type) (rate(reporting_events_projected_total[5m]))", "{{type}}")]),
        ("报表生成耗时p90", "Report generation p90", "timeseries", "s",
         [("histogram_quantile(0.9, sum by (le, kind) (rate(reporting_report_generation_seconds_bucket[1h])))", "{{kind}}")]),
        ("在线的采集目标", "Targets up", "stat", "short", [('sum by (service) (up{job="opsdesk"})', "{{service}}")]),
    ]),
}


def panel(n: int, title: str, description: str, kind: str, unit: str, queries: list[tuple[str, str]]) -> dict[str, object]:
    return {
        "id": n + 1, "title": title, "description": description, "type": kind, "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": 12, "x": (n % 2) * 12, "y": (n // 2) * 8},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        "targets": [{"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}
                    for i, (expr, legend) in enumerate(queries)],
    }


def dashboard(title: str, uid: str, description: str, panels: list[Panel]) -> dict[str, object]:
    return {
        "uid": uid, "title": title, "description": description, "tags": ["opsdesk"], "timezone": "Asia/Shanghai", "schemaVersion": 39, "version": 1,
        "refresh": "30s", "time": {"from": "now-24h", "to": "now"}, "editable": False,
        "panels": [panel(n, *p) for n, p in enumerate(panels)],
    }


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for title, (uid, description, panels) in DASHBOARDS.items():
        path = OUT / f"{uid}.json"
        path.write_text(json.dumps(dashboard(title, uid, description, panels), ensure_ascii=False, indent=2) + "\n")
        print(path)


if __name__ == "__main__":
    main()
