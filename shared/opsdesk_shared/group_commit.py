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
from typing import Any, Generic, TypeVar

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError


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


T = TypeVar("T")
Out = TypeVar("Out")


class Batcher(Generic[T, Out]):
    """Items of handlers running at once, handled together: each `submit` queues its item and waits; one worker takes
    what is queued (up to `max_batch`), runs `run` on it, and answers each caller with its own result, or raises the
    exception `run` gave for that item. While a batch runs the next one gathers; batches never overlap. `run` raising
    fails its whole batch (the callers' messages are redelivered); cancellation fails everything queued."""

    def __init__(
        self, run: Callable[[list[T]], Awaitable[list[Out | BaseException]]], *, max_batch: int, name: str = "batch",
    ) -> None:
        self._run = run
        self._max = max_batch
        self._name = name
        self._queue: list[tuple[T, asyncio.Future[Out]]] = []
        self._worker: asyncio.Task[None] | None = None
        self.sizes: list[int] = []  # the last batches' sizes (read by tests)

    async def submit(self, item: T) -> Out:
        future: asyncio.Future[Out] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # the handlers started with this one queue first
        while self._queue:
            batch, self._queue = self._queue[: self._max], self._queue[self._max :]
            self.sizes = [*self.sizes[-99:], len(batch)]
            try:
                results = await self._run([item for item, _f in batch])
            except Exception as exc:
                for _i, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            except BaseException:
                for _i, future in [*batch, *self._queue]:
                    if not future.done():
                        future.set_exception(RuntimeError(f"{self._name} cancelled"))
                self._queue = []
                raise
            for (_i, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue  # its caller gave up (cancelled); its message will be redelivered
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)


class GroupInsert:
    """Inserts from concurrent handlers gathered into one unordered insert_many (a group commit): a new document costs
    a command per gathered group, not one each. `insert` answers True (inserted) or False (a document with that id
    exists), or raises what the insert raised; a handler returns only once its own insert has answered. (Reporting's
    tally tail and records, the SLA monitor's timers, assets' new mappings.)"""

    def __init__(self, collection: AsyncCollection[dict[str, Any]], *, max_batch: int = 256) -> None:
        self._collection = collection
        self._batcher: Batcher[dict[str, Any], bool] = Batcher(self._insert_many, max_batch=max_batch, name="grouped insert")

    async def insert(self, doc: dict[str, Any]) -> bool:
        return await self._batcher.submit(doc)

    async def _insert_many(self, docs: list[dict[str, Any]]) -> list[bool | BaseException]:
        try:
            await self._collection.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors") or []
            if any(e.get("code") != 11000 for e in errors):
                raise
            duplicate = {int(e["index"]) for e in errors}
            return [n not in duplicate for n in range(len(docs))]
        return [True] * len(docs)
