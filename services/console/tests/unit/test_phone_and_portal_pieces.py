"""The phone's and the portal's pure pieces: the engineer's order of urgency and next steps (dispatch's table), the
service record's body, the common problems mapped to catalog services by name, and the timeline's system actors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from console import actions, i18n, problems, work
from console.pages.engineer import step_body
from console.timeline import timeline

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def _job(status: str, *, due_in: int | None = None, priority: str = "P3", overdue: bool = False, assigned: str = "09:00") -> work.Job:
    sla = [{"name": "confirmation", "state": "running", "due_at": (NOW + timedelta(minutes=due_in)).isoformat()}] if due_in is not None else []
    a = {"ticket_id": f"t-{status}-{due_in}-{priority}", "ticket_number": f"INC-{due_in}", "status": status, "overdue": overdue,
         "assigned_at": f"2026-11-30T{assigned}:00+08:00"}
    return work.Job(a, {"priority": priority, "sla": sla})


def test_assignments_in_order_of_urgency_overdue_then_due_then_priority() -> None:
    later = _job("accepted", due_in=50, priority="P1")
    sooner = _job("open", due_in=5, priority="P4")
    breached = _job("confirmed", due_in=-3, priority="P4")
    overdue = _job("accepted", due_in=None, overdue=True)
    no_clock_p2 = _job("open", priority="P2")
    no_clock_p3 = _job("open", priority="P3", assigned="08:00")
    done = _job("completed", due_in=-60, priority="P1")
    order = work.in_order([done, no_clock_p3, later, no_clock_p2, sooner, overdue, breached], NOW)
    assert order == [breached, overdue, sooner, later, no_clock_p2, no_clock_p3, done]


def test_the_big_button_is_the_days_next_move_and_confirming_stays_the_desks() -> None:
    assert _job("open").primary == "accept" and "complete" in _job("open").steps
    assert _job("accepted").primary == "eta" and "confirm" not in _job("accepted").steps
    assert _job("confirmed").primary == "complete" and set(_job("confirmed").secondary) == {"delay", "escalate", "help"}
    assert _job("completed").primary is None and _job("completed").steps == ()
    offered = actions.offered({"status": "in_progress", "allowed_transitions": ["pending", "resolved"],
                               "assignee": {"engineer_id": "e1", "accepted_at": "x"}}, "agent")
    assert "confirm" in offered
    assert "confirm" not in actions.offered({"status": "in_progress", "allowed_transitions": [],
                                             "assignee": {"engineer_id": "e1", "confirmed_at": "x"}}, "agent")


class _Ctx:
    pass


def test_service_record_body_takes_stock_parts_and_own_words_and_skips_empty_rows() -> None:
    path, body = step_body(_Ctx(), "complete", {  # type: ignore[arg-type]
        "work_done": " 更换硒鼓 ", "minutes_on_site": "25", "sku_0": "toner-hp26a", "qty_0": "2", "part_1": "电源线", "qty_1": "x",
        "sku_2": "", "part_2": "", "qty_2": "1",
    })
    assert path == "complete"
    assert body == {"work_done": "更换硒鼓", "minutes_on_site": 25,
                    "parts_used": [{"sku": "toner-hp26a", "quantity": 2}, {"part": "电源线", "quantity": 1}]}
    assert step_body(_Ctx(), "escalate", {"kind": "other", "description": "d"}) == ("escalations", {"kind": "other", "description": "d"})  # type: ignore[arg-type]
    assert step_body(_Ctx(), "delay", {"reason": "堵车", "cannot_go": "on"})[1] == {"reason": "堵车", "cannot_go": True}  # type: ignore[arg-type]


def test_common_problems_map_to_catalog_services_by_chinese_name_and_never_show_codes() -> None:
    catalog: list[dict[str, Any]] = [
        {"code": "RS-REPAIR", "name": "Equipment repair", "labels": {"name": {"zh-CN": "设备维修"}}, "active": True},
        {"code": "RS-ONSITE", "name": "现场维护", "active": True},
        {"code": "RS-OTHER", "name": "其他支持服务", "active": False},
    ]
    offered = dict((p.key, code) for p, code in problems.offered(catalog))
    assert offered == {"pc": "RS-ONSITE", "printer": "RS-REPAIR", "network": "RS-ONSITE", "broken": "RS-REPAIR"}
    assert problems.service_for("software", catalog) is None  # its service is inactive: left out, not guessed
    zh = i18n.translations("zh-CN")
    for p in problems.COMMON:
        label = zh.gettext(p.label)
        assert label != p.label and "-" not in label, p.label


def test_timeline_names_automatic_acts_in_the_readers_language() -> None:
    history = [{"at": "2026-11-30T10:00:00+08:00", "by": "dispatch", "by_name": "Dispatch",
                "changes": {"status": {"old": "new", "new": "assigned"}}},
               {"at": "2026-11-30T10:05:00+08:00", "by": "li.na", "by_name": "李娜", "changes": {"status": {"old": "assigned", "new": "cancelled"}}}]
    items = timeline({"comments": []}, history)
    assert items[0]["system"] == "Automatic dispatch" and i18n.translations("zh-CN").gettext(items[0]["system"]) == "系统派单"
    assert i18n.translations("zh-TW").gettext(items[0]["system"]) == "系統派單"
    assert items[1]["system"] is None and items[1]["who"] == "李娜"


def test_a_delay_that_left_the_job_with_the_engineer_says_so_with_dispatchs_reason() -> None:
    """Walk 15: out of service hours dispatch holds a delayed job for the next shift; the phone went back to the list,
    which showed the job unchanged, as if the delay were lost."""
    from console.pages.engineer import still_mine_after_delay

    say = i18n.translations("zh-CN").gettext
    held = {"engineer_id": "eng-mobile-1", "history": [
        {"action": "delayed", "note": "堵车"},
        {"action": "not re-dispatched", "note": "服务时间外：上门工作顺延至 2026-12-01 08:30", "code": "held_after_hours"}]}
    assert still_mine_after_delay(held, "eng-mobile-1", say) == "已报告延误。任务暂时仍由你负责：服务时间外：上门工作顺延至 2026-12-01 08:30"
    assert still_mine_after_delay({**held, "history": held["history"][:1]}, "eng-mobile-1", say) == "已报告延误。任务暂时仍由你负责。"
    moved_on = {**held, "engineer_id": "eng-onsite-2"}
    assert still_mine_after_delay(moved_on, "eng-mobile-1", say) is None  # re-dispatched: back to the list, as before
    assert still_mine_after_delay(held, None, say) is None
