"""A re-dispatch (after a delay, or the desk's override) scores and plans the visit for the engineer it goes to;
the first engineer's score and vehicle decision say nothing about the second (issue 13, item 17)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from dispatch import domain
from dispatch.domain import Actor, Engineer
from opsdesk_shared.contracts import TicketCreatedV1

DESK = Actor(subject="desk-王", role="agent")


def _roster(engineer: Callable[..., Engineer]) -> list[Engineer]:
    return [
        engineer("eng-main", home_site="主楼", skills=("printer",)),
        engineer("eng-annex", home_site="副楼", skills=("printer",), open_load=3),
    ]


def test_a_delay_re_dispatch_scores_and_plans_for_the_new_engineer(
    engineer: Callable[..., Engineer], ticket: Callable[..., TicketCreatedV1], now: datetime
) -> None:
    roster = _roster(engineer)
    first, _ = domain.assign(ticket(site="主楼"), roster, now=now)
    assert first.engineer_id == "eng-main" and first.vehicle is False and first.visit_note == "on foot: same building"

    holder = Actor(subject="u-main", role="engineer", engineer_id="eng-main")
    moved, _ = domain.delay(first, reason="堵车", cannot_go=True, actor=holder, roster=roster, now=now)

    annex = roster[1]
    assert moved.engineer_id == "eng-annex"
    assert moved.score == domain.score(annex, skill="printer") != first.score
    assert moved.vehicle is True and moved.mode == "visit" and moved.visit_note == "vehicle: 主楼 is not 副楼"


def test_a_desk_reassign_plans_for_the_engineer_chosen_and_has_no_score(
    engineer: Callable[..., Engineer], ticket: Callable[..., TicketCreatedV1], now: datetime
) -> None:
    roster = _roster(engineer)
    first, _ = domain.assign(ticket(site="副楼"), roster, now=now)
    assert first.engineer_id == "eng-main" and first.vehicle is True

    moved, _ = domain.reassign(first, to=roster[1], reason="熟悉该打印机", actor=DESK, now=now)

    assert moved.score is None  # a person's choice: dispatch scored nobody (H14 item 6; was the 15.0-style score)
    assert moved.vehicle is False and moved.visit_note == "on foot: same building"


def test_the_phone_on_call_the_desk_sends_on_site_is_called_in_not_on_phone_duty(
    engineer: Callable[..., Engineer], ticket: Callable[..., TicketCreatedV1]
) -> None:
    """Hand walk H14 item 6: a desk reassign of work on site to the phone on-call showed mode visit with duty phone."""
    from dispatch.duty import Shift

    at = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday, 20:00 in Shanghai
    phone = engineer("eng-phone", shifts=(Shift(weekdays=(0, 1, 2, 3, 4, 5, 6), start="00:00", end="23:59", mode="phone"),))
    day = engineer("eng-day")
    first, _ = domain.assign(ticket(), [day], now=at)
    moved, event = domain.reassign(first, to=phone, reason="他在附近", actor=DESK, now=at)
    assert domain.duty_of(phone, at) == "phone"
    assert (moved.mode, moved.duty, moved.score) == ("visit", "called_in", None)
    assert (event.mode, event.duty) == ("visit", "called_in")  # type: ignore[union-attr]


def test_the_visit_note_is_a_code_the_reader_gets_in_their_language(
    engineer: Callable[..., Engineer], ticket: Callable[..., TicketCreatedV1], now: datetime
) -> None:
    """issue 15: the engineer's page showed the English note; the assignment keeps a code and the edge renders it."""
    from dispatch.entrypoints.http import _localized

    roster = _roster(engineer)
    first, _ = domain.assign(ticket(site="副楼"), roster, now=now)
    assert first.visit_note_code == "visit.other_site" and first.visit_note_params == {"site": "副楼", "home_site": "主楼"}
    assert _localized(first, "zh-CN").visit_note == "需用车：副楼 不在 主楼"
    assert _localized(first, "zh-TW").visit_note == "需用車：副楼 不在 主楼"
    assert _localized(first, "en").visit_note == first.visit_note == "vehicle: 副楼 is not 主楼"
    moved, _ = domain.reassign(first, to=roster[1], reason="熟悉该打印机", actor=DESK, now=now)
    assert moved.visit_note_code == "visit.same_site" and _localized(moved, "zh-CN").visit_note == "步行：同一栋楼"
    older = first.model_copy(update={"visit_note_code": None})  # stored before the code: as it was written
    assert _localized(older, "zh-CN").visit_note == "vehicle: 副楼 is not 主楼"
