from __future__ import annotations

from typing import Protocol

from opsdesk_shared.contracts import Envelope


class EventProjection(Protocol):
    async def record(self, envelope: Envelope, keys: list[str]) -> bool:
        """Store an event once; False when it was already recorded (a redelivery)."""
        ...

    async def counts(self) -> dict[str, int]:
        """Every counter key with its total, recomputed from the stored events."""
        ...
