"""Desk use cases on memory adapters: opening tickets (with idempotency) and recording assignments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from intake import service
from intake.adapters.memory import MemoryOutbox, MemoryTicketStore
from intake.domain import InvalidField, Ticket
from intake.ports import ConcurrentUpdate
from intake.service import Desk
from opsdesk_shared.contracts import Envelope, TicketAssignedV1, TicketCreatedV1, subjects


def _assigned(ticket_id: str, *, assignment_id: str = "a-1", at: datetime) -> TicketAssignedV1:
    return TicketAssignedV1(
        ticket_id=ticket_id,
        assignment_id=assignment_id,
        engineer_id="eng-onsite-1",
        engineer_name="陳志強",
        reason="skill match (printer), load 0/8, role onsite, score 15.00",
        assigned_at=at,
    )


async def _open(cmd, store, outbox, now, *, key=None, cid="corr-1"):  # type: ignore[no-untyped-def]
    return await service.open_ticket(cmd, desk=Desk.on(store, outbox), now=now, correlation_id=cid, idempotency_key=key)


# --- open_ticket ----------------------------------------------------------------------------------------------------


async def test_open_ticket_publishes_one_created_event_about_the_ticket(new_ticket, store, outbox, now) -> None:  # type: ignore[no-untyped-def]
    ticket, created = await _open(new_ticket(), store, outbox, now, cid="corr-42")

    assert created is True
    assert len(outbox.published) == 1
    envelope = outbox.published[0]
    assert envelope.type == subjects.TICKET_CREATED
    assert envelope.producer == "intake"
    assert envelope.subject_id == ticket.id
    assert envelope.correlation_id == "corr-42"
    assert envelope.occurred_at == now
    payload = TicketCreatedV1.model_validate(envelope.data)
    assert payload.ticket_id == ticket.id
    assert payload.number == ticket.number


async def test_open_ticket_stores_the_event_with_the_ticket(new_ticket, store, outbox, now) -> None:  # type: ignore[no-untyped-def]
    ticket, _ = await _open(new_ticket(), store, outbox, now)
    assert await store.get(ticket.id) == ticket
    assert [e.event_id for e in store.stored_events] == [e.event_id for e in outbox.published]


async def test_open_ticket_numbers_in_the_shanghai_year(new_ticket, store, outbox) -> None:  # type: ignore[no-untyped-def]
    new_year_in_shanghai = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
    ticket, _ = await _open(new_ticket(), store, outbox, new_year_in_shanghai)
    assert ticket.number == "INC-2027-000001"


async def test_open_ticket_numbers_increase_per_ticket(new_ticket, store, outbox, now) -> None:  # type: ignore[no-untyped-def]
    first, _ = await _open(new_ticket(), store, outbox, now)
    second, _ = await _open(new_ticket(), store, outbox, now)
    assert (first.number, second.number) == ("INC-2026-000001", "INC-2026-000002")
    assert first.id != second.id


async def test_same_idempotency_key_returns_the_original_ticket_without_publishing(new_ticket, store, outbox, now) -> None:  # type: ignore[no-untyped-def]
    first, created_first = await _open(new_ticket(), store, outbox, now, key="req-1")
    again, created_again = await _open(new_ticket(), store, outbox, now + timedelta(seconds=5), key="req-1")

    assert (created_first, created_again) == (True, False)
    assert again == first
    assert len(outbox.published) == 1
    assert len(store.tickets) == 1
    assert store.series == {"INC-2026": 1}  # a replay does not burn a number


async def test_different_idempotency_keys_open_different_tickets(new_ticket, store, outbox, now) -> None:  # type: ignore[no-untyped-def]
    a, _ = await _open(new_ticket(), store, outbox, now, key="req-a")
    b, _ = await _open(new_ticket(), store, outbox, now, key="req-b")
    assert a.id != b.id
    assert len(outbox.published) == 2


class _StaleReadStore(MemoryTicketStore):
    """Answers the first get with None, as if a concurrent request with the same key had not committed yet."""

    def __init__(self) -> None:
        super().__init__()
        self.missed = False

    async def get(self, ticket_id: str) -> Ticket | None:
        if not self.missed:
            self.missed = True
            return None
        return await super().get(ticket_id)


async def test_concurrent_request_with_same_key_gets_the_stored_ticket(new_ticket, outbox, now) -> None:  # type: ignore[no-untyped-def]
    store = _StaleReadStore()
    original, _ = await service.open_ticket(new_ticket(), desk=Desk.on(store, MemoryOutbox()), now=now, correlation_id="c", idempotency_key="k")
    store.missed = False

    again, created = await _open(new_ticket(), store, outbox, now, key="k")

    assert created is False
    assert again == original
    assert outbox.published == []


async def test_invalid_ticket_is_neither_stored_nor_published(new_ticket, store, outbox, now) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidField):
        await _open(new_ticket(service_code="RS-NOPE"), store, outbox, now)
    assert store.tickets == {}
    assert store.series == {}
    assert outbox.published == []


# --- record_assignment ----------------------------------------------------------------------------------------------


async def test_assignment_is_shown_on_the_ticket(new_ticket, store, outbox, now) -> None:  # type: ignore[no-untyped-def]
    ticket, _ = await _open(new_ticket(), store, outbox, now)

    changed = await service.record_assignment(_assigned(ticket.id, at=now), desk=Desk.on(store, MemoryOutbox()))

    stored = await store.get(ticket.id)
    assert changed is True
    assert stored is not None
    assert stored.status == "assigned"
    assert stored.assignee is not None and stored.assignee.assignment_id == "a-1"
    assert stored.version == ticket.version + 1


async def test_recording_the_same_assignment_twice_changes_the_ticket_once(new_ticket, store, outbox, now) -> None:  # type: ignore[no-untyped-def]
    ticket, _ = await _open(new_ticket(), store, outbox, now)
    event = _assigned(ticket.id, at=now)

    results = [await service.record_assignment(event, desk=Desk.on(store, MemoryOutbox())), await service.record_assignment(event, desk=Desk.on(store, MemoryOutbox()))]

    stored = await store.get(ticket.id)
    assert results == [True, False]
    assert stored is not None
    assert stored.version == ticket.version + 1
    assert len(stored.history) == 2


class _RacingStore(MemoryTicketStore):
    """Another writer changes the ticket between our load and save, `races` times."""

    def __init__(self, races: int) -> None:
        super().__init__()
        self.races = races
        self.saves = 0

    async def save(self, ticket: Ticket, events: Sequence[Envelope] = ()) -> None:
        self.saves += 1
        if self.races > 0:
            self.races -= 1
            current = self.tickets[ticket.id]
            await super().save(current.model_copy(update={"title": f"{current.title} (edited)"}))
        await super().save(ticket, events)


async def test_assignment_is_retried_after_a_concurrent_update(new_ticket, outbox, now) -> None:  # type: ignore[no-untyped-def]
    store = _RacingStore(races=2)
    ticket, _ = await _open(new_ticket(), store, outbox, now)

    changed = await service.record_assignment(_assigned(ticket.id, at=now), desk=Desk.on(store, MemoryOutbox()))

    stored = await store.get(ticket.id)
    assert changed is True
    assert store.saves == 3
    assert stored is not None
    assert stored.status == "assigned"
    assert stored.title.endswith("(edited) (edited)")  # the other writer's change survived
    assert stored.version == ticket.version + 3


async def test_assignment_gives_up_when_the_ticket_keeps_changing(new_ticket, outbox, now) -> None:  # type: ignore[no-untyped-def]
    store = _RacingStore(races=100)
    ticket, _ = await _open(new_ticket(), store, outbox, now)

    with pytest.raises(ConcurrentUpdate):
        await service.record_assignment(_assigned(ticket.id, at=now), desk=Desk.on(store, MemoryOutbox()), attempts=3)
    assert store.saves == 3
    stored = await store.get(ticket.id)
    assert stored is not None and stored.assignee is None


async def test_assignment_for_unknown_ticket_raises(store, now) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LookupError):
        await service.record_assignment(_assigned("no-such-ticket", at=now), desk=Desk.on(store, MemoryOutbox()))


async def test_reassignment_shows_the_new_engineer_and_tells_the_requester_once(new_ticket, store, now) -> None:  # type: ignore[no-untyped-def]
    from opsdesk_shared.contracts import TicketReassignedV1

    desk = Desk.on(store, MemoryOutbox())
    ticket, _ = await service.open_ticket(new_ticket(), desk=desk, now=now, correlation_id="c")
    await service.record_assignment(_assigned(ticket.id, at=now), desk=desk)
    moved = TicketReassignedV1(
        ticket_id=ticket.id, assignment_id="a-2", previous_engineer_id="eng-onsite-1", engineer_id="eng-mobile-1",
        engineer_name="黃偉明", reason="陳志強 delayed: traffic", by="dispatch", reassigned_at=now,
    )

    assert await service.record_reassignment(moved, desk=desk) is True
    assert await service.record_reassignment(moved, desk=desk) is False  # a redelivery tells nobody twice

    stored = await store.get(ticket.id)
    assert stored.assignee.engineer_id == "eng-mobile-1"
    notes = [c for c in stored.comments if c.id == "reassigned-a-2"]
    assert len(notes) == 1 and not notes[0].internal and "黃偉明" in notes[0].body


async def test_inspection_finding_that_needs_work_opens_one_ticket(store, now) -> None:  # type: ignore[no-untyped-def]
    from opsdesk_shared.contracts.cmdb import InspectionFinding, InspectionRecordedV1, TicketRequest

    desk = Desk.on(store, MemoryOutbox())
    request = TicketRequest(title="打印機定影器異響", description="季度保養發現定影器異響", asset_tag="GZ-2026-000007",
                            service_code="PS-INSPECT", department="財務科", site="主樓")
    recorded = InspectionRecordedV1(
        inspection_id="insp-1", asset_tag="GZ-2026-000007", kind="quarterly_maintenance",
        findings=[InspectionFinding(text="定影器異響", severity="needs_work")], needs_work=True, ticket=request,
        performed_by="eng-onsite-1", performed_at=now,
    )

    first = await service.open_for_inspection(recorded, desk=desk, now=now, correlation_id="c")
    again = await service.open_for_inspection(recorded, desk=desk, now=now, correlation_id="c")

    assert first is not None and first[1] is True and again is not None and again[1] is False
    ticket = first[0]
    assert (ticket.service_code, ticket.asset_tag, ticket.channel, ticket.requester.department) == ("PS-INSPECT", "GZ-2026-000007", "api", "財務科")
    assert len(store.tickets) == 1
    fine = recorded.model_copy(update={"inspection_id": "insp-2", "needs_work": False, "ticket": None})
    assert await service.open_for_inspection(fine, desk=desk, now=now, correlation_id="c") is None
    unknown = recorded.model_copy(update={"inspection_id": "insp-3", "ticket": request.model_copy(update={"service_code": "XX-GONE"})})
    opened = await service.open_for_inspection(unknown, desk=desk, now=now, correlation_id="c")
    assert opened is not None and opened[0].service_code == "RS-ONSITE"


async def test_a_change_during_a_full_reload_is_not_lost(new_ticket, store, now) -> None:  # type: ignore[no-untyped-def]
    from intake import lifecycle
    from intake.domain import DESK
    from intake.search import Query

    desk = Desk.on(store, MemoryOutbox())
    ticket, _ = await service.open_ticket(new_ticket(), desk=desk, now=now, correlation_id="c")
    original_scan = store.scan

    async def scan_then_change():  # type: ignore[no-untyped-def]
        async for t in original_scan():
            yield t
        # The ticket changes after the scan read it, before the swap.
        await service.act(ticket.id, lambda t: lifecycle.update_fields(t, actor=DESK, now=now, fields={"title": "顯示器黑屏"}),
                          desk=desk, actor=DESK, now=now, correlation_id="c")

    store.scan = scan_then_change
    await service.rebuild_index(desk=desk)

    found, _ = desk.index.search(Query(text="黑屏"), actor=DESK)
    assert found == [ticket.id]
