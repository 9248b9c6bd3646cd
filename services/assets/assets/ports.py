from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.errors import Contention
from opsdesk_shared.outbox import EventOutbox as EventOutbox

from .domain import Asset, CiVersion, Repair
from .search import ItemQuery

Doc = dict[str, Any]


class ConcurrentUpdate(Contention):
    """The record changed between load and save."""


class DuplicateKey(Exception):
    """A record with this key exists already."""


class AssetRegister(Protocol):
    """The register: one document per item keyed by tag, and its append-only version history."""

    async def get(self, tag: str) -> Asset | None: ...
    async def set_status(self, tag: str, status: str) -> None:
        """Unversioned status write, kept for seeding and old callers; use cases go through `save`."""
        ...
    async def add(self, asset: Asset, record: CiVersion, events: Sequence[Envelope]) -> None:
        """Register a new item (raises DuplicateKey) with its first version; events are relayed."""
        ...
    async def save(self, asset: Asset, record: CiVersion, events: Sequence[Envelope]) -> None:
        """Store `asset` (at version n) if the stored one is still at n - 1, else raise ConcurrentUpdate."""
        ...
    async def add_many(self, assets: Sequence[Asset], records: Sequence[CiVersion]) -> int: ...
    async def history(self, tag: str) -> list[CiVersion]: ...
    def scan(self) -> AsyncIterator[Asset]: ...
    async def search(self, query: ItemQuery, *, after: str | None = None, offset: int = 0, limit: int = 100) -> list[Asset]:
        """Items matching `query`, by tag, after the tag `after` and `offset` more, at most `limit`: answered by
        the database from the keys stored with each item (search.py), never by a scan into the service."""
        ...
    def nodes(self) -> AsyncIterator[tuple[str, str, str | None]]:
        """(tag, type, department) of every item, read without the rest of each document (the graph's load)."""
        ...
    async def tags(self) -> set[str]: ...
    async def names(self, tags: Sequence[str]) -> dict[str, str | None]:
        """The name of each registered item among `tags` (read by key, a batch at a time)."""
        ...
    async def next_numbers(self, key: str, count: int = 1) -> int:
        """Reserve `count` numbers of the sequence `key`; returns the first."""
        ...


class Docs(Protocol):
    """A keyed collection of plain (JSON-mode) documents; writes that carry events relay them after storing them
    in the same document (the outbox)."""

    async def get(self, key: str) -> Doc | None: ...
    async def create(self, key: str, doc: Doc, events: Sequence[Envelope] = ()) -> None:
        """Raises DuplicateKey when the key exists."""
        ...
    async def put(self, key: str, doc: Doc, events: Sequence[Envelope] = ()) -> None: ...
    async def replace_if(self, key: str, doc: Doc, *, expect: Doc, events: Sequence[Envelope] = ()) -> bool:
        """Replace only while the stored fields equal `expect`; False otherwise (or when missing)."""
        ...
    async def create_many(self, docs: Sequence[tuple[str, Doc]]) -> None: ...
    async def delete(self, key: str) -> bool: ...
    def scan(self, fields: Sequence[str] | None = None) -> AsyncIterator[Doc]:
        """Every document; with `fields`, only those (and `_id`)."""
        ...
    async def keys(self) -> set[str]: ...
    async def incr(self, key: str, field: str, by: int = 1) -> int:
        """Add to a counter (created at 0) and return the new value."""
        ...


class RepairStore(Protocol):
    async def get(self, repair_id: str) -> Repair | None: ...
    async def add(self, repair: Repair, events: Sequence[Envelope]) -> None: ...
    async def save(self, repair: Repair, events: Sequence[Envelope]) -> Repair:
        """Replace if the stored record is still at `repair.version`, else raise ConcurrentUpdate; returns it as stored."""
        ...
    def scan(self) -> AsyncIterator[Repair]:
        """Every repair record (lists filter and page them: repairs number hundreds a year)."""
        ...
