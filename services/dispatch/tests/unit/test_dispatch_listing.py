"""Work lists as pure rules: who lists what, overdue from the SLA monitor's verdicts, escalations by who was told."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dispatch import domain, listing
from dispatch.domain import Actor, Assignment, Escalation, Forbidden, is_ticket_number, record_breach
from dispatch.listing import BadCursor, assignment_filter, escalation_views, page_escalations

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
AGENT = Actor(subject="agent-1", role="agent")
MANAGER = Actor(subject="pm-user", role="manager", engineer_id="eng-pm-1")
ENGINEER = Actor(subject="chen.zq", role="engineer", engineer_id="eng-onsite-1")
UNLINKED = Actor(subject="new.hire", role="engineer")
SENIOR = Actor(subject="zhang.gh", role="engineer", engineer_id="eng-senior-1")
REQUESTER = Actor(subject="wang.xm", role="requester")


@pytest.fixture
def make() -> Callable[..., Assignment]:
    counter = iter(range(1, 1000))

    def build(**overrides: Any) -> Assignment:
        n = next(counter)
        fields: dict[str, Any] = {
            "id": f"a-{n}", "ticket_id": f"ticket-{n}", "ticket_number": f"INC-2026-{n:06d}", "engineer_id": "eng-onsite-1",
            "engineer_name": "陳志強", "reason": "r", "score": 1.0, "assigned_at": T0,
        }
        return Assignment(**{**fields, **overrides})

    return build


def _filter(actor: Actor, **kw: Any) -> listing.AssignmentFilter:
    return assignment_filter(actor, **{"engineers": None, "statuses": None, "overdue": None, "ticket": None, **kw})


# --- who lists what ---


def test_an_engineer_lists_their_own_by_default() -> None:
    assert _filter(ENGINEER).engineer_ids == {"eng-onsite-1"}


def test_an_engineer_naming_someone_else_is_refused_not_narrowed() -> None:
    with pytest.raises(Forbidden, match="only their own"):
        _filter(ENGINEER, engineers=["eng-onsite-2"])
    assert _filter(ENGINEER, engineers=["eng-onsite-1"]).engineer_ids == {"eng-onsite-1"}


def test_an_engineer_without_a_roster_link_lists_nothing() -> None:
    assert _filter(UNLINKED).engineer_ids == frozenset()


def test_the_desk_lists_everyone_and_filters_by_engineer() -> None:
    assert _filter(AGENT).engineer_ids is None
    assert _filter(MANAGER, engineers=["eng-onsite-2"]).engineer_ids == {"eng-onsite-2"}


def test_requesters_list_nothing() -> None:
    with pytest.raises(Forbidden):
        _filter(REQUESTER)


def test_a_ticket_filter_takes_an_id_or_a_number() -> None:
    assert _filter(AGENT, ticket="INC-2026-000009").ticket_number == "INC-2026-000009"
    by_id = _filter(AGENT, ticket="5a2d6c1e-1111-4222-8333-444455556666")
    assert by_id.ticket_id == "5a2d6c1e-1111-4222-8333-444455556666" and by_id.ticket_number is None


@pytest.mark.parametrize(("ref", "number"), [
    ("INC-2026-000009", True), ("5a2d6c1e-1111-4222-8333-444455556666", False), ("ticket-1", False), ("inc-2026-000009", False),
])
def test_ticket_numbers_are_told_from_ids(ref: str, number: bool) -> None:
    assert is_ticket_number(ref) is number


def test_filter_conditions_combine(make: Callable[..., Assignment]) -> None:
    query = _filter(AGENT, engineers=["eng-onsite-1"], statuses=["open", "accepted"])
    assert query.matches(make())
    assert not query.matches(make(status="confirmed"))
    assert not query.matches(make(engineer_id="eng-onsite-2"))


# --- overdue: the SLA monitor's verdict, while the step is outstanding ---


def test_a_breached_confirmation_makes_an_unconfirmed_assignment_overdue(make: Callable[..., Assignment]) -> None:
    a = record_breach(make(), timer="confirmation", due_at=T0 + timedelta(minutes=30), breached_at=T0 + timedelta(minutes=31))
    assert a is not None and a.overdue
    assert a.history[-1].by == "sla-monitor"
    confirmed, _ = domain.confirm(a, eta=None, actor=AGENT, now=T0 + timedelta(minutes=40))
    assert not confirmed.overdue  # late, but nothing waits any more
    assert confirmed.breaches == a.breaches


def test_an_assignment_without_breaches_is_not_overdue(make: Callable[..., Assignment]) -> None:
    assert not make().overdue
    assert make().model_dump()["overdue"] is False  # stored with the document, so the list can filter on it


def test_a_repeated_breach_and_clocks_dispatch_does_not_track_change_nothing(make: Callable[..., Assignment]) -> None:
    a = record_breach(make(), timer="confirmation", due_at=T0, breached_at=T0)
    assert a is not None
    assert record_breach(a, timer="confirmation", due_at=T0, breached_at=T0 + timedelta(seconds=5)) is None
    assert record_breach(a, timer="response", due_at=T0, breached_at=T0) is None


def test_a_breached_escalation_clock_is_overdue_until_acknowledged(make: Callable[..., Assignment]) -> None:
    raised, _ = domain.escalate(make(status="confirmed"), kind="other", description="d", actor=AGENT, roster=list(domain.DEMO_ROSTER), now=T0)
    late = record_breach(raised, timer="escalation", due_at=T0 + timedelta(minutes=20), breached_at=T0 + timedelta(minutes=21))
    assert late is not None and late.overdue
    acked, _ = domain.acknowledge(late, escalation_id=late.escalations[0].id, actor=MANAGER, now=T0 + timedelta(minutes=25))
    assert not acked.overdue


# --- escalations ---


def _escalated(make: Callable[..., Assignment], *, notify: tuple[str, ...], at: datetime, acked: bool = False) -> Assignment:
    esc = Escalation(
        id=f"esc-{at.minute}", kind="technical", description="服務器宕機", notify=notify, raised_at=at,
        acknowledged_at=at if acked else None, acknowledged_by="pm-user" if acked else None,
    )
    return make(escalations=(esc,))


def test_the_manager_and_the_desk_see_every_open_escalation_an_engineer_those_naming_them(make: Callable[..., Assignment]) -> None:
    technical = _escalated(make, notify=("eng-pm-1", "eng-senior-1"), at=T0)
    other = _escalated(make, notify=("eng-pm-1",), at=T0 + timedelta(minutes=1))
    done = _escalated(make, notify=("eng-pm-1", "eng-senior-1"), at=T0 + timedelta(minutes=2), acked=True)
    rows = [technical, other, done]

    assert [v.id for v in escalation_views(MANAGER, rows, status="open")] == ["esc-1", "esc-0"]
    assert [v.id for v in escalation_views(AGENT, rows, status="open")] == ["esc-1", "esc-0"]
    assert [v.id for v in escalation_views(SENIOR, rows, status="open")] == ["esc-0"]
    assert escalation_views(ENGINEER, rows, status="open") == []  # the holder is not among those told
    assert [v.id for v in escalation_views(MANAGER, rows, status="acknowledged")] == ["esc-2"]
    with pytest.raises(Forbidden):
        escalation_views(REQUESTER, rows, status="open")


def test_escalation_pages_follow_the_cursor(make: Callable[..., Assignment]) -> None:
    rows = [_escalated(make, notify=("eng-pm-1",), at=T0 + timedelta(minutes=m)) for m in range(5)]
    views = escalation_views(MANAGER, rows, status="open")
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page, cursor = page_escalations(views, cursor=cursor, limit=2)
        seen += [v.id for v in page]
        if cursor is None:
            break
    assert seen == ["esc-4", "esc-3", "esc-2", "esc-1", "esc-0"]


def test_a_cursor_from_another_list_or_garbage_is_refused() -> None:
    with pytest.raises(BadCursor):
        listing.decode_assignment_cursor("not-a-cursor")
    assignments_cursor = listing.encode_assignment_cursor(("INC-2026-000001", "t"))
    with pytest.raises(BadCursor):
        page_escalations([], cursor=assignments_cursor, limit=5)
