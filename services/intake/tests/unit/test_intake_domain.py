"""Desk rules: ticket numbers, reported_at checks, catalog codes and recording assignments."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from intake.catalog import SEED_BY_CODE
from intake.domain import (
    CLOCK_SKEW,
    MAX_BACKDATING,
    InvalidField,
    Ticket,
    check_new_ticket,
    format_number,
    number_series,
    open_ticket,
    ticket_id_for,
)
from intake.lifecycle import assign
from opsdesk_shared.contracts import TicketAssignedV1, TicketStatusChangedV1

NUMBER = re.compile(r"^INC-\d{4}-\d{6}$")


def _opened(new_ticket, now, **overrides) -> Ticket:  # type: ignore[no-untyped-def]
    ticket, _ = open_ticket(new_ticket(**overrides), service=SEED_BY_CODE.get(new_ticket(**overrides).service_code), ticket_id="t-1", number="INC-2026-000001", now=now)
    return ticket


def _assigned(ticket_id: str, *, assignment_id: str, engineer_id: str = "eng-onsite-1", at: datetime) -> TicketAssignedV1:
    return TicketAssignedV1(
        ticket_id=ticket_id,
        assignment_id=assignment_id,
        engineer_id=engineer_id,
        engineer_name="陳志強",
        reason="skill match (printer), load 0/8, role onsite, score 15.00",
        assigned_at=at,
    )


# --- numbers -------------------------------------------------------------------------------------------------------


def test_number_series_uses_shanghai_year_when_utc_is_still_previous_year() -> None:
    assert number_series(datetime(2026, 12, 31, 17, 0, tzinfo=UTC)) == "INC-2027"


def test_number_series_keeps_year_until_shanghai_midnight() -> None:
    assert number_series(datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)) == "INC-2026"


def test_number_series_converts_other_offsets_to_shanghai() -> None:
    # 2027-01-01T00:30 at UTC-8 is 16:30 in Shanghai on the same day.
    assert number_series(datetime(2027, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=-8)))) == "INC-2027"
    # 2026-12-31T23:00 at UTC+14 is 17:00 in Shanghai, still 2026.
    assert number_series(datetime(2026, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=14)))) == "INC-2026"


@pytest.mark.parametrize(("seq", "expected"), [(1, "INC-2027-000001"), (42, "INC-2027-000042"), (999_999, "INC-2027-999999")])
def test_number_is_series_and_six_digit_sequence(seq: int, expected: str) -> None:
    number = format_number("INC-2027", seq)
    assert number == expected
    assert NUMBER.match(number)


# --- reported_at and catalog ----------------------------------------------------------------------------------------


def test_reported_at_within_clock_skew_is_accepted(new_ticket, now) -> None:  # type: ignore[no-untyped-def]
    ticket = _opened(new_ticket, now, reported_at=now + CLOCK_SKEW - timedelta(seconds=1))
    assert ticket.reported_at == now + CLOCK_SKEW - timedelta(seconds=1)


def test_reported_at_beyond_clock_skew_is_refused(new_ticket, now) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidField) as caught:
        check_new_ticket(new_ticket(reported_at=now + CLOCK_SKEW + timedelta(seconds=1)), service=SEED_BY_CODE["RS-REPAIR"], now=now)
    assert caught.value.loc == ("body", "reported_at")
    assert "future" in caught.value.msg


def test_reported_at_within_seven_days_back_is_accepted(new_ticket, now) -> None:  # type: ignore[no-untyped-def]
    reported = now - MAX_BACKDATING + timedelta(minutes=1)
    assert _opened(new_ticket, now, reported_at=reported).reported_at == reported


def test_reported_at_more_than_seven_days_back_is_refused(new_ticket, now) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidField) as caught:
        check_new_ticket(new_ticket(reported_at=now - timedelta(days=7, seconds=1)), service=SEED_BY_CODE["RS-REPAIR"], now=now)
    assert caught.value.loc == ("body", "reported_at")


def test_naive_reported_at_is_refused(new_ticket, now) -> None:  # type: ignore[no-untyped-def]
    naive = now.replace(tzinfo=None) - timedelta(minutes=5)
    with pytest.raises(InvalidField) as caught:
        check_new_ticket(new_ticket(reported_at=naive), service=SEED_BY_CODE["RS-REPAIR"], now=now)
    assert caught.value.loc == ("body", "reported_at")
    assert "time zone" in caught.value.msg


def test_reported_at_with_offset_is_compared_as_an_instant(new_ticket, now) -> None:  # type: ignore[no-untyped-def]
    # One hour ago, written in Shanghai time (+08:00): valid although its wall clock reads "later" than now in UTC.
    shanghai = (now - timedelta(hours=1)).astimezone(timezone(timedelta(hours=8)))
    assert _opened(new_ticket, now, reported_at=shanghai).reported_at == now - timedelta(hours=1)


def test_unknown_service_code_is_refused_on_service_code_field(new_ticket, now) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidField) as caught:
        open_ticket(new_ticket(service_code="RS-NOPE"), service=SEED_BY_CODE.get(new_ticket(service_code="RS-NOPE").service_code), ticket_id="t-1", number="INC-2026-000001", now=now)
    assert caught.value.loc == ("body", "service_code")
    assert "RS-NOPE" in caught.value.msg


# --- opening --------------------------------------------------------------------------------------------------------


def test_opened_ticket_is_new_with_reported_at_defaulting_to_now(new_ticket, now) -> None:  # type: ignore[no-untyped-def]
    ticket = _opened(new_ticket, now)
    assert ticket.status == "new"
    assert ticket.reported_at == now
    assert ticket.created_at == now
    assert [(h.status, h.at) for h in ticket.history] == [("new", now)]
    assert ticket.assignee is None
    assert ticket.version == 1


def test_priority_comes_from_the_catalog(new_ticket, now) -> None:  # type: ignore[no-untyped-def]
    assert _opened(new_ticket, now, service_code="RS-SPARE").priority == "P2"
    assert _opened(new_ticket, now, service_code="RS-REPAIR").priority == "P3"


def test_created_event_mirrors_the_ticket(new_ticket, now) -> None:  # type: ignore[no-untyped-def]
    reported = now - timedelta(hours=2)
    ticket, event = open_ticket(new_ticket(reported_at=reported), service=SEED_BY_CODE.get(new_ticket(reported_at=reported).service_code), ticket_id="t-9", number="INC-2026-000009", now=now)
    assert event.ticket_id == ticket.id == "t-9"
    assert event.number == "INC-2026-000009"
    assert event.reported_at == reported
    assert (event.title, event.channel, event.service_code, event.priority) == (
        ticket.title, ticket.channel, ticket.service_code, ticket.priority,
    )
    assert event.requester == ticket.requester
    assert event.asset_tag == "GZ-2026-000001"


def test_same_idempotency_key_maps_to_same_ticket_id() -> None:
    assert ticket_id_for("key-1") == ticket_id_for("key-1")
    assert ticket_id_for("key-1") != ticket_id_for("key-2")


def test_no_idempotency_key_gives_fresh_ticket_ids() -> None:
    assert ticket_id_for(None) != ticket_id_for(None)


# --- assignment -----------------------------------------------------------------------------------------------------


def apply_assignment(ticket: Ticket, event: TicketAssignedV1) -> Ticket | None:
    decided = assign(ticket, event)
    return decided[0] if decided is not None else None


def test_assignment_marks_new_ticket_assigned(new_ticket, now) -> None:  # type: ignore[no-untyped-def]
    ticket = _opened(new_ticket, now)
    at = now + timedelta(minutes=1)
    updated = apply_assignment(ticket, _assigned(ticket.id, assignment_id="a-1", at=at))
    assert updated is not None
    assert updated.status == "assigned"
    assert updated.assignee is not None
    assert (updated.assignee.assignment_id, updated.assignee.engineer_id) == ("a-1", "eng-onsite-1")
    assert [(h.status, h.by) for h in updated.history] == [("new", "desk"), ("assigned", "dispatch")]
    assert updated.history[-1].at == at


def test_assignment_goes_through_the_transition_table_and_is_announced(new_ticket, now) -> None:  # type: ignore[no-untyped-def]
    """Issue 13 item 15: `assigned` was set outside the table and never announced, so reporting kept counting the
    ticket as new."""
    decided = assign(_opened(new_ticket, now), _assigned("t-1", assignment_id="a-1", at=now))
    assert decided is not None
    updated, events = decided
    assert [type(e) for e in events] == [TicketStatusChangedV1]
    changed = events[0]
    assert isinstance(changed, TicketStatusChangedV1)
    assert (changed.old_status, changed.new_status, changed.by) == ("new", "assigned", "dispatch")
    assert updated.audit[-1].action == "assigned"
    assert updated.audit[-1].changes["assignee"] == {"old": None, "new": "eng-onsite-1"}


def test_assignment_of_a_cancelled_ticket_changes_no_state(new_ticket, now) -> None:  # type: ignore[no-untyped-def]
    cancelled = _opened(new_ticket, now).model_copy(update={"status": "cancelled"})
    decided = assign(cancelled, _assigned("t-1", assignment_id="a-1", at=now))
    assert decided is not None
    assert decided[0].status == "cancelled" and decided[1] == []


def test_same_assignment_applied_twice_changes_nothing(new_ticket, now) -> None:  # type: ignore[no-untyped-def]
    event = _assigned("t-1", assignment_id="a-1", at=now)
    once = apply_assignment(_opened(new_ticket, now), event)
    assert once is not None
    assert apply_assignment(once, event) is None


def test_new_assignment_replaces_previous_assignee(new_ticket, now) -> None:  # type: ignore[no-untyped-def]
    once = apply_assignment(_opened(new_ticket, now), _assigned("t-1", assignment_id="a-1", at=now))
    assert once is not None
    again = apply_assignment(once, _assigned("t-1", assignment_id="a-2", engineer_id="eng-onsite-2", at=now))
    assert again is not None
    assert again.assignee is not None and again.assignee.engineer_id == "eng-onsite-2"
    assert len(again.history) == 2  # the state did not change: assigned stays assigned


def test_assignment_keeps_a_later_status(new_ticket, now) -> None:  # type: ignore[no-untyped-def]
    in_progress = _opened(new_ticket, now).model_copy(update={"status": "in_progress"})
    updated = apply_assignment(in_progress, _assigned("t-1", assignment_id="a-1", at=now))
    assert updated is not None
    assert updated.status == "in_progress"
    assert updated.assignee is not None
