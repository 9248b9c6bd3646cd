"""Group commit: the writes of handlers running at once are stored together, one bulk command per round (issue 17).

A pulled JetStream batch runs up to 32 handlers at once (`bus.subscribe_events`). Each handler prepares its writes in
a unit of its own, then hands the unit to the open round and waits until that round is stored; only then does it
return, so its message is acknowledged only once what it wrote is stored (nothing accepted is lost). One round is
stored at a time; while it is, the next round collects the units that arrive meanwhile. At rest a round holds one
unit (the cost of a write is what it was); under load a round holds many, and a store merges them: the same document
written by several units is written once, increments to one document are summed.

A failed round fails every unit in it: their handlers raise, their messages are redelivered, and the store forgets
what it remembered of the documents in the round. A unit joins a round whole, in one step without awaiting, so a
round never holds half of a handler's writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar


class Round:
    """One round's writes; a store subclasses it with the shapes it merges (documents by key, increments by key)."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.units = 0
        self.stored = False
        self.error: BaseException | None = None


R = TypeVar("R", bound=Round)


class GroupCommit(Generic[R]):
    """Rounds of one store: `open` collects units, `commit(round)` returns once that round is stored (or raises)."""

    def __init__(self, new_round: Callable[[int], R], store: Callable[[R], Awaitable[None]]) -> None:
        self._new_round = new_round
        self._store = store
        self._lock = asyncio.Lock()  # one round stored at a time; FIFO, so rounds are stored in their order
        self._numbers = 0
        self.open: R = self._next()
        self.rounds_stored = 0
        self.units_stored = 0

    def _next(self) -> R:
        self._numbers += 1
        return self._new_round(self._numbers)

    async def commit(self, round_: R) -> None:
        """Wait until `round_` is stored: the first waiter after the round before it stores it."""
        while not round_.stored and round_.error is None:
            async with self._lock:
                if round_.stored or round_.error is not None:
                    break
                if round_ is self.open:
                    self.open = self._next()
                try:
                    await self._store(round_)
                except BaseException as exc:
                    round_.error = exc
                    raise
                round_.stored = True
                self.rounds_stored += 1
                self.units_stored += round_.units
        if round_.error is not None:
            raise round_.error
