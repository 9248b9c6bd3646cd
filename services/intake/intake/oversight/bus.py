"""The incidents' bus edge: a violation another service detected (dispatch: an engineer's act; assets: a CI change or a
repair) becomes an incident, once per event id."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from faststream.nats import NatsBroker

from opsdesk_shared.bus import subscribe_events
from opsdesk_shared.contracts import Envelope, subjects
from opsdesk_shared.contracts.security import AssignmentViolationDetectedV1, CmdbViolationDetectedV1, ViolationDetected

from . import service
from .service import Incidents


def register(broker: NatsBroker, *, incidents: Incidents, max_deliver: int, ack_wait_s: float) -> None:
    async def record(envelope: Envelope, violation: ViolationDetected) -> None:
        await service.record_violation(
            violation, violation_id=str(envelope.event_id), incidents=incidents, now=datetime.now(UTC),
            correlation_id=envelope.correlation_id,
        )

    async def on_engineer_act(envelope: Envelope, violation: AssignmentViolationDetectedV1) -> None:
        await record(envelope, violation)

    async def on_cmdb_act(envelope: Envelope, violation: CmdbViolationDetectedV1) -> None:
        await record(envelope, violation)

    routes: tuple[tuple[str, str, Any, str], ...] = (
        (subjects.ASSIGNMENT_VIOLATION_DETECTED, "intake-violation-assignment", on_engineer_act,
         "Record an engineer's act beyond authorization as a security incident"),
        (subjects.CMDB_VIOLATION_DETECTED, "intake-violation-cmdb", on_cmdb_act,
         "Record a CI change or a storage device's repair beyond authorization as a security incident"),
    )
    for subject, durable, handler, description in routes:
        subscribe_events(
            broker, subject=subject, durable=durable, handler=handler, max_deliver=max_deliver, ack_wait_s=ack_wait_s,
            description=description,
        )
