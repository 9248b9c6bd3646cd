"""Transactional outbox without transactions: events are written inside the document they describe, then relayed.

FerretDB has no multi-document transactions, so an event is stored in the same single-document write as the change
(`_outbox` array plus an indexed `_pending` flag). The relay publishes it and clears it only after JetStream has
acknowledged; a crash in between leaves the event in the document, and the sweep (also run at start-up) sends it.
Publishing twice is harmless: the event id is the Nats-Msg-Id, so JetStream drops the duplicate.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, Protocol

from pymongo.asynchronous.collection import AsyncCollection

from .contracts import Envelope
from .mongo import Document, document_lock

log = logging.getLogger(__name__)

OUTBOX_FIELD = "_outbox"
PENDING_FIELD = "_pending"


class Publisher(Protocol):
    async def publish(self, envelope: Envelope) -> None: ...


def outbox_fields(events: Sequence[Envelope]) -> Document:
    """Fields to put in a new document so its events are stored with it."""
    return {OUTBOX_FIELD: [e.model_dump(mode="json") for e in events], PENDING_FIELD: True}


def outbox_push(events: Sequence[Envelope]) -> Document:
    """Update operators that append events to an existing document in the same write as the change."""
    return {
        "$push": {OUTBOX_FIELD: {"$each": [e.model_dump(mode="json") for e in events]}},
        "$set": {PENDING_FIELD: True},
    }


def strip_outbox(doc: Document) -> Document:
    return {k: v for k, v in doc.items() if k not in (OUTBOX_FIELD, PENDING_FIELD)}


class OutboxRelay:
    """Publishes the events stored in one collection's documents; one relay per owning collection."""

    def __init__(self, collection: AsyncCollection[Document], publisher: Publisher, *, interval_s: float = 1.0) -> None:
        self._collection = collection
        self._publisher = publisher
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    async def ensure_indexes(self) -> None:
        await self._collection.create_index(PENDING_FIELD, sparse=True)

    async def deliver(self, doc_id: Any, events: Sequence[Envelope]) -> bool:
        """Publish events just written with `doc_id`; on failure they stay stored for the sweep. True if all sent."""
        try:
            for event in events:
                await self._publisher.publish(event)
        except Exception:
            log.warning("publish failed; the outbox sweep will retry", exc_info=True)
            return False
        await self._clear(doc_id, [e.model_dump(mode="json") for e in events])
        return True

    async def _clear(self, doc_id: Any, sent: list[Document]) -> None:
        async with document_lock(self._collection, doc_id):
            await self._clear_locked(doc_id, sent)

    async def _clear_locked(self, doc_id: Any, sent: list[Document]) -> None:
        # The common case is one write: the outbox holds exactly what was sent, so empty it and drop the flag.
        result = await self._collection.update_one(
            {"_id": doc_id, OUTBOX_FIELD: sent},
            {"$set": {OUTBOX_FIELD: []}, "$unset": {PENDING_FIELD: ""}},
        )
        if result.matched_count == 0:
            # Something was appended meanwhile (or already cleared): remove only what was sent; the sweep does the rest.
            # $pull by the whole stored element: FerretDB v1 only matches elements by equality, not by condition.
            for event in sent:
                await self._collection.update_one({"_id": doc_id}, {"$pull": {OUTBOX_FIELD: event}})

    async def sweep(self) -> int:
        """Send every stored event still pending; returns how many were published."""
        sent = 0
        async for doc in self._collection.find({PENDING_FIELD: True}, {OUTBOX_FIELD: 1}):
            stored: list[Document] = doc.get(OUTBOX_FIELD) or []
            try:
                for raw in stored:
                    await self._publisher.publish(Envelope.model_validate(raw))
                    sent += 1
            except Exception:
                log.warning("outbox sweep could not publish; will retry", exc_info=True)
                return sent
            if stored:
                await self._clear(doc["_id"], stored)
            else:
                async with document_lock(self._collection, doc["_id"]):
                    await self._collection.update_one(
                        {"_id": doc["_id"], OUTBOX_FIELD: []}, {"$unset": {PENDING_FIELD: ""}}
                    )
        return sent

    async def _loop(self) -> None:
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox sweep failed")
            await asyncio.sleep(self._interval_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"outbox-relay:{self._collection.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None


class EventOutbox(Protocol):
    """Port the use cases publish through: events already stored with `doc_id` are relayed to the bus."""

    async def deliver(self, doc_id: Any, events: Sequence[Envelope]) -> bool: ...


class MemoryOutbox:
    """EventOutbox for unit tests: records what would have been published."""

    def __init__(self) -> None:
        self.published: list[Envelope] = []

    async def deliver(self, doc_id: Any, events: Sequence[Envelope]) -> bool:
        self.published.extend(events)
        return True
