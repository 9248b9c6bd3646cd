"""Unit fixtures for dispatch: a fixed clock, an engineer factory and a ticket.created payload factory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from dispatch.domain import Engineer
from opsdesk_shared.contracts import Requester, TicketCreatedV1


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 3, 14, 9, 30, 0, tzinfo=UTC)


@pytest.fixture
def engineer() -> Callable[..., Engineer]:
    def make(id: str, **overrides: Any) -> Engineer:
        fields: dict[str, Any] = {"name": f"name of {id}", "role": "onsite", "skills": ("desktop", "printer")}
        fields.update(overrides)
        return Engineer(id=id, **fields)

    return make


@pytest.fixture
def ticket(now: datetime) -> Callable[..., TicketCreatedV1]:
    counter = iter(range(1, 1_000_000))

    def make(**overrides: Any) -> TicketCreatedV1:
        n = next(counter)
        fields: dict[str, Any] = {
            "ticket_id": f"ticket-{n}",
            "number": f"INC-2026-{n:06d}",
            "title": "打印機卡紙",
            "channel": "hotline",
            "service_code": "RS-REPAIR",
            "skill": "printer",  # what the catalog's RS-REPAIR entry says, carried by intake in ticket.created
            "requester": Requester(name="王小明"),
            "reported_at": now,
        }
        fields.update(overrides)
        return TicketCreatedV1(**fields)

    return make
