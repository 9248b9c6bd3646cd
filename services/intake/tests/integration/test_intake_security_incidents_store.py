"""Security incidents on both stores (memory and the real database): a violation recorded once however often it is
delivered, announced once; the agency acknowledges, the project manager closes; a desk act on a ticket the agency
has not authorized is refused and recorded."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from intake import authorization_service, lifecycle, service
from intake.catalog import SEED_BY_CODE
from intake.catalog_cache import Catalog
from intake.domain import Actor, NewTicket
from intake.oversight import service as incidents_service
from intake.oversight.domain import StepRefused
from intake.oversight.service import Incidents
from intake.oversight.store import IncidentChanged, MemoryIncidentStore, MongoIncidentStore
from intake.ports import TicketStore
from intake.search import TicketIndex
from intake.service import Desk
from opsdesk_shared.contracts import Requester, subjects
from opsdesk_shared.contracts.security import AssignmentViolationDetectedV1
from opsdesk_shared.outbox import MemoryOutbox

NOW = datetime(2026, 11, 30, 2, 0, 0, tzinfo=UTC)
AGENCY = Actor(subject="zhou", name="周主任", role="agency")
AGENT = Actor(subject="agent1", name="李坐席", role="agent")


async def _incidents(backend: Any) -> tuple[Incidents, MemoryOutbox]:
    outbox = MemoryOutbox()
    if backend is None:
        return Incidents(store=MemoryIncidentStore(outbox), outbox=outbox), outbox
    store = MongoIncidentStore(backend)
    await store.ensure_indexes()
    return Incidents(store=store, outbox=outbox), outbox


def _violation(**extra: Any) -> AssignmentViolationDetectedV1:
    fields: dict[str, Any] = {
        "rule": "unauthorized_ticket_act", "actor": "eng-1", "actor_role": "engineer", "act": "assignment.accept",
        "what": "接受未经授权的工单 INC-2026-000002 的派工", "occurred_at": NOW, "ticket_id": "t-1",
        "ticket_number": "INC-2026-000002", "ticket_status": "awaiting_authorization", "detected_by": "dispatch",
    }
    return AssignmentViolationDetectedV1(**{**fields, **extra})


async def test_a_violation_is_recorded_and_announced_once_however_often_delivered(backend) -> None:  # type: ignore[no-untyped-def]
    incidents, outbox = await _incidents(backend)
    violation_id = str(uuid.uuid4())

    first, created = await incidents_service.record_violation(
        _violation(), violation_id=violation_id, incidents=incidents, now=NOW, correlation_id="c-1")
    again, created_again = await incidents_service.record_violation(
        _violation(), violation_id=violation_id, incidents=incidents, now=NOW + timedelta(minutes=1), correlation_id="c-1")

    assert created and not created_again and again == first
    assert await incidents.store.get(first.id) == first
    assert [i.id for i in await incidents_service.listed(incidents=incidents)] == [first.id]
    [raised] = [e for e in outbox.published if e.type == subjects.SECURITY_INCIDENT_RAISED]
    assert raised.data["incident_id"] == first.id and raised.data["actor"] == "eng-1" and raised.data["kind"] == "unauthorized_ticket_act"
    assert raised.data["ticket_number"] == "INC-2026-000002" and raised.data["violation_id"] == violation_id


async def test_the_agency_acknowledges_then_the_manager_closes(backend) -> None:  # type: ignore[no-untyped-def]
    incidents, _ = await _incidents(backend)
    incident, _ = await incidents_service.record_violation(
        _violation(), violation_id=str(uuid.uuid4()), incidents=incidents, now=NOW, correlation_id="c-1")

    with pytest.raises(StepRefused) as early:
        await incidents_service.close(incident.id, incidents=incidents, role="manager", by="mgr", note="处理完毕", now=NOW)
    assert early.value.allowed == ("acknowledge",)
    acked = await incidents_service.acknowledge(incident.id, incidents=incidents, role="agency", by="zhou", note="已知悉", now=NOW)
    closed = await incidents_service.close(incident.id, incidents=incidents, role="manager", by="mgr", note="已约谈工程师", now=NOW)

    assert acked.state == "acknowledged" and acked.acknowledged_by == "zhou"
    stored = await incidents.store.get(incident.id)
    assert stored == closed and stored.state == "closed" and stored.closing_note == "已约谈工程师" and stored.version == 3
    assert [i.id for i in await incidents_service.listed(incidents=incidents, state="closed")] == [incident.id]
    assert await incidents_service.listed(incidents=incidents, state="open") == []
    with pytest.raises(IncidentChanged):
        await incidents.store.replace(closed, expected_version=1)


async def test_a_desk_act_on_a_ticket_awaiting_authorization_is_refused_and_recorded(backend, store: TicketStore) -> None:  # type: ignore[no-untyped-def]
    incidents, outbox = await _incidents(backend)
    guarded = SEED_BY_CODE["RS-ONSITE"].model_copy(update={"requires_authorization": True})
    catalog = Catalog.preloaded(tuple(s for s in SEED_BY_CODE.values() if s.code != guarded.code) + (guarded,))
    desk = Desk(store=store, outbox=MemoryOutbox(), catalog=catalog, index=TicketIndex(), incidents=incidents)
    cmd = NewTicket(title="服务器内存扩容", description="机房", channel="web", service_code="RS-ONSITE",
                    requester=Requester(name="王小明", department="办公室"))
    ticket, _ = await service.open_ticket(cmd, desk=desk, now=NOW, correlation_id="c-1", actor=AGENT)

    with pytest.raises(lifecycle.IllegalTransition):
        await service.act(ticket.id, lambda t: lifecycle.change_status(t, target="in_progress", actor=AGENT, now=NOW),
                          desk=desk, actor=AGENT, now=NOW, correlation_id="c-2")
    # The requester's own cancel is no violation, and neither is the agency's decision.
    await authorization_service.decide(ticket.id, decision="decline", note="不需要", desk=desk, actor=AGENCY, now=NOW,
                                       correlation_id="c-3")

    [incident] = await incidents_service.listed(incidents=incidents)
    assert incident.actor == "agent1" and incident.actor_role == "agent" and incident.ticket_id == ticket.id
    assert incident.ticket_status == "awaiting_authorization" and incident.act == "ticket.status:in_progress"
    assert incident.detected_by == "intake" and incident.state == "open"
    assert len([e for e in outbox.published if e.type == subjects.SECURITY_INCIDENT_RAISED]) == 1


async def test_refused_attempts_fold_and_an_act_that_happened_stands_alone(backend) -> None:  # type: ignore[no-untyped-def]
    """Issue 16's severity policy on both stores: an engineer's three refused accepts within the hour are one low
    incident (a count and the times), announced once; after the agency's acknowledgement the next is a new one; a CI
    changed without authorization is its own high incident."""
    incidents, outbox = await _incidents(backend)
    times = [NOW, NOW + timedelta(minutes=5), NOW + timedelta(minutes=50)]
    for n, at in enumerate(times):
        await incidents_service.record_violation(_violation(occurred_at=at), violation_id=f"v-{n}", incidents=incidents,
                                                 now=at, correlation_id="c")
    [one] = await incidents_service.listed(incidents=incidents)
    assert (one.attempts, one.severity, one.occurrences) == (3, "low", tuple(times))
    assert await incidents.store.get(one.id) == one

    await incidents_service.acknowledge(one.id, incidents=incidents, role="agency", by="zhou", note=None, now=NOW + timedelta(hours=1))
    later = NOW + timedelta(hours=1, minutes=1)
    fresh, created = await incidents_service.record_violation(_violation(occurred_at=later), violation_id="v-3",
                                                              incidents=incidents, now=later, correlation_id="c")
    changed, _ = await incidents_service.record_violation(
        _violation(rule="unauthorized_ci_change", refused=False, act="cmdb.patch", detected_by="assets"), violation_id="v-4",
        incidents=incidents, now=later, correlation_id="c")

    assert created and fresh.id != one.id and fresh.attempts == 1
    assert changed.severity == "high" and changed.attempts == 1
    raised = [e for e in outbox.published if e.type == subjects.SECURITY_INCIDENT_RAISED]
    assert [(e.data["incident_id"], e.data["severity"]) for e in raised] == [(one.id, "low"), (fresh.id, "low"), (changed.id, "high")]


async def test_attempts_folding_in_at_once_are_all_counted(backend) -> None:  # type: ignore[no-untyped-def]
    """Attempts delivered together (a fresh-clone run of the journey counted 2 of 3 on FerretDB: its filtered update
    is no compare-and-set): each one folds in exactly once."""
    incidents, _ = await _incidents(backend)
    await incidents_service.record_violation(_violation(), violation_id="v-first", incidents=incidents, now=NOW, correlation_id="c")
    at = [NOW + timedelta(seconds=n + 1) for n in range(8)]

    await asyncio.gather(*(
        incidents_service.record_violation(_violation(occurred_at=t), violation_id=f"v-{n}", incidents=incidents, now=t, correlation_id="c")
        for n, t in enumerate(at)
    ))

    [one] = await incidents_service.listed(incidents=incidents)
    assert one.attempts == 9 and len(one.occurrences) == 9 and one.version == 9
