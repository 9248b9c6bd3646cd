"""The envelope every Opsdesk event travels in; the payload models live beside it, one module per family."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_serializer


def utcnow() -> datetime:
    return datetime.now(UTC)


class EventData(BaseModel):
    """Base of every event payload: frozen, and tolerant of fields added by newer producers."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]
    event_version: ClassVar[int]


class Envelope(BaseModel):
    """Metadata shared by all events; `data` holds the versioned payload as a plain mapping on the wire."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4, description="Unique id; also the JetStream Nats-Msg-Id")
    type: str = Field(description="Event type, equal to the NATS subject it is published on, e.g. ticket.created")
    version: int = Field(ge=1, description="Schema version of `data` for this type")
    occurred_at: datetime = Field(default_factory=utcnow, description="When it happened, UTC, ISO 8601")
    producer: str = Field(description="Service that emitted the event")
    correlation_id: str = Field(description="Id shared by every event and log line of one business flow")
    causation_id: str | None = Field(default=None, description="event_id (or request id) that caused this event")
    subject_id: str = Field(description="Aggregate the event is about (ticket id, asset tag...), for per-entity ordering")
    data: dict[str, Any] = Field(description="The payload, validated by the model registered for (type, version)")

    @field_serializer("occurred_at")
    def _utc_iso(self, value: datetime) -> str:
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")

    @classmethod
    def wrap(
        cls,
        data: EventData,
        *,
        producer: str,
        correlation_id: str,
        subject_id: str,
        causation_id: str | None = None,
        occurred_at: datetime | None = None,
        event_id: uuid.UUID | None = None,
    ) -> Envelope:
        """`event_id` is random unless given: a fact that several processes may each detect (an SLA breach) gets
        a deterministic id, so JetStream's de-duplication and idempotent consumers keep exactly one."""
        return cls(
            event_id=event_id or uuid.uuid4(),
            type=data.event_type,
            version=data.event_version,
            producer=producer,
            correlation_id=correlation_id,
            causation_id=causation_id,
            subject_id=subject_id,
            occurred_at=occurred_at or utcnow(),
            data=data.model_dump(mode="json"),
        )

    def to_wire(self) -> bytes:
        return self.model_dump_json().encode()
