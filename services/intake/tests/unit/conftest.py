"""Unit fixtures for intake: a fixed clock, a command factory and the memory adapters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from intake.adapters.memory import MemoryOutbox, MemoryTicketStore
from intake.domain import NewTicket
from opsdesk_shared.contracts import Requester

NewTicketFactory = Callable[..., NewTicket]


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 3, 14, 9, 30, 0, tzinfo=UTC)


@pytest.fixture
def new_ticket() -> NewTicketFactory:
    def make(**overrides: Any) -> NewTicket:
        fields: dict[str, Any] = {
            "title": "打印機卡紙",
            "description": "三樓打印機卡紙",
            "requester": Requester(name="王小明", phone="020-12345678", department="辦公室"),
            "channel": "hotline",
            "service_code": "RS-REPAIR",
            "asset_tag": "GZ-2026-000001",
        }
        fields.update(overrides)
        return NewTicket(**fields)

    return make


@pytest.fixture
def store() -> MemoryTicketStore:
    return MemoryTicketStore()


@pytest.fixture
def outbox() -> MemoryOutbox:
    return MemoryOutbox()
