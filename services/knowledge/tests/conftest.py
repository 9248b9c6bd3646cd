"""Shared fixtures for the knowledge tests: one jieba analyzer per session (it loads a dictionary), actors, tickets."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from knowledge.domain import Actor, ArticleContent
from knowledge.text import Analyzer
from opsdesk_shared.contracts import Requester, TicketCreatedV1

T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    a = Analyzer()
    a.initialize()
    return a


@pytest.fixture
def now() -> datetime:
    return T0


@pytest.fixture
def curator() -> Actor:
    return Actor(user="desk-lin", role="agent")


@pytest.fixture
def engineer() -> Actor:
    return Actor(user="eng-chen", role="engineer")


@pytest.fixture
def requester() -> Actor:
    return Actor(user="u-wang", role="requester", department="人事科")


@pytest.fixture
def content() -> Callable[..., ArticleContent]:
    def make(**overrides: Any) -> ArticleContent:
        fields: dict[str, Any] = {
            "title": "打印機卡紙的處理方法", "body": "關閉電源，打開前蓋取出卡住的紙張，撥鬆紙張後再放入紙盒。",
            "category": "打印機", "tags": ["卡紙"], "service_codes": ["RS-REPAIR"], "asset_types": ["printer"],
            "audience": "all",
        }
        fields.update(overrides)
        return ArticleContent(**fields)

    return make


@pytest.fixture
def ticket(now: datetime) -> Callable[..., TicketCreatedV1]:
    counter = iter(range(1, 1_000_000))

    def make(**overrides: Any) -> TicketCreatedV1:
        n = next(counter)
        fields: dict[str, Any] = {
            "ticket_id": str(uuid.uuid4()), "number": f"INC-2026-{n:06d}", "title": "打印機卡紙", "channel": "hotline",
            "service_code": "RS-REPAIR", "requester": Requester(name="王小明", department="辦公室"),
            "reported_at": now, "asset_tag": None,
        }
        fields.update(overrides)
        return TicketCreatedV1(**fields)

    return make
