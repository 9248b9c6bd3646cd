from __future__ import annotations

import builtins
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.contracts.knowledge import ArticlesQuery, ArticlesReply

from .projection import Effects

Document = dict[str, Any]


if TYPE_CHECKING:
    from .adapters.memory import MemoryReadModels


Counted = Callable[[list[str]], None]


def ignore_count(keys: list[str]) -> None:
    """The default `counted`: nobody keeps a live tally."""


class EventProjection(Protocol):
    async def record(self, envelope: Envelope, keys: list[str], counted: Counted = ignore_count) -> bool:
        """Store an event once; False when it was already recorded (a redelivery). `counted(keys)` runs once, at the
        moment the store counts the event, even when a failure follows it: the live tally must follow the store's
        count, or a redelivery that finds the event counted leaves the live figure one short."""
        ...

    async def counts(self) -> dict[str, int]:
        """Every counter key with its total, recomputed from the stored events."""
        ...


class ReadModels(Protocol):
    """Per-entity documents and per-period aggregate buckets of one projection generation."""

    async def update_entity(self, collection: str, key: str, decide: Callable[[Document | None], Document | None]) -> None:
        """Read one entity, decide its next version (None: leave it), write it; serialised per entity."""
        ...

    async def entity(self, collection: str, key: str) -> Document | None: ...

    def batch(self) -> AbstractAsyncContextManager[None]:
        """Writes made inside are stored together with those of other handlers at the same time (group commit), in
        the order made: an entity before the buckets its event adds to, a clean-up after both; on leaving, stored."""
        ...

    async def clear_pending(self, collection: str, key: str, event_id: str) -> None: ...

    async def apply(self, effects: Effects) -> None:
        """Add increments, set values and append to capped lists."""
        ...

    async def bucket(self, bucket_id: str) -> Document | None: ...

    async def items(self, list_id: str) -> list[Document]: ...

    async def load(self, staged: MemoryReadModels) -> None:
        """Write read models projected in memory into this (empty) generation, in bulk."""
        ...


class ReportStore(Protocol):
    """Generated reports with their files, and the overdue alerts already raised."""

    async def get(self, report_id: str) -> Document | None: ...

    async def put(self, report: Document, files: dict[str, bytes]) -> None: ...

    async def file(self, report_id: str, fmt: str) -> bytes | None: ...

    async def list(self, *, kind: str | None = None, limit: int = 200) -> list[Document]: ...

    async def versions(self, series: str) -> builtins.list[Document]:
        """Every stored version of one report (metadata only), in no particular order."""
        ...

    async def change(self, report_id: str, *, expected_rev: int, changes: Document) -> bool:
        """Set `changes` on a stored report's metadata if it is still at `expected_rev` (then rev + 1); False when
        someone changed it meanwhile (or it is gone)."""
        ...

    async def mark_alert(self, alert_id: str) -> bool:
        """Remember an alert; False when it was raised before."""
        ...

    async def schedule_since(self, default: datetime) -> datetime:
        """When the report calendar started (stored on first call): reports due before then are not owed."""
        ...


class ArticleSource(Protocol):
    """Published knowledge articles, asked of the knowledge service (it owns them)."""

    async def published(self, query: ArticlesQuery) -> ArticlesReply:
        """ArticlesUnavailable when knowledge does not answer."""
        ...


class ArticlesUnavailable(Exception):
    """The knowledge service did not answer the question about articles (503)."""


class Publisher(Protocol):
    async def publish(self, envelope: Envelope) -> None: ...


class Delivery(Protocol):
    async def deliver(self, *, report: Document, files: dict[str, bytes]) -> list[str]:
        """Send a stored report to its recipients; returns the channels that took it."""
        ...


class EventSource(Protocol):
    async def last_sequence(self) -> int: ...

    def replay(self, *, after: int, upto: int) -> Any:
        """Async iterator of (sequence, envelope) from the event stream, in order."""
        ...
