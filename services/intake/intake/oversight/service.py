"""Security incident use cases: record a detected violation once, list and read, acknowledge, close."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from opsdesk_shared.bus import KeyedLocks
from opsdesk_shared.contracts import Envelope
from opsdesk_shared.contracts.security import ViolationDetected
from opsdesk_shared.outbox import EventOutbox

from ..ports import People
from . import domain
from .domain import Incident, State
from .store import IncidentChanged, IncidentStore

PRODUCER = "intake"
ATTEMPTS = 5


DomainStep = Callable[[Incident], Incident]


class IncidentNotFound(LookupError):
    """No such incident (or the caller may not read incidents: both answer 404 or 403 at the edge)."""


@dataclass
class Incidents:
    """The incidents' ports: where they are kept, the outbox that relays their announcements, and the people identity
    knows (to name the actor of a violation another service detected)."""

    store: IncidentStore
    outbox: EventOutbox
    people: People | None = None
    # One fold-or-record at a time per (rule, actor, ticket) in this process: attempts delivered together fold in
    # one after another instead of racing for the same version (or both finding no incident and making two).
    locks: KeyedLocks = field(default_factory=KeyedLocks)


async def record_violation(
    violation: ViolationDetected, *, violation_id: str, incidents: Incidents, now: datetime, correlation_id: str,
) -> tuple[Incident, bool]:
    """Record a violation as an incident and announce it; once per violation id (a redelivery finds the first and
    sends whatever it left unsent). A refused attempt by the same actor on the same ticket within the window of the
    open incident's last one folds into it (a count and the time; no new announcement). Returns (incident, created)."""
    if domain.folds(violation) and violation.ticket_id is not None:
        async with incidents.locks.hold([f"{violation.rule}|{violation.actor}|{violation.ticket_id}"]):
            folded = await _fold(violation, violation_id=violation_id, incidents=incidents)
            if folded is not None:
                return folded, False
            return await _record(violation, violation_id=violation_id, incidents=incidents, now=now, correlation_id=correlation_id)
    return await _record(violation, violation_id=violation_id, incidents=incidents, now=now, correlation_id=correlation_id)


async def _record(
    violation: ViolationDetected, *, violation_id: str, incidents: Incidents, now: datetime, correlation_id: str,
) -> tuple[Incident, bool]:
    """A new incident for the violation, announced (once per violation id)."""
    name = violation.actor_name
    if name is None and incidents.people is not None and violation.actor:
        person = await incidents.people.actor_of(violation.actor)
        name = person.name if person is not None and person.name else None
    incident, event = domain.record(violation, violation_id=violation_id, now=now, actor_name=name)
    envelope = Envelope.wrap(
        event, producer=PRODUCER, correlation_id=correlation_id, subject_id=incident.id, occurred_at=now,
        event_id=uuid.uuid5(domain.NAMESPACE, f"raised|{incident.id}"),
    )
    if await incidents.store.add(incident, [envelope]):
        await incidents.outbox.deliver(incident.id, [envelope])
        return incident, True
    await incidents.outbox.relay_now(incident.id)
    existing = await incidents.store.get(incident.id)
    return (existing or incident), False


async def _fold(violation: ViolationDetected, *, violation_id: str, incidents: Incidents) -> Incident | None:
    """The incident the attempt is (or was already) folded into, or None when it starts a new one."""
    assert violation.ticket_id is not None
    for _ in range(ATTEMPTS):
        latest = await incidents.store.latest_for(rule=violation.rule, actor=violation.actor, ticket_id=violation.ticket_id)
        if latest is None:
            return None
        if violation_id in latest.violation_ids:
            await incidents.outbox.relay_now(latest.id)  # a redelivery: send whatever its first delivery left unsent
            return latest  # folded (or recorded) already
        folded = domain.fold_into(latest, violation, violation_id=violation_id)
        if folded is None:
            return None
        try:
            await incidents.store.replace(folded, expected_version=latest.version)
        except IncidentChanged:
            continue  # another attempt folded in (or the agency acknowledged it) meanwhile: decide again
        return folded
    raise IncidentChanged(violation.ticket_id)


def may_read(role: str) -> bool:
    return role in domain.READERS


async def listed(*, incidents: Incidents, state: State | None = None, limit: int = 200) -> list[Incident]:
    return await incidents.store.list(state=state, limit=limit)


async def get(incident_id: str, *, incidents: Incidents) -> Incident:
    found = await incidents.store.get(incident_id)
    if found is None:
        raise IncidentNotFound(incident_id)
    return found


async def acknowledge(incident_id: str, *, incidents: Incidents, role: str, by: str, note: str | None, now: datetime) -> Incident:
    return await _step(incident_id, lambda i: domain.acknowledge(i, role=role, by=by, note=note, now=now), incidents=incidents)


async def close(incident_id: str, *, incidents: Incidents, role: str, by: str, note: str, now: datetime) -> Incident:
    return await _step(incident_id, lambda i: domain.close(i, role=role, by=by, note=note, now=now), incidents=incidents)


async def _step(incident_id: str, decide: DomainStep, *, incidents: Incidents) -> Incident:
    for _ in range(ATTEMPTS):
        current = await get(incident_id, incidents=incidents)
        updated = decide(current)
        try:
            await incidents.store.replace(updated, expected_version=current.version)
        except IncidentChanged:
            continue
        return updated
    raise IncidentChanged(incident_id)
