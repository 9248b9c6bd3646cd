"""Read models staged in memory for a rebuild: the whole stream is projected here, then written to the fresh
generation in bulk. Projecting straight into FerretDB costs several round trips per event (each rewriting a whole
document); staged, a rebuild is bound by Python instead, and the database sees a few thousand batched inserts.

Memory grows with the number of entities in the stream (about 1-2 KB each), which is the price of the speed; the
tail replay after the switch, and every live event, still go through the database one event at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .adapters.memory import MemoryReadModels

Document = dict[str, Any]


class StagedReadModels(MemoryReadModels):
    """MemoryReadModels without defensive copies: only the replay touches it, one event at a time."""

    async def update_entity(self, collection: str, key: str, decide: Callable[[Document | None], Document | None]) -> None:
        new = decide(self.entities.get((collection, key)))
        if new is not None:
            new["_id"] = key
            self.entities[(collection, key)] = new
