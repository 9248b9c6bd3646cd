from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.outbox import EventOutbox as EventOutbox

from .domain import Asset, Repair


class ConcurrentUpdate(Exception):
    """The record changed between load and save."""


class AssetRegister(Protocol):
    async def get(self, tag: str) -> Asset | None: ...
    async def set_status(self, tag: str, status: str) -> None: ...


class RepairStore(Protocol):
    async def get(self, repair_id: str) -> Repair | None: ...
    async def add(self, repair: Repair, events: Sequence[Envelope]) -> None: ...
    async def save(self, repair: Repair, events: Sequence[Envelope]) -> Repair:
        """Replace if the stored record is still at `repair.version`, else raise ConcurrentUpdate; returns it as stored."""
        ...
