"""Builders for every contract event reporting counts, each with a fresh event id."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from opsdesk_shared.contracts import (
    Envelope,
    EventData,
    RepairUpdatedV1,
    Requester,
    SlaBreachedV1,
    TicketAssignedV1,
    TicketCreatedV1,
)

T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)

Event = tuple[Envelope, EventData]
EventFactory = Callable[..., Event]


def wrap(data: EventData, subject_id: str, *, producer: str) -> Event:
    return Envelope.wrap(data, producer=producer, correlation_id=f"corr-{uuid.uuid4().hex[:8]}", subject_id=subject_id), data


@pytest.fixture
def ticket_created() -> EventFactory:
    def make(*, channel: str = "hotline", service_code: str = "RS-REPAIR") -> Event:
        tid = str(uuid.uuid4())
        data = TicketCreatedV1(
            ticket_id=tid, number="INC-2026-000001", title="Printer jams", channel=channel,  # type: ignore[arg-type]
            service_code=service_code, requester=Requester(name="王小明"), reported_at=T0,
        )
        return wrap(data, tid, producer="intake")

    return make


@pytest.fixture
def ticket_assigned() -> EventFactory:
    def make(*, engineer_id: str = "eng-1") -> Event:
        tid = str(uuid.uuid4())
        data = TicketAssignedV1(
            ticket_id=tid, assignment_id=str(uuid.uuid4()), engineer_id=engineer_id, engineer_name="李華",
            reason="nearest", assigned_at=T0,
        )
        return wrap(data, tid, producer="dispatch")

    return make


@pytest.fixture
def sla_breached() -> EventFactory:
    def make(*, timer: str = "response") -> Event:
        tid = str(uuid.uuid4())
        data = SlaBreachedV1(ticket_id=tid, timer=timer, started_at=T0, due_at=T0, breached_at=T0)
        return wrap(data, tid, producer="sla-monitor")

    return make


@pytest.fixture
def repair_updated() -> EventFactory:
    def make(*, status: str = "open") -> Event:
        data = RepairUpdatedV1(repair_id=str(uuid.uuid4()), asset_tag="GZ-2026-000001", status=status, updated_at=T0)  # type: ignore[arg-type]
        return wrap(data, "GZ-2026-000001", producer="assets")

    return make
