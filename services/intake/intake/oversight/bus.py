"""The incidents' bus edge: a violation another service detected becomes an incident, once per event id."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from faststream.nats import NatsBroker

from opsdesk_shared.bus import subscribe_events
from opsdesk_shared.contracts import Envelope, subjects
from opsdesk_shared.contracts.security import AssignmentViolationDetectedV1

from . import service
from .service import Incidents


def register(broker: NatsBroker, *, incidents: Incidents, max_deliver: int, ack_wait_s: float) -> None:
    async def on_violation(envelope: Envelope, violation: AssignmentViolationDetectedV1) -> None:
        await service.record_violation(
            violation, violation_id=str(envelope.event_id), incidents=incidents, now=datetime.now(UTC),
            correlation_id=envelope.correlation_id,
        )

    handler: Any = on_violation
    subscribe_events(
        broker, subject=subjects.ASSIGNMENT_VIOLATION_DETECTED, durable="intake-violation-assignment", handler=handler,
        max_deliver=max_deliver, ack_wait_s=ack_wait_s, description="Record an engineer's act beyond authorization as a security incident",
    )
