"""Shared builders for the SLA monitor's tests: ticket events with unique ids and fixed clocks."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from opsdesk_shared.contracts import Envelope, Requester, TicketAssignedV1, TicketCreatedV1

# Millisecond precision, so a timer read back from the database compares equal to the one written.
T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)

TicketCreatedFactory = Callable[..., tuple[Envelope, TicketCreatedV1]]
TicketAssignedFactory = Callable[..., tuple[Envelope, TicketAssignedV1]]


@pytest.fixture
def t0() -> datetime:
    return T0


@pytest.fixture
def ticket_id() -> str:
    return f"tkt-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def ticket_created() -> TicketCreatedFactory:
    """Build a ticket.created envelope and payload as intake would publish it."""

    def make(
        *, ticket_id: str | None = None, reported_at: datetime = T0, correlation_id: str | None = None,
        event_id: uuid.UUID | None = None, sla_profile: str = "responsive",
    ) -> tuple[Envelope, TicketCreatedV1]:
        tid = ticket_id or f"tkt-{uuid.uuid4().hex[:12]}"
        data = TicketCreatedV1(
            ticket_id=tid, number="INC-2026-000001", title="Printer jams", channel="hotline", service_code="RS-REPAIR",
            requester=Requester(name="王小明"), reported_at=reported_at, sla_profile=sla_profile,
        )
        envelope = Envelope.wrap(
            data, producer="intake", correlation_id=correlation_id or f"corr-{uuid.uuid4().hex[:8]}", subject_id=tid,
        )
        if event_id is not None:
            envelope = envelope.model_copy(update={"event_id": event_id})
        return envelope, data

    return make


@pytest.fixture
def ticket_assigned() -> TicketAssignedFactory:
    def make(*, ticket_id: str, assigned_at: datetime, correlation_id: str = "corr") -> tuple[Envelope, TicketAssignedV1]:
        data = TicketAssignedV1(
            ticket_id=ticket_id, assignment_id=f"asg-{uuid.uuid4().hex[:8]}", engineer_id="eng-1", engineer_name="李華",
            reason="nearest free engineer", assigned_at=assigned_at,
        )
        return Envelope.wrap(data, producer="dispatch", correlation_id=correlation_id, subject_id=ticket_id), data

    return make
