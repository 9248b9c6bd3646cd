"""Outside service hours (the contract: on site 5x8, by phone at other times) work on site is not given to the phone
on-call: it goes to someone who can go, or waits for the next on-site period; the phone on-call gets remote work only.
A re-dispatch scores and plans for the engineer it goes to, and says why in a code with parameters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dispatch import domain, service
from dispatch.adapters.memory import MemoryAssignmentStore, MemoryOutbox, MemoryRoster
from dispatch.domain import DEMO_ROSTER, Actor, Engineer, OutsideServiceHours
from dispatch.duty import OFFICE_HOURS, next_onsite_start
from opsdesk_shared.contracts import NoEngineerAvailableV1, TicketAssignedV1, TicketCreatedV1, TicketReassignedV1

SHANGHAI = ZoneInfo("Asia/Shanghai")
DESK = Actor(subject="desk-周", role="agent")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


THURSDAY_EVENING = local(2026, 11, 26, 20, 0)
FRIDAY_MORNING = local(2026, 11, 27, 8, 30)


@pytest.mark.parametrize(
    ("at", "until"),
    [
        pytest.param(THURSDAY_EVENING, FRIDAY_MORNING, id="evening-next-morning"),
        pytest.param(local(2026, 11, 26, 12, 30), local(2026, 11, 26, 14, 0), id="lunch-afternoon"),
        pytest.param(local(2026, 11, 27, 17, 30), local(2026, 11, 30, 8, 30), id="friday-close-monday"),
        pytest.param(local(2026, 11, 29, 23, 59), local(2026, 11, 30, 8, 30), id="sunday-night-monday"),
    ],
)
def test_work_on_site_outside_hours_is_held_until_the_next_on_site_period(
    ticket: Callable[..., TicketCreatedV1], at: datetime, until: datetime
) -> None:
    with pytest.raises(OutsideServiceHours) as held:
        domain.assign(ticket(channel="hotline", service_code="RS-REPAIR"), list(DEMO_ROSTER), now=at)
    assert held.value.until == until
    assert held.value.code == "held_after_hours"


def test_the_phone_on_call_gets_remote_work_out_of_hours(ticket: Callable[..., TicketCreatedV1]) -> None:
    a, event = domain.assign(ticket(channel="remote_desktop", service_code="RS-OTHER"), list(DEMO_ROSTER), now=THURSDAY_EVENING)
    assert a.engineer_id == "eng-mobile-1" and a.mode == "remote" and a.vehicle is False and a.duty == "phone"
    assert event.duty == "phone" and event.mode == "remote" and event.reason_code == "chosen"
    assert event.reason_params["duty"] == "phone"
    assert event.number == a.ticket_number  # the number people are told rides on the event (no wait on ticket.created)


def test_someone_on_site_duty_out_of_hours_takes_work_on_site(
    ticket: Callable[..., TicketCreatedV1], engineer: Callable[..., Engineer]
) -> None:
    """An engineer whose rota has them on site now (a holiday duty, a night shift) can go."""
    night = engineer("eng-night", shifts=(domain.Shift(weekdays=(3,), start="18:00", end="24:00"),), home_site="主楼")
    roster = [*DEMO_ROSTER, night]
    a, _ = domain.assign(ticket(site="主楼"), roster, now=THURSDAY_EVENING)
    assert a.engineer_id == "eng-night" and a.mode == "visit" and a.duty == "onsite" and a.vehicle is False


def test_in_hours_with_nobody_on_site_free_an_off_duty_engineer_is_called_in_but_never_the_phone_on_call(
    ticket: Callable[..., TicketCreatedV1], engineer: Callable[..., Engineer]
) -> None:
    morning = domain.Shift(start="08:30", end="12:00")
    roster = [
        engineer("eng-busy", shifts=(morning,), status="busy"),
        engineer("eng-phone", shifts=(domain.Shift(start="08:30", end="12:00", mode="phone"),)),
    ]
    with pytest.raises(domain.NoEngineerAvailable) as nobody:
        domain.choose_for("printer", roster, at=local(2026, 11, 26, 10, 0), work="visit")
    assert not isinstance(nobody.value, OutsideServiceHours)  # in hours: retried as engineers free up
    roster.append(engineer("eng-off", shifts=OFFICE_HOURS[1:]))  # afternoons only
    chosen, _, reason = domain.choose_for("printer", roster, at=local(2026, 11, 26, 10, 0), work="visit")
    assert chosen.id == "eng-off" and "off duty, called in" in reason


def test_next_onsite_start_ignores_phone_shifts_and_a_rota_less_engineer_is_on_site_now() -> None:
    assert next_onsite_start([tuple(DEMO_ROSTER[2].shifts)], THURSDAY_EVENING) == FRIDAY_MORNING
    assert next_onsite_start([(domain.Shift(start="00:00", end="24:00", mode="phone"),)], THURSDAY_EVENING) is None
    assert next_onsite_start([()], THURSDAY_EVENING) == THURSDAY_EVENING


async def test_a_held_ticket_is_announced_and_taken_at_the_start_of_the_next_period_with_a_fresh_score(
    ticket: Callable[..., TicketCreatedV1],
) -> None:
    roster, store, outbox = MemoryRoster(DEMO_ROSTER), MemoryAssignmentStore(), MemoryOutbox()
    created = ticket(channel="hotline", service_code="RS-REPAIR", site="副楼")

    held = await service.assign_ticket(created, roster=roster, assignments=store, outbox=outbox, now=THURSDAY_EVENING,
                                       correlation_id="c", causation_id=None)

    assert held.status == "unassigned" and held.engineer_id == "" and held.held_until == FRIDAY_MORNING
    assert held.reason_code == "held_after_hours" and held.history[-1].action == "held"
    said = NoEngineerAvailableV1.model_validate(outbox.published[-1].data)
    assert said.held_until == FRIDAY_MORNING and said.reason_code == "held_after_hours"
    assert all(e.open_load == 0 for e in await roster.engineers())  # nobody's load, nobody's confirmation clock

    early = await service.assign_waiting(created.ticket_id, roster=roster, assignments=store, outbox=outbox,
                                         now=local(2026, 11, 27, 8, 29), correlation_id="c")
    assert early is None and len(outbox.published) == 1

    taken = await service.assign_waiting(created.ticket_id, roster=roster, assignments=store, outbox=outbox,
                                         now=FRIDAY_MORNING, correlation_id="c")
    assert taken is not None and taken.status == "open" and taken.held_until is None
    assert taken.duty == "onsite" and taken.mode == "visit" and taken.assigned_at == FRIDAY_MORNING
    assigned = TicketAssignedV1.model_validate(outbox.published[-1].data)
    assert assigned.assigned_at == FRIDAY_MORNING and assigned.reason_code == "chosen" and assigned.duty == "onsite"
    assert assigned.number == created.number  # a held ticket's late assignment names its number too
    chosen = next(e for e in DEMO_ROSTER if e.id == taken.engineer_id)
    assert taken.score == domain.score(chosen, skill="printer") == assigned.reason_params["score"]
    # The visit plan is the chosen engineer's: a vehicle when their building is not the ticket's.
    assert taken.vehicle is (chosen.home_site != "副楼")


async def test_a_delay_out_of_hours_never_re_dispatches_work_on_site_to_the_phone_on_call(
    ticket: Callable[..., TicketCreatedV1], engineer: Callable[..., Engineer]
) -> None:
    """Called out by the desk at night, the engineer cannot go after all: the phone on-call cannot either."""
    roster = list(DEMO_ROSTER)
    first, _ = domain.reassign(
        domain.waiting(ticket(), why=OutsideServiceHours(until=FRIDAY_MORNING, work="visit"), now=THURSDAY_EVENING)[0],
        to=roster[0], reason="局长办公室打印机,要求今晚到场", actor=DESK, now=THURSDAY_EVENING,
    )
    assert first.engineer_id == roster[0].id and first.mode == "visit" and first.duty == "called_in"
    assert first.reason_code == "desk" and first.reason == "局长办公室打印机,要求今晚到场"
    holder = Actor(subject="chen", role="engineer", engineer_id=roster[0].id)
    # Hand walk H14 item 5: this was a 409 allowing only "reassign" (not the engineer's step) and the report was lost.
    kept, events = domain.delay(first, reason="车坏了", cannot_go=True, actor=holder, roster=roster,
                                now=local(2026, 11, 26, 20, 10))
    assert [type(e).__name__ for e in events] == ["AssignmentDelayedV1"]
    assert events[0].cannot_go is True and events[0].reason == "车坏了"  # type: ignore[attr-defined]
    assert kept.engineer_id == first.engineer_id and kept.status == first.status  # nobody else can go: still theirs
    assert [(s.action, s.by, s.note) for s in kept.history[-2:-1]] == [("delayed", "chen", "车坏了")]
    assert kept.history[-1].code == "held_after_hours" and kept.history[-1].params["until"] == FRIDAY_MORNING.isoformat()


def test_a_delay_re_dispatch_carries_the_new_engineers_score_and_duty_in_its_reason(
    ticket: Callable[..., TicketCreatedV1], engineer: Callable[..., Engineer], now: datetime
) -> None:
    roster = [engineer("eng-a", home_site="主楼"), engineer("eng-b", home_site="副楼", open_load=2)]
    first, _ = domain.assign(ticket(site="主楼"), roster, now=now)
    holder = Actor(subject="a", role="engineer", engineer_id="eng-a")
    moved, events = domain.delay(first, reason="堵车", cannot_go=True, actor=holder, roster=roster, now=now)
    reassigned = events[-1]
    assert isinstance(reassigned, TicketReassignedV1)
    assert moved.score == domain.score(roster[1], skill="printer") == reassigned.reason_params["score"]
    assert reassigned.reason_code == "redispatch" and reassigned.reason_params["delay"] == "堵车"
    assert moved.vehicle is True and reassigned.mode == "visit" and reassigned.duty == "onsite"
    assert moved.reason.startswith("re-dispatch after delay (堵车); skill match (printer)")
