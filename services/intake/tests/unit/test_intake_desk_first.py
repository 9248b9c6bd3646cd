"""The desk's first contact (desk_first.py): who holds a desk-first ticket, when it goes to dispatch, what it says."""

from __future__ import annotations

from datetime import timedelta

import pytest

from intake import desk_first, lifecycle, service
from intake.adapters.memory import MemoryPendingHandovers
from intake.catalog import SEED_BY_CODE
from intake.catalog_cache import Catalog
from intake.domain import Actor, InvalidField, open_ticket
from intake.search import TicketIndex
from intake.service import Desk
from opsdesk_shared.contracts import TicketAssignedV1, subjects

AGENT = Actor(subject="agent1", name="周敏", role="agent")
WINDOW = timedelta(minutes=5)


def _open(new_ticket, now, **extra):  # type: ignore[no-untyped-def]
    cmd = new_ticket(**extra)
    return open_ticket(cmd, service=SEED_BY_CODE[cmd.service_code], ticket_id="t-1", number="INC-2026-000001", now=now)


def test_desk_first_is_announced_on_ticket_created(new_ticket, now) -> None:  # type: ignore[no-untyped-def]
    ticket, created = _open(new_ticket, now, desk_first=True)
    assert ticket.desk_first and created.desk_first


def test_the_catalog_decides_when_the_ticket_does_not_say(new_ticket, now) -> None:  # type: ignore[no-untyped-def]
    assert SEED_BY_CODE["RS-OTHER"].desk_first and not SEED_BY_CODE["RS-REPAIR"].desk_first
    assert _open(new_ticket, now, service_code="RS-OTHER")[0].desk_first
    assert not _open(new_ticket, now, service_code="RS-OTHER", desk_first=False)[0].desk_first
    assert not _open(new_ticket, now)[1].desk_first


def test_a_requester_cannot_ask_for_desk_first(new_ticket, now) -> None:  # type: ignore[no-untyped-def]
    requester = Actor(subject="req-1", name="王小明", role="requester", department="办公室")
    with pytest.raises(InvalidField) as refused:
        open_ticket(new_ticket(desk_first=True), service=SEED_BY_CODE["RS-REPAIR"], ticket_id="t", number="n", now=now, actor=requester)
    assert refused.value.loc == ("body", "desk_first")


def test_the_window_runs_from_creation(new_ticket, now) -> None:  # type: ignore[no-untyped-def]
    ticket, _ = _open(new_ticket, now, desk_first=True)
    service_def = SEED_BY_CODE["RS-REPAIR"]
    assert desk_first.hand_over_if_due(ticket, now=now + WINDOW - timedelta(milliseconds=1), window=WINDOW, service=service_def) is None
    handed, [event] = desk_first.hand_over_if_due(ticket, now=now + WINDOW, window=WINDOW, service=service_def) or (None, [None])
    assert handed is not None and handed.dispatch_requested_at == now + WINDOW
    assert event.reason == "window_elapsed" and event.skill == "printer" and event.by == "intake"
    assert desk_first.hand_over_if_due(handed, now=now + 2 * WINDOW, window=WINDOW, service=service_def) is None


def test_the_agent_sends_it_on_once(new_ticket, now) -> None:  # type: ignore[no-untyped-def]
    ticket, _ = _open(new_ticket, now, desk_first=True)
    sent, [event] = desk_first.send_on(ticket, actor=AGENT, now=now, service=SEED_BY_CODE["RS-REPAIR"])
    assert event.reason == "desk" and event.by == "agent1" and event.ticket_id == ticket.id
    with pytest.raises(lifecycle.IllegalTransition, match="with dispatch already"):
        desk_first.send_on(sent, actor=AGENT, now=now, service=None)


def test_a_ticket_dispatch_already_has_is_not_sent_on(new_ticket, now) -> None:  # type: ignore[no-untyped-def]
    ticket, _ = _open(new_ticket, now)
    with pytest.raises(lifecycle.IllegalTransition) as refused:
        desk_first.send_on(ticket, actor=AGENT, now=now, service=None)
    assert refused.value.target == "dispatch"


def test_guidance_is_refused_once_assigned_naming_the_state_it_is_allowed_in(new_ticket, now) -> None:  # type: ignore[no-untyped-def]
    ticket, _ = _open(new_ticket, now)
    assigned, _ = lifecycle.assign(ticket, TicketAssignedV1(
        ticket_id=ticket.id, assignment_id="a-1", engineer_id="eng1", engineer_name="陈志强", reason="x", assigned_at=now,
    )) or (ticket, [])
    assert assigned.status == "assigned"
    with pytest.raises(lifecycle.IllegalTransition) as refused:
        lifecycle.start_guidance(assigned, actor=AGENT, now=now)
    assert refused.value.allowed == ("new",) and refused.value.current == "assigned"


def test_guidance_is_refused_once_sent_to_dispatch(new_ticket, now) -> None:  # type: ignore[no-untyped-def]
    ticket, _ = _open(new_ticket, now, desk_first=True)
    guided, _ = lifecycle.start_guidance(ticket, actor=AGENT, now=now)
    assert guided.guidance_started_at is not None
    sent, _ = desk_first.send_on(ticket, actor=AGENT, now=now, service=None)
    with pytest.raises(lifecycle.IllegalTransition, match="sent to dispatch"):
        lifecycle.start_guidance(sent, actor=AGENT, now=now)


async def test_opening_a_desk_first_ticket_records_its_due_time_first(new_ticket, store, outbox, now) -> None:  # type: ignore[no-untyped-def]
    handovers = MemoryPendingHandovers()
    desk = Desk(store=store, outbox=outbox, catalog=Catalog.preloaded(), index=TicketIndex(), handovers=handovers, guidance_window=WINDOW)
    ticket, _ = await service.open_ticket(new_ticket(desk_first=True), desk=desk, now=now, correlation_id="c")
    plain, _ = await service.open_ticket(new_ticket(), desk=desk, now=now, correlation_id="c")
    assert handovers.due_at == {ticket.id: now + WINDOW}
    [created, _] = outbox.published
    assert created.type == subjects.TICKET_CREATED and created.data["desk_first"] is True
    assert plain.id not in handovers.due_at
