"""Writes the Grafana dashboards in deploy/grafana/dashboards/ from the panel lists below.

Run `python deploy/grafana/build_dashboards.py` after changing a panel; tests/deploy checks that every metric a
dashboard queries is exported by some service.
"""

from __future__ import annotations

import json
from pathlib import Path

DATASOURCE = {"type": "prometheus", "uid": "opsdesk-prometheus"}
OUT = Path(__file__).with_name("dashboards")

# title -> (uid, [(panel title, panel type, unit, [(expr, legend)])])
DASHBOARDS: dict[str, tuple[str, list[tuple[str, str, str, list[tuple[str, str]]]]]] = {
    "Opsdesk: service desk": ("opsdesk-desk", [
        ("Tickets created by channel (per hour)", "timeseries", "short",
         [("sum by (channel) (increase(intake_tickets_created_total[1h]))", "{{channel}}")]),
        ("Tickets created by service (today)", "bargauge", "short",
         [("sum by (service_code) (increase(intake_tickets_created_total[1d]))", "{{service_code}}")]),
        ("Tickets created by priority (today)", "piechart", "short",
         [("sum by (priority) (increase(intake_tickets_created_total[1d]))", "{{priority}}")]),
        ("Open tickets by state", "timeseries", "short", [("sum by (status) (intake_open_tickets)", "{{status}}")]),
        ("Resolved at the desk, 30 days (target 30-50%)", "gauge", "percentunit",
         [("sum(increase(intake_desk_resolutions_total[30d])) / clamp_min(sum(increase(intake_resolutions_total[30d])), 1)", "desk share")]),
        ("Resolved at the desk this month (projection)", "stat", "percentunit", [("reporting_desk_resolution_share", "this month")]),
        ("Repairs at vendors", "bargauge", "short", [("sum by (vendor) (reporting_repairs_at_vendor)", "{{vendor}}")]),
        ("Repair record changes by status (today)", "bargauge", "short",
         [("sum by (status) (increase(assets_repairs_updated_total[1d]))", "{{status}}")]),
        ("Asset tag look-ups", "timeseries", "short", [("sum by (found) (rate(assets_lookups_total[5m]))", "found={{found}}")]),
        ("Reports generated / overdue (7 days)", "stat", "short",
         [("sum(increase(reporting_reports_generated_total[7d]))", "generated"),
          ("sum by (reason) (increase(reporting_reports_overdue_total[7d]))", "overdue {{reason}}")]),
    ]),
    "Opsdesk: SLA": ("opsdesk-sla", [
        ("SLA breaches by timer (per hour)", "timeseries", "short", [("sum by (timer) (increase(sla_breaches_total[1h]))", "{{timer}}")]),
        ("SLA warnings by timer (per hour)", "timeseries", "short", [("sum by (timer) (increase(sla_warnings_total[1h]))", "{{timer}}")]),
        ("Breach share by timer (24 h)", "bargauge", "percentunit",
         [("sum by (timer) (increase(sla_breaches_total[1d])) / clamp_min(sum by (timer) (increase(sla_timers_started_total[1d])), 1)", "{{timer}}")]),
        ("Timers started / stopped in time", "timeseries", "short",
         [("sum by (timer) (rate(sla_timers_started_total[5m]))", "started {{timer}}"),
          ("sum by (timer) (rate(sla_timers_stopped_total[5m]))", "stopped {{timer}}")]),
        ("Escalation notifications by channel and outcome", "timeseries", "short",
         [("sum by (channel, outcome) (increase(sla_notifications_total[1h]))", "{{channel}} {{outcome}}")]),
        ("Breaches projected by reporting (total by timer)", "bargauge", "short", [("sum by (timer) (reporting_sla_breaches_total)", "{{timer}}")]),
        ("Approximate business-time answers (no holiday data)", "stat", "short",
         [("sum(increase(sla_approximate_results_total[1d]))", "approximate")]),
    ]),
    "Opsdesk: dispatch": ("opsdesk-dispatch", [
        ("Assignment latency p50 / p90", "timeseries", "s",
         [("histogram_quantile(0.5, sum by (le) (rate(dispatch_assignment_latency_seconds_bucket[5m])))", "p50"),
          ("histogram_quantile(0.9, sum by (le) (rate(dispatch_assignment_latency_seconds_bucket[5m])))", "p90")]),
        ("Assignments by engineer (today)", "bargauge", "short",
         [("sum by (engineer_id) (increase(dispatch_assignments_total[1d]))", "{{engineer_id}}")]),
        ("Tickets nobody could take yet", "timeseries", "short", [("sum(increase(dispatch_no_engineer_available_total[1h]))", "no engineer")]),
        ("Reassignments by who decided", "bargauge", "short", [("sum by (by) (reporting_tickets_reassigned_total)", "{{by}}")]),
        ("Escalations raised by kind", "bargauge", "short", [("sum by (kind) (reporting_escalations_raised_total)", "{{kind}}")]),
        ("Assignments recorded on tickets", "timeseries", "short", [("sum(rate(intake_assignments_recorded_total[5m]))", "recorded")]),
    ]),
    "Opsdesk: platform": ("opsdesk-platform", [
        ("HTTP p90 by service", "timeseries", "s",
         [("histogram_quantile(0.9, sum by (le, service) (rate(http_request_duration_seconds_bucket[5m])))", "{{service}}")]),
        ("HTTP requests by service and status", "timeseries", "reqps",
         [("sum by (service, status) (rate(http_request_duration_seconds_count[5m]))", "{{service}} {{status}}")]),
        ("Event handling p90 by service", "timeseries", "s",
         [("histogram_quantile(0.9, sum by (le, service) (rate(events_handled_seconds_bucket[5m])))", "{{service}}")]),
        ("Events handled by outcome", "timeseries", "short",
         [("sum by (service, outcome) (rate(events_handled_seconds_count[5m]))", "{{service}} {{outcome}}")]),
        ("Dead letters (per hour)", "timeseries", "short",
         [("sum by (subject) (increase(intake_dead_letters_total[1h]))", "intake {{subject}}"),
          ("sum by (subject) (increase(dispatch_dead_letters_total[1h]))", "dispatch {{subject}}"),
          ("sum by (subject) (increase(sla_dead_letters_total[1h]))", "sla {{subject}}"),
          ("sum by (subject) (increase(reporting_dead_letters_total[1h]))", "reporting {{subject}}")]),
        ("Ticket create time p90 (intake)", "timeseries", "s",
         [("histogram_quantile(0.9, sum by (le) (rate(intake_ticket_create_seconds_bucket[5m])))", "p90")]),
        ("Events projected by reporting", "timeseries", "short", [("sum by (type) (rate(reporting_events_projected_total[5m]))", "{{type}}")]),
        ("Report generation p90", "timeseries", "s",
         [("histogram_quantile(0.9, sum by (le, kind) (rate(reporting_report_generation_seconds_bucket[1h])))", "{{kind}}")]),
        ("Targets up", "stat", "short", [('sum by (service) (up{job="opsdesk"})', "{{service}}")]),
    ]),
}


def panel(n: int, title: str, kind: str, unit: str, queries: list[tuple[str, str]]) -> dict[str, object]:
    return {
        "id": n + 1, "title": title, "type": kind, "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": 12, "x": (n % 2) * 12, "y": (n // 2) * 8},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        "targets": [{"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}
                    for i, (expr, legend) in enumerate(queries)],
    }


def dashboard(title: str, uid: str, panels: list[tuple[str, str, str, list[tuple[str, str]]]]) -> dict[str, object]:
    return {
        "uid": uid, "title": title, "tags": ["opsdesk"], "timezone": "Asia/Shanghai", "schemaVersion": 39, "version": 1,
        "refresh": "30s", "time": {"from": "now-24h", "to": "now"}, "editable": False,
        "panels": [panel(n, *p) for n, p in enumerate(panels)],
    }


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for title, (uid, panels) in DASHBOARDS.items():
        path = OUT / f"{uid}.json"
        path.write_text(json.dumps(dashboard(title, uid, panels), ensure_ascii=False, indent=2) + "\n")
        print(path)


if __name__ == "__main__":
    main()
