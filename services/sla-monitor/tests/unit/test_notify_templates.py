"""Notification templates: every event kind in zh-CN, zh-TW and en, with the event's facts in the text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sla_monitor.notifications import templates
from sla_monitor.notifications.templates import EVENT_KINDS, LANGUAGES, TEMPLATES, render

T0 = datetime(2026, 11, 30, 6, 30, tzinfo=UTC)  # 14:30 in Shanghai


def test_every_event_kind_has_a_template_in_every_language() -> None:
    assert set(TEMPLATES) == set(EVENT_KINDS)
    for kind in EVENT_KINDS:
        titles = [render(kind, lang, {})[0] for lang in LANGUAGES]
        assert len(set(titles)) >= 2, kind  # zh-CN and en differ at least
        assert all(t and "{" not in t for t in titles), kind


def test_breach_names_the_clock_the_ticket_and_local_due_time_in_chinese() -> None:
    title, body = render("breach", "zh-CN", {"ticket_id": "t-9", "number": "INC-2026-000042", "timer": "response",
                                             "due_at": T0, "calendar": "office-hours"})
    assert title == "【超时】工单 INC-2026-000042 的响应时限已超时"
    assert "2026-11-30 14:30" in body and "office-hours" in body


def test_breach_in_traditional_chinese_and_english() -> None:
    fields = {"ticket_id": "t-9", "timer": "onsite", "due_at": T0, "calendar": None}
    assert render("breach", "zh-TW", fields)[0] == "【逾時】工單 t-9 的到場時限已逾時"
    title, body = render("breach", "en", fields)
    assert title == "[SLA breached] on-site commitment on ticket t-9" and "wall clock" in body


def test_a_repair_breach_names_the_repair() -> None:
    assert "送修 rep-7" in render("breach", "zh-CN", {"ticket_id": "", "repair_id": "rep-7", "timer": "repair_return"})[0]


def test_missing_fields_show_as_a_dash_rather_than_failing() -> None:
    title, body = render("report_returned", "zh-CN", {"report": "月度服务报告"})
    assert title == "【报告】月度服务报告 被退回" and "-" in body


def test_unknown_language_falls_back_to_simplified_chinese() -> None:
    assert render("assigned", "fr", {"ticket_id": "t-1"})[0] == "【运维】工单 t-1 已派给您"


@pytest.mark.parametrize("lang,header", [("zh-CN", "共 3 条通知"), ("zh-TW", "共 3 則通知"), ("en", "3 notifications")])
def test_a_batch_joins_messages_under_a_count(lang: str, header: str) -> None:
    title, body = templates.batch(lang, [("a", "1"), ("b", "2"), ("c", "3")])
    assert title == header and body.startswith("1. a\n1") and "3. c\n3" in body


def test_a_batch_of_one_is_the_message_itself() -> None:
    assert templates.batch("zh-CN", [("t", "b")]) == ("t", "b")


def test_codes_read_as_names_in_the_readers_language() -> None:
    """Walk 6a: the agency's bell showed report kinds, the incident's rule and severity as codes, and a dash for a
    missing note."""
    title, body = render("report_submitted", "zh-CN", {"report": "service-summary", "period": "2026-11", "at": T0})
    assert title == "【报告】月度服务总结 已提交，请签收" and "service-summary" not in body
    assert render("report_returned", "zh-TW", {"report": "repair-summary", "comments": "补充"})[0] == "【報告】月度維修總結 被退回"
    assert render("report_submitted", "zh-CN", {"report": "om-weekly"})[0] == "【报告】om-weekly 已提交，请签收"  # unknown: as is
    title, _ = render("incident_raised", "zh-CN", {"kind": "unauthorized_ticket_act", "severity": "low"})
    assert title == "【安全事件】未经授权处理工单（低，未遂）"
    assert render("incident_raised", "en", {"kind": "unauthorized_repair", "severity": "high"})[0] == (
        "[Security incident] Device sent for repair without authorization (high)")
    _, body = render("authorization_waiting", "zh-CN", {"number": "INC-1", "service": "现场维护"})
    assert body == "工单 INC-1（现场维护）须经授权方可开展工作，请审批。"
