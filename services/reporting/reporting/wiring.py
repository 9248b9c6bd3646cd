"""The adapters every edge works on; tests build them in memory with `memory_adapters`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .adapters.memory import MemoryEventProjection, MemoryGenerations, MemoryPublisher, MemoryReportStore
from .domain import Tally
from .ports import ArticleSource, Delivery, EventProjection, EventSource, Publisher, ReportStore
from .rebuild import Generations, Projection
from .settings import ReportingSettings


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Adapters:
    projection: EventProjection
    tally: Tally
    settings: ReportingSettings = field(default_factory=ReportingSettings)
    holder: Projection = field(default_factory=lambda: Projection(models=MemoryGenerations().models(1), generation=1))
    reports: ReportStore = field(default_factory=MemoryReportStore)
    publisher: Publisher = field(default_factory=MemoryPublisher)
    generations: Generations = field(default_factory=MemoryGenerations)
    source: EventSource | None = None
    delivery: Delivery | None = None
    # Published knowledge articles for the maintenance manual (knowledge answers rpc.kb.articles).
    articles: ArticleSource | None = None
    clock: Callable[[], datetime] = _utcnow
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)


def memory_adapters(settings: ReportingSettings | None = None, **overrides: Any) -> Adapters:
    """Everything on memory adapters, for tests; the holder is generation 1 of the returned generations."""
    generations = overrides.pop("generations", None) or MemoryGenerations()
    holder = Projection(models=generations.models(1), generation=1)
    return Adapters(projection=MemoryEventProjection(), tally=Tally(), settings=settings or ReportingSettings(),
                    holder=holder, generations=generations, **overrides)
