"""In-memory projection for unit tests only."""

from __future__ import annotations

from collections import Counter

from opsdesk_shared.contracts import Envelope


class MemoryEventProjection:
    def __init__(self) -> None:
        self.events: dict[str, list[str]] = {}

    async def record(self, envelope: Envelope, keys: list[str]) -> bool:
        event_id = str(envelope.event_id)
        if event_id in self.events:
            return False
        self.events[event_id] = keys
        return True

    async def counts(self) -> dict[str, int]:
        return dict(Counter(key for keys in self.events.values() for key in keys))
