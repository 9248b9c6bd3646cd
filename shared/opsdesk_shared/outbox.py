"""Transactional outbox without transactions: events are written inside the document they describe, then relayed.

FerretDB has no multi-document transactions, so an event is stored in the same single-document write as the change
(an `_outbox` array). The relay publishes it and removes it only after JetStream has acknowledged; a crash in between
leaves the event in the document, and the start-up sweep sends it. Publishing twice is harmless: the event id is the
Nats-Msg-Id, so JetStream drops the duplicate.

Every steady-state operation addresses a document by `_id` alone, the only filter FerretDB v1's SQLite backend does
not answer by scanning the collection. The one scan is the full sweep (at start-up, then rarely).

Markers (`mark_pending`, a relay with `markers=True`) let the sweep find stored events without scanning. A write
made inside a JetStream handler needs none (issue 17): its message is acknowledged only after the handler returns,
so a process that dies between the write and the publish has the message redelivered, and the redelivered handler,
finding its effect stored, sends what is still there (`relay_now`). Such a write is delivered with `marked=False`:
no marker to delete after the publish, and when the publish fails the marker is noted then, so a crash before
the redelivery leaves the events to the start-up sweep as well.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any, Protocol

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from .contracts import Envelope
from .errors import Unavailable, outages_noted
from .mongo import Document, document_lock
from .periodic import Periodic

log = logging.getLogger(__name__)

OUTBOX_FIELD = "_outbox"


class Publisher(Protocol):
    async def publish(self, envelope: Envelope) -> None: ...


class EventOutbox(Protocol):
    """Port the use cases publish through: events already stored with `doc_id` are relayed to the bus."""

    async def deliver(self, doc_id: Any, events: Sequence[Envelope]) -> bool: ...

    async def relay_now(self, doc_id: Any) -> int:
        """Publish at once whatever events are still stored with `doc_id`; how many were sent.

        For a replayed or redelivered command that finds its effect already stored: the events written with that
        effect may be waiting there because the process that wrote them died (or its database did) before sending
        them; the replay sends them now, not at the next full sweep minutes later (issue 14, defect 3)."""
        ...


class HandlerOutbox(EventOutbox, Protocol):
    """The outbox as a JetStream handler uses it (issue 17): `marked=False` for events written without a pending
    marker (the relay then deletes none after the publish, and notes one if the publish fails)."""

    async def deliver(self, doc_id: Any, events: Sequence[Envelope], *, marked: bool = True) -> bool: ...


class EventsNotSent(Unavailable):
    """A handler's write is stored but its events were not published: the message must be delivered again, and the
    redelivery finds the write and relays them (relay_now). Transient (Unavailable): retried for as long as the bus
    refuses, never dead-lettered for it (subscribe_events), so the redelivery that relays the events does come."""


async def deliver_from_handler(outbox: HandlerOutbox, doc_id: Any, events: Sequence[Envelope]) -> None:
    """Publish the events a JetStream handler just stored with `doc_id` without a pending marker; when that fails,
    raise EventsNotSent so the message is not acknowledged (see the module's note on markers)."""
    if events and not await outbox.deliver(doc_id, events, marked=False):
        raise EventsNotSent(f"the events of {doc_id} are stored but not published; the message will come again")


def _stored(events: Sequence[Envelope]) -> list[Document]:
    return [e.model_dump(mode="json") for e in events]


def outbox_fields(events: Sequence[Envelope]) -> Document:
    """Fields to put in a new document so its events are stored with it."""
    return {OUTBOX_FIELD: _stored(events)}


def outbox_push(events: Sequence[Envelope]) -> Document:
    """The $push that appends events to an existing document in the same write as the change."""
    return {OUTBOX_FIELD: {"$each": _stored(events)}}


def pending_collection(collection: AsyncCollection[Document]) -> AsyncCollection[Document]:
    return collection.database[f"{collection.name}_outbox_pending"]


async def mark_pending(collection: AsyncCollection[Document], doc_id: Any) -> None:
    """Note, before writing events into a document, that it will hold some: the relay then finds them by `_id`.

    For collections too large to scan (a million SLA timers) whose events are rare; a crash after the note and
    before the write leaves a note the sweep simply drops.
    """
    with contextlib.suppress(DuplicateKeyError):
        await pending_collection(collection).insert_one({"_id": doc_id})


def strip_outbox(doc: Document) -> Document:
    return {k: v for k, v in doc.items() if k != OUTBOX_FIELD}


class OutboxRelay:
    """Publishes the events stored in one collection's documents; one relay per owning collection."""

    def __init__(
        self,
        collection: AsyncCollection[Document],
        publisher: Publisher,
        *,
        interval_s: float = 1.0,
        full_sweep_s: float = 300.0,
        markers: bool = False,
    ) -> None:
        self._collection = collection
        self._publisher = publisher
        # With markers the stores note pending documents (mark_pending) and no sweep ever scans the collection.
        self._markers = pending_collection(collection) if markers else None
        self._full_sweep_s = full_sweep_s
        self._retry: set[Any] = set()
        self._next_full = 0.0
        self._outages_seen = outages_noted()
        self._last_full = float("-inf")
        self._periodic = Periodic(self.step, interval_s=interval_s, name=f"outbox-relay:{collection.name}")

    async def deliver(self, doc_id: Any, events: Sequence[Envelope], *, marked: bool = True) -> bool:
        """Publish events just written with `doc_id`; on failure they stay stored and are retried. True if all sent.

        Never raises: the change is committed once its document is written, so nothing after that may turn the
        caller's answer into an error. A clean-up that fails (the database died after the publish) leaves events
        already sent in the document; the retry removes them, and republishing one is harmless (Nats-Msg-Id).

        `marked=False`: the writer noted no marker (a write inside a JetStream handler, see the module docstring), so
        none is deleted after the publish; if the publish fails, the marker is noted now, best effort, so that the
        sweep after a crash still finds the events. The caller should then fail its message (it is redelivered)."""
        try:
            for event in events:
                await self._publisher.publish(event)
        except Exception:
            log.warning("publish failed; the outbox relay will retry", exc_info=True)
            self._retry.add(doc_id)
            if self._markers is not None and not marked:
                try:
                    await mark_pending(self._collection, doc_id)
                except Exception:
                    log.warning("could not note the unsent events' marker; the redelivery sends them", exc_info=True)
            return False
        try:
            await self._remove(doc_id, _stored(events))
            if self._markers is not None and marked:
                await self._markers.delete_one({"_id": doc_id})
        except Exception:
            log.warning("outbox clean-up failed after the publish; the relay will finish it", exc_info=True)
            self._retry.add(doc_id)
        return True

    async def relay_now(self, doc_id: Any) -> int:
        """Publish what is still stored with `doc_id` (see EventOutbox.relay_now); one read by `_id`.

        Raises when the database or the bus fails, so a redelivered message is retried rather than acknowledged
        with its effect's events still unsent."""
        doc = await self._collection.find_one({"_id": doc_id}, {OUTBOX_FIELD: 1})
        sent = await self._send_stored(doc_id, (doc or {}).get(OUTBOX_FIELD) or [])
        self._retry.discard(doc_id)
        if self._markers is not None and sent:
            await self._markers.delete_one({"_id": doc_id})
        return sent

    async def _remove(self, doc_id: Any, sent: list[Document]) -> None:
        # One $pullAll of the whole stored elements, however many were sent (it was a $pull each): FerretDB v1 matches
        # array elements by equality only, not by condition.
        if not sent:
            return
        async with document_lock(self._collection, doc_id):
            await self._collection.update_one({"_id": doc_id}, {"$pullAll": {OUTBOX_FIELD: sent}})

    async def _send_stored(self, doc_id: Any, stored: list[Document]) -> int:
        for raw in stored:
            await self._publisher.publish(Envelope.model_validate(raw))
        if stored:
            await self._remove(doc_id, stored)
        return len(stored)

    async def retry_failed(self) -> int:
        """Resend what this process failed to publish, document by document (by `_id`: cheap on every server)."""
        sent = 0
        for doc_id in list(self._retry):
            doc = await self._collection.find_one({"_id": doc_id}, {OUTBOX_FIELD: 1})
            sent += await self._send_stored(doc_id, (doc or {}).get(OUTBOX_FIELD) or [])
            self._retry.discard(doc_id)
            if self._markers is not None:
                await self._markers.delete_one({"_id": doc_id})
        return sent

    async def sweep(self) -> int:
        """Send every stored event still in any document: after a crash, at start-up. Returns how many."""
        if self._markers is not None:
            return await self._sweep_marked()
        sent = 0
        async for doc in self._collection.find({f"{OUTBOX_FIELD}.0": {"$exists": True}}, {OUTBOX_FIELD: 1}):
            sent += await self._send_stored(doc["_id"], doc.get(OUTBOX_FIELD) or [])
        return sent

    async def _sweep_marked(self) -> int:
        assert self._markers is not None
        sent = 0
        async for marker in self._markers.find({}):
            doc = await self._collection.find_one({"_id": marker["_id"]}, {OUTBOX_FIELD: 1})
            sent += await self._send_stored(marker["_id"], (doc or {}).get(OUTBOX_FIELD) or [])
            await self._markers.delete_one({"_id": marker["_id"]})
        return sent

    # After an outage the process noted (errors.note_outage), the extra sweep waits this long for the server to return.
    OUTAGE_SWEEP_DELAY_S = 2.0
    OUTAGE_SWEEP_GAP_S = 20.0

    async def step(self) -> None:
        """One relay round: the full sweep when it is due (first at start-up, and soon after an outage this process
        met: a writer that failed after its write left its events stored, unsent and not in any retry list; issue 14
        defect 3 saw one wait 146 s for the 300-second sweep), else the retries of this process."""
        if (seen := outages_noted()) != self._outages_seen:
            self._outages_seen = seen
            # At most one extra sweep per OUTAGE_SWEEP_GAP_S: a long outage notes one per failed handler.
            soon = max(time.monotonic() + self.OUTAGE_SWEEP_DELAY_S, self._last_full + self.OUTAGE_SWEEP_GAP_S)
            self._next_full = min(self._next_full, soon)
        if time.monotonic() >= self._next_full:
            await self.sweep()
            self._last_full = time.monotonic()
            self._next_full = self._last_full + self._full_sweep_s
        elif self._retry:
            await self.retry_failed()

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()


class MemoryOutbox:
    """EventOutbox for unit tests: records what would have been published.

    A memory store that calls `store(doc_id, events)` with every write that carries events (as the database keeps
    them in the document's `_outbox`) lets `relay_now` find them again, like OutboxRelay; `down` makes deliveries
    fail as with NATS away (the events stay stored)."""

    def __init__(self) -> None:
        self.published: list[Envelope] = []
        self.stored: dict[Any, list[Envelope]] = {}
        self.down = False

    def store(self, doc_id: Any, events: Sequence[Envelope]) -> None:
        self.stored.setdefault(doc_id, []).extend(events)

    async def deliver(self, doc_id: Any, events: Sequence[Envelope], *, marked: bool = True) -> bool:
        if self.down:
            return False
        self.published.extend(events)
        sent = {e.event_id for e in events}
        if doc_id in self.stored:
            self.stored[doc_id] = [e for e in self.stored[doc_id] if e.event_id not in sent]
        return True

    async def relay_now(self, doc_id: Any) -> int:
        if self.down:
            raise ConnectionError("the bus is down (MemoryOutbox.down)")
        pending = self.stored.pop(doc_id, [])
        self.published.extend(pending)
        return len(pending)
