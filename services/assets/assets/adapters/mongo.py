"""The assets service's own database: the register and its versions, repair records, and keyed documents for
relations, audits, inspections, spares, loans and projections. Every steady-state read or write is by `_id`."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Sequence
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.group_commit import GroupInsert
from opsdesk_shared.mongo import Document, document_lock, is_ferretdb, update_if
from opsdesk_shared.outbox import (
    OUTBOX_FIELD,
    OutboxRelay,
    Publisher,
    mark_pending,
    outbox_fields,
    outbox_push,
    strip_outbox,
)
from opsdesk_shared.recent import Recent

from ..domain import Asset, Repair
from ..ports import ConcurrentUpdate, Doc, DuplicateKey
from ..search import SEARCH_VERSION, VERSION_FIELD, ItemQuery, search_fields
from .docs import DocsAssetRegister, doc_asset

BATCH = 1000
SCAN_BATCH = 10_000  # documents per round trip of a full read (the graph's start-up load reads 250,000)


class MongoDocs:
    """Docs in one collection. With a publisher, events are written into the document (`_outbox`, with a pending
    marker so the relay never scans) and relayed at once; the relay retries what fails."""

    def __init__(
        self, collection: AsyncCollection[Document], publisher: Publisher | None = None, *, relay_interval_s: float = 1.0,
        remember: int = 0,
    ) -> None:
        self.collection = collection
        self.relay = OutboxRelay(collection, publisher, interval_s=relay_interval_s, markers=True) if publisher else None
        if remember and publisher is not None:
            raise ValueError("a collection with an outbox changes behind the memory's back (the relay's clean-up)")
        # Issue 17: up to `remember` documents as this process last read or wrote them, so a read-modify-write of a
        # document it wrote needs no read first (a ticket's mappings: three reads a ticket). The database stays the
        # truth: every write is still a compare-and-set on `_v` (on MongoDB in the filter; on FerretDB v1, one
        # process per service, the remembered copy is the check), and a write that misses forgets the copy.
        self._known: Recent[str, Doc] | None = Recent(remember) if remember else None
        # New documents of handlers running at once go in one insert_many (the remembered collections: the hot ones).
        self._inserts = GroupInsert(collection) if remember else None

    def _keep(self, key: str, doc: Doc) -> None:
        if self._known is not None:
            self._known.put(key, copy.deepcopy(doc))

    def _forget(self, key: str) -> None:
        if self._known is not None:
            self._known.pop(key)

    async def _emit(self, key: str, events: Sequence[Envelope]) -> None:
        if events and self.relay is not None:
            await self.relay.deliver(key, events)

    async def get(self, key: str) -> Doc | None:
        if self._known is not None and (known := self._known.get(key)) is not None:
            return copy.deepcopy(known)
        doc = await self.collection.find_one({"_id": key})
        if doc is not None:
            self._keep(key, strip_outbox(doc))
        return strip_outbox(doc) if doc is not None else None

    async def create(self, key: str, doc: Doc, events: Sequence[Envelope] = ()) -> None:
        if events:
            await mark_pending(self.collection, key)
        body = {**doc, "_id": key, **(outbox_fields(events) if events else {})}
        try:
            if self._inserts is not None:
                # The handlers of a pulled batch create their tickets' mappings together: one insert_many (issue 17).
                if not await self._inserts.insert(body):
                    raise DuplicateKeyError(f"{key} exists")
            else:
                await self.collection.insert_one(body)
        except DuplicateKeyError:
            self._forget(key)
            raise DuplicateKey(key) from None
        except BaseException:
            self._forget(key)  # it may or may not have landed
            raise
        self._keep(key, {**doc, "_id": key})
        await self._emit(key, events)

    async def _replace(
        self, key: str, doc: Doc, events: Sequence[Envelope], filter_: Doc, *, upsert: bool, current: Document | None = None,
    ) -> bool:
        """Replace keeping events the relay has not sent yet; the caller holds the document lock. `current`: the
        document's outbox as the caller just read it under that lock (else it is read here)."""
        if events:
            await mark_pending(self.collection, key)
        if current is None:
            current = await self.collection.find_one({"_id": key}, {OUTBOX_FIELD: 1})
        pending = list((current or {}).get(OUTBOX_FIELD) or []) + outbox_fields(events)[OUTBOX_FIELD]
        body = {**doc, "_id": key, **({OUTBOX_FIELD: pending} if pending else {})}
        result = await self.collection.replace_one(filter_, body, upsert=upsert)
        return result.matched_count == 1 or result.upserted_id is not None

    async def put(self, key: str, doc: Doc, events: Sequence[Envelope] = ()) -> None:
        async with document_lock(self.collection, key):
            self._forget(key)
            await self._replace(key, doc, events, {"_id": key}, upsert=True)
            self._keep(key, {**doc, "_id": key})
        await self._emit(key, events)

    async def replace_if(self, key: str, doc: Doc, *, expect: Doc, events: Sequence[Envelope] = ()) -> bool:
        async with document_lock(self.collection, key):
            known = self._known.pop(key) if self._known is not None else None
            # The remembered copy is forgotten until the write is known to have landed.
            if await is_ferretdb(self.collection.database.client):
                # FerretDB would scan for any filter beyond _id: check here, under the lock, instead. The same
                # read brings the outbox the replace keeps (issue 17: one read fewer per change); a copy this
                # process remembers is that read (no outbox here, and no other process writes on FerretDB v1).
                current = known if known is not None else await self.collection.find_one(
                    {"_id": key}, {**{k: 1 for k in expect}, OUTBOX_FIELD: 1})
                if current is None or any(current.get(k) != v for k, v in expect.items()):
                    return False
                done = await self._replace(key, doc, events, {"_id": key}, upsert=False, current=current)
            else:
                done = await self._replace(key, doc, events, {"_id": key, **expect}, upsert=False)
            if done:
                self._keep(key, {**doc, "_id": key})
        if done:
            await self._emit(key, events)
        return done

    async def create_many(self, docs: Sequence[tuple[str, Doc]]) -> None:
        for key, _doc in docs:
            self._forget(key)
        for start in range(0, len(docs), BATCH):
            chunk = [{**doc, "_id": key} for key, doc in docs[start:start + BATCH]]
            try:
                await self.collection.insert_many(chunk, ordered=False)
            except BulkWriteError as exc:
                raise DuplicateKey(str(exc.details.get("writeErrors", [])[:3])) from None

    async def delete(self, key: str) -> bool:
        async with document_lock(self.collection, key):
            self._forget(key)
            return (await self.collection.delete_one({"_id": key})).deleted_count == 1

    async def scan(self, fields: Sequence[str] | None = None) -> AsyncIterator[Doc]:
        projection = None if fields is None else dict.fromkeys(fields, 1)
        async for doc in self.collection.find({}, projection, batch_size=SCAN_BATCH):
            yield strip_outbox(doc)

    async def keys(self) -> set[str]:
        return {doc["_id"] async for doc in self.collection.find({}, {"_id": 1}, batch_size=5000)}

    async def incr(self, key: str, field: str, by: int = 1) -> int:
        async with document_lock(self.collection, key):
            self._forget(key)
            doc = await self.collection.find_one_and_update(
                {"_id": key}, {"$inc": {field: by}}, upsert=True, return_document=ReturnDocument.AFTER
            )
        assert doc is not None  # upserted
        return int(doc[field])


# The `meta` document that says every item carries the search keys of SEARCH_VERSION.
SEARCH_KEYS_MARK = "search_keys"


class MongoAssetRegister(DocsAssetRegister):
    def __init__(self, db: AsyncDatabase[Document], publisher: Publisher | None = None, *, relay_interval_s: float = 1.0) -> None:
        self.docs = MongoDocs(db["assets"], publisher, relay_interval_s=relay_interval_s)
        super().__init__(self.docs, MongoDocs(db["asset_versions"]), MongoDocs(db["counters"]))

    @property
    def collection(self) -> AsyncCollection[Document]:
        return self.docs.collection

    async def search(self, query: ItemQuery, *, after: str | None = None, offset: int = 0, limit: int = 100) -> list[Asset]:
        """Filtered, sorted by tag and paged in the database (search.py: a contains-regex over the stored key, which
        FerretDB v1 and MongoDB 7 both answer; FerretDB evaluates it in its own process, never in ours)."""
        cursor = self.collection.find(query.mongo_filter(after=after)).sort("_id", 1).skip(offset).limit(limit)
        return [doc_asset(doc) async for doc in cursor]

    async def ensure_search_keys(self) -> int:
        """Write the search keys of items stored before them (or under an older recipe); returns how many. Run once at
        start-up; each item is re-read under its document lock (the one saves hold), so a save meanwhile is not
        overwritten with keys of the item as it was."""
        # Once every item has this recipe's keys (and every save writes them: docs.py), a mark says so and later starts
        # skip the scan: on FerretDB v1 the query below reads all 50,000 items of the benchmark, 11-15 s of each
        # start (bench/start_to_ready.py, 2026-11-30).
        marks = self.collection.database["meta"]
        mark = await marks.find_one({"_id": SEARCH_KEYS_MARK})
        if mark is not None and mark.get("version") == SEARCH_VERSION:
            return 0
        fixed = 0
        stale = [doc["_id"] async for doc in self.collection.find({VERSION_FIELD: {"$ne": SEARCH_VERSION}}, {"_id": 1}, batch_size=BATCH)]
        for key in stale:
            async with document_lock(self.collection, key):
                doc = await self.collection.find_one({"_id": key})
                if doc is not None and doc.get(VERSION_FIELD) != SEARCH_VERSION:
                    await self.collection.update_one({"_id": key}, {"$set": search_fields(doc_asset(doc))})
                    fixed += 1
        await marks.replace_one({"_id": SEARCH_KEYS_MARK}, {"version": SEARCH_VERSION}, upsert=True)
        return fixed


def _repair_doc(repair: Repair) -> Document:
    doc = repair.model_dump()
    doc["_id"] = doc.pop("id")
    doc["history"] = list(doc["history"])
    return doc


def _doc_repair(doc: Document) -> Repair:
    fields = strip_outbox(doc)
    fields["id"] = fields.pop("_id")
    return Repair.model_validate(fields)


class MongoRepairStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._repairs = db["repairs"]

    @property
    def collection(self) -> Any:
        return self._repairs

    async def ensure_indexes(self) -> None:
        await self._repairs.create_index([("asset_tag", 1), ("status", 1)])

    async def get(self, repair_id: str) -> Repair | None:
        doc = await self._repairs.find_one({"_id": repair_id})
        return None if doc is None else _doc_repair(doc)

    async def scan(self) -> AsyncIterator[Repair]:
        async for doc in self._repairs.find({}, batch_size=2000):
            yield _doc_repair(doc)

    async def add(self, repair: Repair, events: Sequence[Envelope]) -> None:
        await self._repairs.insert_one({**_repair_doc(repair), **outbox_fields(events)})

    async def save(self, repair: Repair, events: Sequence[Envelope]) -> Repair:
        doc = _repair_doc(repair)
        doc.pop("_id")
        doc["version"] = repair.version + 1
        update = {"$set": doc, "$push": outbox_push(events)}
        if not await update_if(self._repairs, repair.id, expect={"version": repair.version}, update=update):
            raise ConcurrentUpdate(repair.id)
        return repair.model_copy(update={"version": repair.version + 1})
