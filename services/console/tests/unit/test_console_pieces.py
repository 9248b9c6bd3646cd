"""The console's pure pieces: queues, clocks, languages, sessions, CSRF, offered actions and the priority preview."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from console import actions, clock, i18n, queues
from console.session import Session, SessionSealer, csrf_matches

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def _t(**kw: object) -> dict[str, object]:
    return {"status": "new", "allowed_transitions": ["assigned", "in_progress", "pending", "resolved", "cancelled"], **kw}


def _zh(msg: str) -> str:
    return i18n.translations("zh-CN").gettext(msg)


def _zh_n(s: str, p: str, n: int) -> str:
    return i18n.translations("zh-CN").ngettext(s, p, n)


def test_relative_clock_reads_as_chinese_minutes_left_and_overdue() -> None:
    assert clock.relative(NOW + timedelta(minutes=35, seconds=20), NOW, _zh, _zh_n) == "剩余 35 分钟"
    assert clock.relative(NOW - timedelta(minutes=12), NOW, _zh, _zh_n) == "已逾期 12 分钟"


def test_clock_colour_follows_warning_and_due_times_and_paused_stays_paused() -> None:
    due = (NOW + timedelta(minutes=10)).isoformat()
    assert clock.clock_view({"name": "response", "state": "running", "due_at": due, "warning_at": (NOW - timedelta(minutes=1)).isoformat()}, NOW, _zh, _zh_n).css == "warning"
    assert clock.clock_view({"name": "response", "state": "running", "due_at": due, "warning_at": (NOW + timedelta(minutes=5)).isoformat()}, NOW, _zh, _zh_n).css == "ok"
    assert clock.clock_view({"name": "response", "state": "running", "due_at": (NOW - timedelta(seconds=1)).isoformat()}, NOW, _zh, _zh_n).css == "breached"
    assert clock.clock_view({"name": "response", "state": "paused", "due_at": due}, NOW, _zh, _zh_n).text == "已暂停"


def test_local_time_is_the_sites_wall_clock() -> None:
    assert clock.local_time("2026-11-30T02:00:00+00:00", ZoneInfo("Asia/Shanghai")) == "2026-11-30 10:00"


def test_language_from_accept_language_with_zh_cn_default_and_cookie_choice_first() -> None:
    assert i18n.negotiate(None) == "zh-CN"
    assert i18n.negotiate("zh-TW,zh;q=0.9") == "zh-TW"
    assert i18n.negotiate("en-US,en;q=0.9,zh-CN;q=0.8") == "en"
    assert i18n.negotiate("fr, zh-CN;q=0.5") == "zh-CN"
    assert i18n.negotiate("en", chosen="zh-TW") == "zh-TW"


def test_every_message_has_a_chinese_translation_in_both_catalogues() -> None:
    from babel.messages.pofile import read_po

    for folder in ("zh_CN", "zh_TW"):
        with (i18n.LOCALE_DIR / folder / "LC_MESSAGES" / "messages.po").open("rb") as fp:
            catalog = read_po(fp)
        missing = [m.id for m in catalog if m.id and not (m.string if isinstance(m.string, str) else all(m.string))]
        assert missing == [], folder


def test_each_chinese_catalogue_is_written_in_its_own_script() -> None:
    """zh-TW had 热線, 网頁, 语言, 切换, 回复, 密码, 暫无工單 (walk 15): a character OpenCC would change to the other
    script is a slip (台 and 群 are the ones Taiwan writes as they are)."""
    import opencc
    from babel.messages.pofile import read_po

    for folder, config, kept in (("zh_TW", "s2t", set("台群")), ("zh_CN", "t2s", set())):
        convert = opencc.OpenCC(config).convert
        with (i18n.LOCALE_DIR / folder / "LC_MESSAGES" / "messages.po").open("rb") as fp:
            catalog = read_po(fp)
        slips = []
        for m in catalog:
            for text in (m.string if isinstance(m.string, tuple) else (m.string,)) if m.id else ():
                wrong = {a for a, b in zip(text, convert(text), strict=False) if a != b} - kept
                if wrong:
                    slips.append((text, "".join(sorted(wrong))))
        assert slips == [], folder


def test_at_risk_and_breached_come_from_the_clocks() -> None:
    soon = _t(sla=[{"name": "response", "state": "running", "due_at": (NOW + timedelta(minutes=14)).isoformat()}])
    later = _t(sla=[{"name": "response", "state": "running", "due_at": (NOW + timedelta(minutes=40)).isoformat()}])
    warned = _t(sla=[{"name": "response", "state": "running", "due_at": (NOW + timedelta(minutes=40)).isoformat(),
                      "warning_at": (NOW - timedelta(minutes=1)).isoformat()}])
    late = _t(sla=[{"name": "response", "state": "breached", "due_at": (NOW - timedelta(minutes=1)).isoformat()}])
    assert queues.in_derived("at_risk", soon, NOW) and not queues.in_derived("at_risk", later, NOW)
    assert queues.in_derived("at_risk", warned, NOW)
    assert queues.in_derived("breached", late, NOW) and not queues.in_derived("at_risk", late, NOW)


def test_listed_queues_are_the_apis_filters_and_counts() -> None:
    listed = {q.key: dict(q.params) for q in queues.QUEUES if not q.derived}
    assert set(listed) == {"open", "mine", "held", "unassigned", "waiting", "review", "authorization"}  # GET /tickets/counts' fields
    assert listed["authorization"] == {"status": "awaiting_authorization"}  # the desk sees what waits for the agency
    assert listed["held"] == {"held": "true"} and listed["unassigned"] == {"unassigned": "true"}
    assert listed["review"] == {"status": "resolved", "review": "pending"} and listed["mine"]["handled_by"] == "me"
    assert [p for p in queues.queue("open").params] == [("status", s) for s in queues.OPEN_STATES]
    assert {q.key for q in queues.QUEUES if q.derived} == {"at_risk", "breached"}
    # The ticket page still decides its send-on and review buttons from the detail.
    assert queues.is_held(_t(desk_first=True)) and not queues.is_held(_t(desk_first=True, dispatch_requested_at="2026-11-30T10:00:00+08:00"))
    assert queues.awaits_review({"status": "resolved", "service_record": {"review": "pending"}})


def test_session_cookie_is_sealed_and_expires() -> None:
    sealer = SessionSealer("s" * 40)
    session = Session("jwt-token", "desk.zhou", "周敏", "agent", None, None, expires_at=NOW.timestamp() + 60)
    sealed = sealer.seal(session)
    assert "jwt-token" not in sealed
    assert sealer.open(sealed, now=NOW.timestamp()) == session
    assert sealer.open(sealed, now=NOW.timestamp() + 61) is None
    assert SessionSealer("t" * 40).open(sealed, now=NOW.timestamp()) is None
    assert sealer.open(sealed[:-2] + "xx", now=NOW.timestamp()) is None


def test_csrf_needs_both_values_equal() -> None:
    assert csrf_matches("abc", "abc") and not csrf_matches("abc", "abd") and not csrf_matches("", "") and not csrf_matches("a", None)


def test_offered_actions_follow_role_and_state() -> None:
    held = _t(desk_first=True)
    assert "dispatch" in actions.offered(held, "agent") and "resolve" in actions.offered(held, "agent")
    assert actions.offered(held, "requester") == ["comment"]
    assert actions.offered(held, "auditor") == []
    closed = {"status": "closed", "allowed_transitions": []}
    assert actions.offered(closed, "agent") == []
    review = {"status": "resolved", "allowed_transitions": ["closed", "in_progress"], "service_record": {"review": "pending"}}
    offered = actions.offered(review, "agent")
    assert "review" in offered and "close" not in offered


async def test_priority_preview_reads_the_apis_matrix_once_and_keeps_no_copy() -> None:
    """Intake owns impact x urgency -> priority (GET /catalog/priority-matrix); the console only looks it up."""
    from types import SimpleNamespace

    import httpx

    from console.api import Gateway
    from console.pages.calls import priority_preview_of
    from intake.priority import MATRIX

    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        cells = [{"impact": i, "urgency": u, "priority": p} for (i, u), p in MATRIX.items()]
        return httpx.Response(200, json={"levels": ["high", "medium", "low"], "cells": cells})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://gw") as client:
        ctx = SimpleNamespace(console=SimpleNamespace(cache={}), api=Gateway(client), token="t", lang="zh-CN")
        assert await priority_preview_of(ctx, "medium", "high") == "P2"  # type: ignore[arg-type]
        assert await priority_preview_of(ctx, "low", "low") == "P4"  # type: ignore[arg-type]
        assert await priority_preview_of(ctx, "high", None) is None  # type: ignore[arg-type]
    assert seen == ["/api/v1/catalog/priority-matrix"]
