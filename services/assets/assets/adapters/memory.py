"""In-memory adapters for unit tests only."""

from __future__ import annotations

from collections.abc import Sequence

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.outbox import MemoryOutbox as MemoryOutbox

from ..domain import Asset, Repair
from ..ports import ConcurrentUpdate


class MemoryAssetRegister:
    def __init__(self, assets: Sequence[Asset] = ()) -> None:
        self.by_tag = {a.tag: a for a in assets}

    async def get(self, tag: str) -> Asset | None:
        return self.by_tag.get(tag)

    async def set_status(self, tag: str, status: str) -> None:
        self.by_tag[tag] = self.by_tag[tag].model_copy(update={"status": status})


class MemoryRepairStore:
    def __init__(self) -> None:
        self.by_id: dict[str, Repair] = {}

    async def get(self, repair_id: str) -> Repair | None:
        return self.by_id.get(repair_id)

    async def add(self, repair: Repair, events: Sequence[Envelope]) -> None:
        self.by_id[repair.id] = repair

    async def save(self, repair: Repair, events: Sequence[Envelope]) -> Repair:
        current = self.by_id.get(repair.id)
        if current is None or current.version != repair.version:
            raise ConcurrentUpdate(repair.id)
        self.by_id[repair.id] = repair.model_copy(update={"version": repair.version + 1})
        return self.by_id[repair.id]
