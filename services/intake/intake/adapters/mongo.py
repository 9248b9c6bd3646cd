"""Intake's own database: tickets (with their outbox), number series and API tokens."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import bson
from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, DuplicateKeyError, PyMongoError, ServerSelectionTimeoutError

import opsdesk_shared.audit_store as audit_store
from opsdesk_shared.audit_chain import DEVELOPMENT_KEY, Verdict
from opsdesk_shared.contracts import Envelope
from opsdesk_shared.errors import OutcomeUnknown
from opsdesk_shared.mongo import Decision, Document, document_lock, is_ferretdb, modify, update_if
from opsdesk_shared.outbox import OUTBOX_FIELD, outbox_fields, outbox_push, strip_outbox
from opsdesk_shared.recent import Recent

from ..catalog import CatalogService
from ..domain import Ticket
from ..ports import ConcurrentUpdate, Decided

log = logging.getLogger(__name__)

TICKETS = "tickets"
# The ticket's status history, comments and audit entries are chained records (issue 16; opsdesk_shared.audit_store).
TRAIL = audit_store.TICKETS
# Tickets kept as this process last wrote or read them (a ticket's journey through the services takes seconds), and
# the ids of the events this process wrote with them.
CACHE_TICKETS = 2000
CACHE_EVENTS = 8000


def _to_doc(ticket: Ticket) -> Document:
    doc = ticket.model_dump(mode="python")
    doc["_id"] = doc.pop("id")
    for field in ("history", "comments", "suggestions", "mail_ids", "audit"):
        doc[field] = list(doc[field])
    if doc.get("service_record"):
        doc["service_record"]["parts_used"] = list(doc["service_record"]["parts_used"])
    return doc


def _from_doc(doc: Document) -> Ticket:
    fields = audit_store.unsealed(strip_outbox(doc), TRAIL)
    fields["id"] = fields.pop("_id")
    return Ticket.model_validate(fields)


@dataclass
class _Block:
    """Ticket numbers of one series this process reserved: `next` up to `end` not issued yet, plus numbers given
    back (`release_number`), issued first."""

    next: int
    end: int
    returned: list[int]

    def unissued_tail(self) -> int:
        """How many numbers at the end of the block were never issued (given back ones just below `next` too)."""
        start = self.next
        back = set(self.returned)
        while start - 1 in back:
            start -= 1
        return self.end - start + 1


@dataclass(frozen=True)
class _Seen:
    """A ticket's document (without `_outbox`) as the database holds it, and the loop time from which it was known
    to be current: a read's start, a write's start (every change committed before then is in it)."""

    doc: Document
    at: float

    @property
    def version(self) -> int:
        return int(self.doc.get("version", 0))


class MongoTicketStore:
    """Tickets; each write seals the chained records it appends (audit_store.carry), with `audit_key`.

    Issue 17: the tickets this process last wrote or read are kept (`CACHE_TICKETS`, least recently used out), so
    - a change decides on the kept document and writes once. On MongoDB the write's filter carries the kept version:
      another replica's write in between makes it miss, and the change reads the ticket and decides again. FerretDB
      v1 runs one replica (opsdesk_shared.mongo.document_lock) and would scan the whole table for a filter beyond
      `_id` (measured: 1 s at 20,000 tickets against 1 ms), so there the write goes by `_id` alone;
    - `recent` answers the live stream and the search index from what is kept when it is current enough for the
      event they handle (see there), and concurrent reads of one ticket share one round trip.
    A kept document is never replaced by an older version (a read that started before a write and ended after it)."""

    def __init__(self, db: AsyncDatabase[Document], *, audit_key: bytes = DEVELOPMENT_KEY, number_block: int = 1) -> None:
        self._tickets = db[TICKETS]
        self._series = db["number_series"]
        self._key = audit_key
        self._block = number_block
        self._numbers: dict[str, _Block] = {}
        self._cache: Recent[str, _Seen] = Recent(CACHE_TICKETS)
        self._written: Recent[str, None] = Recent(CACHE_EVENTS)
        self._reading: dict[str, tuple[float, asyncio.Task[Document | None]]] = {}

    # --- what this process knows of its tickets ----------------------------------------------------------------

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    def _as_stored(self, doc: Document) -> Document:
        """`doc` as the database gives it back (milliseconds, UTC, lists): a BSON round trip, no round trip."""
        return bson.decode(bson.encode(doc), codec_options=self._tickets.codec_options)

    def _remember(self, doc: Document, at: float) -> None:
        ticket_id = str(doc["_id"])
        seen = _Seen(strip_outbox(doc), at)
        kept = self._cache.get(ticket_id)
        if kept is not None and kept.version > seen.version:
            seen = kept  # a read older than what this process wrote since
        elif kept is not None and kept.version == seen.version and kept.at > at:
            seen = kept
        self._cache.put(ticket_id, seen)

    def _note_written(self, event_ids: Iterable[str]) -> None:
        for event_id in event_ids:
            self._written.put(event_id, None)

    def wrote(self, event_id: str) -> bool:
        """This process stored the event (with its ticket); the kept ticket is then at least as new as that write."""
        return event_id in self._written

    async def recent(self, ticket_id: str, *, since: float | None) -> Ticket | None:
        """The ticket, current at loop time `since` or later: the kept document when it was known current then, or
        one read (shared with a read of the same ticket already under way that started at or after `since`).
        `since=None`: any kept state; for an event this process wrote (`wrote`), whose ticket it keeps from the
        write on. With several replicas another replica's event always names its arrival, so a replica never
        shows a ticket older than the event (the live stream decides who sees it from the ticket). On FerretDB (one
        replica, whose writes all go through this store) the kept ticket is the stored one, whatever `since`."""
        kept = self._cache.get(ticket_id)
        if kept is not None and (since is None or kept.at >= since or await is_ferretdb(self._tickets.database.client)):
            self._cache.put(ticket_id, kept)
            return _from_doc(kept.doc)
        doc = await self._read(ticket_id, since)
        return _from_doc(doc) if doc else None

    async def _read(self, ticket_id: str, since: float | None) -> Document | None:
        under_way = self._reading.get(ticket_id)
        if under_way is None or (since is not None and under_way[0] < since):
            started = self._now()
            task = asyncio.create_task(self._fetch(ticket_id, started), name="ticket-read")
            # A read nobody waits for any more (its callers were cancelled) still has its error retrieved.
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            under_way = (started, task)
            self._reading[ticket_id] = under_way
        return await asyncio.shield(under_way[1])

    async def _fetch(self, ticket_id: str, started: float) -> Document | None:
        try:
            doc = await self._tickets.find_one({"_id": ticket_id}, {OUTBOX_FIELD: 0})
        finally:
            if (under_way := self._reading.get(ticket_id)) is not None and under_way[0] == started:
                del self._reading[ticket_id]
        if doc is not None:
            self._remember(doc, started)
        else:
            self._cache.pop(ticket_id)
        return doc

    @property
    def collection(self) -> Any:
        return self._tickets

    async def ensure_indexes(self) -> None:
        await self._tickets.create_index("number", unique=True)
        await self._tickets.create_index([("status", 1), ("created_at", -1)])

    async def next_number(self, series: str) -> int:
        """The next number of `series`: from this process's block (`number_block` reserved with one $inc), a
        number given back first."""
        async with document_lock(self._series, series):
            block = self._numbers.get(series)
            if block is not None and block.returned:
                return heapq.heappop(block.returned)
            if block is None or block.next > block.end:
                doc = await self._series.find_one_and_update(
                    {"_id": series}, {"$inc": {"seq": self._block}}, upsert=True, return_document=ReturnDocument.AFTER
                )
                assert doc is not None
                end = int(doc["seq"])
                block = self._numbers[series] = _Block(next=end - self._block + 1, end=end, returned=[])
            number = block.next
            block.next += 1
            return number

    def release_number(self, series: str, number: int) -> None:
        """A number drawn for a ticket that was not stored (a replayed request): the next ticket gets it."""
        block = self._numbers.get(series)
        if block is not None and number < block.next and number not in block.returned:
            heapq.heappush(block.returned, number)

    async def close(self) -> None:
        """Give back the unissued end of each block, when no other process drew from the series since (a clean
        stop then leaves no gap in the numbers)."""
        for series, block in list(self._numbers.items()):
            unissued = block.unissued_tail()
            del self._numbers[series]
            if unissued > 0:
                try:
                    async with document_lock(self._series, series):
                        await self._series.update_one({"_id": series, "seq": block.end}, {"$inc": {"seq": -unissued}})
                except PyMongoError:
                    log.warning("unissued ticket numbers not given back (a gap)", exc_info=True,
                                extra={"fields": {"series": series, "from": block.end - unissued + 1, "to": block.end}})

    async def get(self, ticket_id: str) -> Ticket | None:
        doc = await self._read(ticket_id, self._now())
        return _from_doc(doc) if doc else None

    async def add(self, ticket: Ticket, events: Sequence[Envelope]) -> bool:
        started = self._now()
        try:
            doc = audit_store.seal_fields(_to_doc(ticket), None, TRAIL, key=self._key)
            await self._tickets.insert_one({**doc, **outbox_fields(events)})
        except DuplicateKeyError:
            return False
        except ConnectionFailure as exc:
            if isinstance(exc, ServerSelectionTimeoutError):
                raise  # never sent: nothing was stored
            raise OutcomeUnknown(f"insert of ticket {ticket.id}") from exc
        self._remember(self._as_stored(doc), started)
        self._note_written(str(e.event_id) for e in events)
        return True

    async def change(self, ticket_id: str, decide: Callable[[Ticket], Decided | None]) -> Ticket | None:
        kept = self._cache.get(ticket_id)
        if kept is not None:
            done, stored = await self._change_kept(ticket_id, kept, decide)
            if done:
                return stored
        return await self._change_read(ticket_id, decide)

    def _decided(self, doc: Document, decide: Callable[[Ticket], Decided | None]) -> tuple[Ticket, Document, Document] | None:
        """What to write on `doc` (the ticket as stored): the stored ticket, its fields and the update; None: nothing."""
        current = _from_doc(doc)
        decided = decide(current)
        if decided is None:
            return None
        updated, events = decided
        stored = updated.model_copy(update={"version": current.version + 1})
        fields = audit_store.seal_fields(_to_doc(stored), doc, TRAIL, key=self._key)
        fields.pop("_id")
        update: Document = {"$set": fields}
        if events:
            update["$push"] = outbox_push(events)
        return stored, fields, update

    async def _change_kept(
        self, ticket_id: str, kept: _Seen, decide: Callable[[Ticket], Decided | None]
    ) -> tuple[bool, Ticket | None]:
        """The change decided on the kept ticket, in one write; (False, None): read and decide again. On MongoDB the
        kept ticket may be older than the stored one (another replica wrote since), so only a write filtered by its
        version settles anything there: a decision to write nothing, or a refusal, is taken again on the ticket as
        read. On FerretDB (one replica) the kept ticket is the stored one."""
        one_replica = await is_ferretdb(self._tickets.database.client)
        async with document_lock(self._tickets, ticket_id):
            latest = self._cache.get(ticket_id)  # another change of this process may have gone first
            if latest is None:
                return False, None  # forgotten meanwhile: read
            kept = latest
            try:
                decided = self._decided(kept.doc, decide)
            except Exception:
                if one_replica:
                    raise
                return False, None
            if decided is None:
                return one_replica, None
            stored, fields, update = decided
            update = _appending(update, kept.doc)
            started = self._now()
            where: Document = {"_id": ticket_id}
            if not one_replica:
                where["version"] = kept.version
            result = await self._tickets.update_one(where, update)
            if result.matched_count != 1:
                self._cache.pop(ticket_id)
                return False, None
            self._remember(self._as_stored({"_id": ticket_id, **fields}), started)
            self._note_written(_pushed(update))
            return True, stored

    async def _change_read(self, ticket_id: str, decide: Callable[[Ticket], Decided | None]) -> Ticket | None:
        found = False
        stored: Ticket | None = None

        outcome: tuple[Document, Document, float] | None = None

        def decision(doc: Document | None) -> Decision:
            nonlocal found, stored, outcome
            if doc is None:
                return None
            found = True
            decided = self._decided(doc, decide)
            if decided is None:
                # Kept for the next change (its write is filtered by the version), not as current at any time.
                self._remember(doc, float("-inf"))
                return None
            stored, fields, update = decided
            outcome = (fields, update, self._now())
            return {"version": int(doc.get("version", 0))}, update

        written = await modify(self._tickets, ticket_id, decision)
        if not found:
            self._cache.pop(ticket_id)
            raise LookupError(f"ticket {ticket_id} not found")
        if stored is not None and not written:
            self._cache.pop(ticket_id)
            raise ConcurrentUpdate(ticket_id)
        if written and outcome is not None:
            fields, update, started = outcome
            self._remember(self._as_stored({"_id": ticket_id, **fields}), started)
            self._note_written(_pushed(update))
        return stored if written else None

    async def by_number(self, number: str) -> Ticket | None:
        doc = await self._tickets.find_one({"number": number}, {"_outbox": 0})
        return _from_doc(doc) if doc else None

    async def scan(self) -> AsyncIterator[Ticket]:
        async for doc in self._tickets.find({}, {"_outbox": 0, "audit": 0}, batch_size=2000):
            yield _from_doc(doc)

    async def audit_verify(self) -> Verdict:
        """Every ticket's chains, streamed in batches (GET /api/v1/audit/verify)."""
        return await audit_store.verify_collection(self._tickets, TRAIL, key=self._key)

    async def save(self, ticket: Ticket, events: Sequence[Envelope] = ()) -> None:
        # The stored seals of this version: the update below writes only if the version is still this one.
        stored = await self._tickets.find_one({"_id": ticket.id, "version": ticket.version}, dict.fromkeys(TRAIL.fields, 1))
        if stored is None:
            raise ConcurrentUpdate(ticket.id)
        doc = audit_store.seal_fields(_to_doc(ticket), stored, TRAIL, key=self._key)
        doc.pop("_id")
        doc["version"] = ticket.version + 1
        update: Document = {"$set": doc}
        if events:
            update["$push"] = outbox_push(events)
        self._cache.pop(ticket.id)
        if not await update_if(self._tickets, ticket.id, expect={"version": ticket.version}, update=update):
            raise ConcurrentUpdate(ticket.id)


def _appending(update: Document, kept: Document) -> Document:
    """`update` with each chained field that only grows written as a $push of its new records, not a $set of all.

    A change decided on the kept ticket must not write its records back over the stored ones: a record changed
    directly in the database keeps its change (and its broken seal) through later saves (audit_store.carry); the
    kept copy, not read since, would put the old text back. A field whose stored records the change altered itself
    is written whole, as before."""
    fields = dict(update["$set"])
    pushes = dict(update.get("$push", {}))
    for field in TRAIL.fields:
        if field not in fields:
            continue
        before, after = kept.get(field) or [], fields[field]
        if len(after) < len(before) or any(a != b for a, b in zip(after, before, strict=False)):
            continue
        del fields[field]
        if len(after) > len(before):
            pushes[field] = {"$each": after[len(before):]}
    appended: Document = {"$set": fields}
    if pushes:
        appended["$push"] = pushes
    return appended


def _pushed(update: Document) -> list[str]:
    """The ids of the events an update stores in the outbox."""
    return [str(raw["event_id"]) for raw in update.get("$push", {}).get(OUTBOX_FIELD, {}).get("$each", [])]


class MongoTokenStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._tokens = db["api_tokens"]

    async def role_for(self, token_sha256: str) -> str | None:
        doc = await self._tokens.find_one({"_id": token_sha256})
        return str(doc["role"]) if doc else None

    async def ensure(self, token_sha256: str, *, role: str, name: str) -> None:
        await self._tokens.update_one(
            {"_id": token_sha256}, {"$set": {"role": role, "name": name}}, upsert=True
        )


class MongoCatalogStore:
    """The catalog as admins edited it; seeded from the contract's tables on first start."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._services = db["catalog"]

    async def all(self) -> list[CatalogService]:
        return [CatalogService.model_validate({**doc, "code": doc["_id"]}) async for doc in self._services.find({})]

    async def put(self, service: CatalogService, *, expected_version: int | None) -> CatalogService:
        async with document_lock(self._services, service.code):
            current = await self._services.find_one({"_id": service.code})
            version = int(current["version"]) if current else 0
            if expected_version is not None and expected_version != version:
                raise ConcurrentUpdate(service.code)
            stored = service.model_copy(update={"version": version + 1})
            fields = stored.model_dump(mode="json", by_alias=True, exclude={"code"})
            await self._services.replace_one({"_id": service.code}, fields, upsert=True)
        return stored

    async def seed(self, services: Sequence[CatalogService]) -> int:
        existing = {doc["_id"] async for doc in self._services.find({}, {"_id": 1})}
        missing = [s for s in services if s.code not in existing]
        for service in missing:
            with contextlib.suppress(DuplicateKeyError):  # another replica seeded it first
                await self._services.insert_one({"_id": service.code, **service.model_dump(mode="json", by_alias=True, exclude={"code"})})
        return len(missing)


class MongoKnownTags:
    """The asset tags assets announced (known_tags.KnownTags): one document per tag, the tag as its id."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._tags = db["asset_tags"]

    async def add(self, tags: Iterable[str]) -> int:
        ops = [UpdateOne({"_id": tag}, {"$setOnInsert": {"tag": tag}}, upsert=True) for tag in dict.fromkeys(tags)]
        if not ops:
            return 0
        # Unordered: one part of an import is up to 1,000 tags, written in one round trip.
        result = await self._tags.bulk_write(ops, ordered=False)
        return int(result.upserted_count)

    async def any(self) -> bool:
        return await self._tags.find_one({}, {"_id": 1}) is not None

    async def has(self, tag: str) -> bool:
        return await self._tags.find_one({"_id": tag}, {"_id": 1}) is not None


class MongoPendingHandovers:
    """Desk-first tickets waiting for their guidance window (ports.PendingHandovers): one small document per ticket,
    the ticket id as its _id (the one index FerretDB keeps), removed once the ticket left the desk or ended. The
    collection holds only tickets inside their window (minutes), so the checker's unindexed range read stays small."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._pending = db["pending_handovers"]

    async def put(self, ticket_id: str, due_at: datetime) -> None:
        await self._pending.update_one({"_id": ticket_id}, {"$setOnInsert": {"due_at": due_at}}, upsert=True)

    async def due(self, now: datetime, *, limit: int) -> list[str]:
        cursor = self._pending.find({"due_at": {"$lte": now}}, {"_id": 1}).sort("due_at", 1).limit(limit)
        return [str(doc["_id"]) async for doc in cursor]

    async def remove(self, ticket_id: str) -> None:
        await self._pending.delete_one({"_id": ticket_id})
