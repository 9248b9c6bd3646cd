"""What each notification says, in zh-CN (the default), zh-TW and en: the message catalogue for notifications.

Same convention as the error catalogue (opsdesk_shared.errors.MESSAGES): one entry per code with the three languages
in a fixed order. Fields are filled by name; a field an event did not carry shows as "-" rather than failing, so a
notification is never lost to a template.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from opsdesk_shared.contracts.reasons import render_reason
from opsdesk_shared.localtime import to_local

Language = Literal["zh-CN", "zh-TW", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
EventKind = Literal[
    "assigned", "needs_answer", "resolved", "breach", "escalation", "authorization_waiting", "report_submitted",
    "report_returned", "incident_raised", "replacement_requested", "replacement_answered", "test",
]
EVENT_KINDS: tuple[EventKind, ...] = get_args(EventKind)

# kind: ((title, body) in zh-CN, zh-TW, en)
TEMPLATES: dict[str, tuple[tuple[str, str], tuple[str, str], tuple[str, str]]] = {
    "assigned": (
        ("【运维】工单 {number} 已派给您", "工单 {number}（{title}）已派给 {engineer_name}。{reason}"),
        ("【運維】工單 {number} 已派給您", "工單 {number}（{title}）已派給 {engineer_name}。{reason}"),
        ("[Opsdesk] Ticket {number} assigned to you", "Ticket {number} ({title}) is assigned to {engineer_name}. {reason}"),
    ),
    "needs_answer": (
        ("【运维】工单 {number} 需要您答复", "{engineer_name} 在工单 {number} 上请求协助：{description}"),
        ("【運維】工單 {number} 需要您答覆", "{engineer_name} 在工單 {number} 上請求協助：{description}"),
        ("[Opsdesk] Ticket {number} needs your answer", "{engineer_name} asks for help on ticket {number}: {description}"),
    ),
    "resolved": (
        ("【运维】工单 {number} 已解决", "工单 {number} 已于 {resolved_at} 解决：{resolution}"),
        ("【運維】工單 {number} 已解決", "工單 {number} 已於 {resolved_at} 解決：{resolution}"),
        ("[Opsdesk] Ticket {number} resolved", "Ticket {number} was resolved at {resolved_at}: {resolution}"),
    ),
    "breach": (
        ("【超时】{what} 的{timer_name}已超时", "{what} 的{timer_name}应于 {due_at} 前完成，已超时（{calendar}）。请立即处理。"),
        ("【逾時】{what} 的{timer_name}已逾時", "{what} 的{timer_name}應於 {due_at} 前完成，已逾時（{calendar}）。請立即處理。"),
        ("[SLA breached] {timer_name} on {what}", "The {timer_name} on {what} was due by {due_at} and is missed ({calendar}). Act now."),
    ),
    "escalation": (
        ("【升级】{what} 已升级至第 {level} 级", "{what}：{description}（升级对象：{role}）"),
        ("【升級】{what} 已升級至第 {level} 級", "{what}：{description}（升級對象：{role}）"),
        ("[Escalation] {what} escalated to level {level}", "{what}: {description} (escalated to: {role})"),
    ),
    "authorization_waiting": (
        ("【待授权】工单 {number} 等待信息中心授权", "工单 {number}（{service}）须经授权方可开展工作，请审批。{note}"),
        ("【待授權】工單 {number} 等待資訊中心授權", "工單 {number}（{service}）須經授權方可開展工作，請審批。{note}"),
        ("[Authorization] Ticket {number} awaits your authorization", "Work on ticket {number} ({service}) needs your authorization. {note}"),
    ),
    "report_submitted": (
        ("【报告】{report} 已提交，请签收", "{report}（{period}）已于 {at} 提交，请确认或退回。"),
        ("【報告】{report} 已提交，請簽收", "{report}（{period}）已於 {at} 提交，請確認或退回。"),
        ("[Report] {report} submitted for sign-off", "{report} ({period}) was submitted at {at}; acknowledge or return it."),
    ),
    "report_returned": (
        ("【报告】{report} 被退回", "{report}（{period}）被信息中心退回：{comments}"),
        ("【報告】{report} 被退回", "{report}（{period}）被資訊中心退回：{comments}"),
        ("[Report] {report} returned", "{report} ({period}) was returned by the agency: {comments}"),
    ),
    "incident_raised": (
        ("【安全事件】{kind}（{severity}）", "{at}：{who} {what}。事件编号 {incident_id}。"),
        ("【安全事件】{kind}（{severity}）", "{at}：{who} {what}。事件編號 {incident_id}。"),
        ("[Security incident] {kind} ({severity})", "{at}: {who} {what}. Incident {incident_id}."),
    ),
    # The agency's request to replace an engineer (to the project manager) and the manager's answer (to the agency).
    "replacement_requested": (
        ("【更换人员】信息中心要求更换 {engineer}", "信息中心于 {requested_at} 要求更换工程师 {engineer}：{reason}。请于 {answer_due_at} 前答复。"),
        ("【更換人員】資訊中心要求更換 {engineer}", "資訊中心於 {requested_at} 要求更換工程師 {engineer}：{reason}。請於 {answer_due_at} 前答覆。"),
        ("[Replacement] The agency asks to replace {engineer}",
         "On {requested_at} the agency asked to replace engineer {engineer}: {reason}. Answer by {answer_due_at}."),
    ),
    "replacement_answered": (
        ("【更换人员】项目经理已答复：更换 {engineer}", "{answered_at} 答复：{plan}。于 {replace_by} 前完成更换。"),
        ("【更換人員】專案經理已答覆：更換 {engineer}", "{answered_at} 答覆：{plan}。於 {replace_by} 前完成更換。"),
        ("[Replacement] The project manager answered on {engineer}", "Answered at {answered_at}: {plan}. Replaced by {replace_by}."),
    ),
    "test": (
        ("【运维】测试消息", "这是渠道 {channel} 的测试消息，收到即表示配置正确。"),
        ("【運維】測試訊息", "這是管道 {channel} 的測試訊息，收到即表示設定正確。"),
        ("[Opsdesk] Test message", "This is a test message for channel {channel}; if you read it, the channel works."),
    ),
}

TIMER_NAMES: dict[str, tuple[str, str, str]] = {
    "response": ("响应时限", "回應時限", "response commitment"),
    "dispatch": ("派单时限", "派單時限", "dispatch commitment"),
    "confirmation": ("接单确认时限", "接單確認時限", "confirmation commitment"),
    "onsite": ("到场时限", "到場時限", "on-site commitment"),
    "redispatch": ("改派时限", "改派時限", "re-dispatch commitment"),
    "escalation": ("升级处理时限", "升級處理時限", "escalation commitment"),
    "remote_guidance": ("远程指导时限", "遠端指導時限", "remote guidance commitment"),
    # The agency's decision on emergency work that went out first (issue 16).
    "authorization": ("信息中心授权时限", "資訊中心授權時限", "agency authorization commitment"),
}
WHAT: dict[str, tuple[str, str, str]] = {
    "ticket": ("工单 {ref}", "工單 {ref}", "ticket {ref}"),
    "repair": ("送修 {ref}", "送修 {ref}", "repair {ref}"),
}
# Codes the events carry, in the reader's words (walk 6a: the agency's bell read "service-summary 已提交" and
# "【安全事件】unauthorized_ticket_act（low）"). An unknown code is shown as it is.
REPORT_NAMES: dict[str, tuple[str, str, str]] = {
    "service-summary": ("月度服务总结", "月度服務總結", "Monthly service summary"),
    "repair-summary": ("月度维修总结", "月度維修總結", "Monthly repair summary"),
    "om-monthly": ("运维月报告", "運維月報告", "O&M monthly report"),
    "om-quarterly": ("运维季度报告", "運維季度報告", "O&M quarterly report"),
    "om-annual": ("运维年度报告", "運維年度報告", "O&M annual report"),
    "major-incident": ("重大事件服务报告", "重大事件服務報告", "Major incident report"),
    "inspection": ("巡检报告", "巡檢報告", "Monthly inspection report"),
    "quality-self-check": ("服务质量自检报告", "服務品質自檢報告", "Service quality self-check"),
    "security-analysis": ("安全分析报告", "安全分析報告", "Security analysis report"),
    "manual": ("维护手册", "維護手冊", "Maintenance manual"),
}
RULE_NAMES: dict[str, tuple[str, str, str]] = {
    "unauthorized_ticket_act": ("未经授权处理工单", "未經授權處理工單", "Act on unauthorized work"),
    "unauthorized_ci_change": ("未经授权变更配置项", "未經授權變更配置項", "Unauthorized configuration change"),
    "unauthorized_repair": ("未经授权送修设备", "未經授權送修設備", "Device sent for repair without authorization"),
}
SEVERITY_NAMES: dict[str, tuple[str, str, str]] = {
    "low": ("低，未遂", "低，未遂", "low, attempt refused"),
    "normal": ("一般", "一般", "normal"),
    "high": ("高", "高", "high"),
    "major": ("重大", "重大", "major"),
    "critical": ("严重", "嚴重", "critical"),
}
WALL_CLOCK = ("自然时间", "自然時間", "wall clock")
BATCH_HEADER = ("共 {count} 条通知", "共 {count} 則通知", "{count} notifications")


class _Filled(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "-"


def _index(language: str) -> int:
    return LANGUAGES.index(language) if language in LANGUAGES else 0


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_local(value).strftime("%Y-%m-%d %H:%M")
    return "-" if value is None else value


def render(kind: str, language: str, fields: dict[str, Any]) -> tuple[str, str]:
    """(title, body) for an event kind in a language (unknown languages get zh-CN)."""
    i = _index(language)
    values = _Filled({k: _value(v) for k, v in fields.items()})
    if not fields.get("number") and fields.get("ticket_id"):
        values["number"] = fields["ticket_id"]
    if "timer" in fields and "timer_name" not in fields:
        values["timer_name"] = TIMER_NAMES.get(str(fields["timer"]), (str(fields["timer"]),) * 3)[i]
    if "calendar" in fields and not fields.get("calendar"):
        values["calendar"] = WALL_CLOCK[i]
    if "what" not in fields:
        if fields.get("repair_id"):
            values["what"] = WHAT["repair"][i].format(ref=fields["repair_id"])
        elif fields.get("number") or fields.get("ticket_id"):
            values["what"] = WHAT["ticket"][i].format(ref=fields.get("number") or fields["ticket_id"])
    if fields.get("reason_code"):
        # Dispatch's reason as its code (ticket.assigned): in the reader's words, not the English text for staff.
        values["reason"] = render_reason(str(fields["reason_code"]), fields.get("reason_params") or {}, LANGUAGES[i])
    if kind in ("report_submitted", "report_returned") and str(fields.get("report")) in REPORT_NAMES:
        values["report"] = REPORT_NAMES[str(fields["report"])][i]
    if kind == "incident_raised":
        values["kind"] = RULE_NAMES.get(str(fields.get("kind")), (str(fields.get("kind") or "-"),) * 3)[i]
        values["severity"] = SEVERITY_NAMES.get(str(fields.get("severity")), (str(fields.get("severity") or "-"),) * 3)[i]
    if kind == "authorization_waiting" and not fields.get("note"):
        values["note"] = ""  # an optional remark: nothing rather than a dash after the sentence
    if "title" not in fields and "service" in fields:
        values["title"] = _value(fields["service"])
    title, body = TEMPLATES[kind][i]
    return title.format_map(values), body.format_map(values).strip()


def batch(language: str, messages: list[tuple[str, str]]) -> tuple[str, str]:
    """Several notifications to one robot as one message (a robot takes about 20 messages a minute)."""
    if len(messages) == 1:
        return messages[0]
    title = BATCH_HEADER[_index(language)].format(count=len(messages))
    return title, "\n\n".join(f"{n}. {t}\n{b}" for n, (t, b) in enumerate(messages, start=1))
