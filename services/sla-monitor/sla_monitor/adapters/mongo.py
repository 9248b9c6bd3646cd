"""The SLA monitor's own database: one document per timer, keyed ticket:timer, carrying its outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.mongo import Document, update_if
from opsdesk_shared.outbox import outbox_push, strip_outbox

from ..domain import Timer


def _from_doc(doc: Document) -> Timer:
    fields = strip_outbox(doc)
    fields.pop("_id")
    return Timer.model_validate(fields)


class MongoTimerStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._timers = db["timers"]

    @property
    def collection(self) -> Any:
        return self._timers

    async def ensure_indexes(self) -> None:
        await self._timers.create_index([("status", 1), ("due_at", 1)])

    async def get(self, key: str) -> Timer | None:
        doc = await self._timers.find_one({"_id": key})
        return _from_doc(doc) if doc else None

    async def add(self, timer: Timer) -> bool:
        try:
            await self._timers.insert_one({"_id": timer.key, **timer.model_dump()})
        except DuplicateKeyError:
            return False
        return True

    async def stop(self, key: str, *, at: datetime) -> bool:
        return await update_if(
            self._timers, key, expect={"status": "running"}, update={"$set": {"status": "stopped", "stopped_at": at}}
        )

    async def replace_early_stop(self, timer: Timer) -> bool:
        return await update_if(
            self._timers, timer.key, expect={"status": "stopped", "started_at": None},
            update={"$set": timer.model_dump()},
        )

    async def running(self) -> list[Timer]:
        """Every running timer: one scan, at start-up only."""
        return [_from_doc(doc) async for doc in self._timers.find({"status": "running"}, {"_outbox": 0})]

    async def due(self, now: datetime, *, limit: int) -> list[Timer]:
        cursor = self._timers.find({"status": "running", "due_at": {"$lte": now}}).sort("due_at", 1).limit(limit)
        return [_from_doc(doc) async for doc in cursor]

    async def mark_breached(self, timer: Timer, events: Sequence[Envelope]) -> bool:
        return await update_if(
            self._timers, timer.key, expect={"status": "running"},
            update={"$set": {"status": "breached", "breached_at": timer.breached_at}, "$push": outbox_push(events)},
        )
