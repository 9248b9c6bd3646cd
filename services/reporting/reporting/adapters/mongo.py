"""Reporting's own database: events seen (for the tally), read models per projection generation, stored reports."""

from __future__ import annotations

import builtins
import contextlib
import copy
import json
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

import opsdesk_shared.audit_store as audit_store
from opsdesk_shared.audit_chain import DEVELOPMENT_KEY, Verdict
from opsdesk_shared.contracts import Envelope
from opsdesk_shared.errors import Contention
from opsdesk_shared.mongo import Document, document_lock, is_ferretdb

from ..ports import Counted, ignore_count
from ..projection import LIST_CAP, Effects

if TYPE_CHECKING:
    from .memory import MemoryReadModels

# Each entity document's storage revision, bumped by every write of it (a field of the store, not of the model).
REV = "_rev"
ENTITY_CACHE = 5000
ENTITY_RETRIES = 5
ENTITY_COLLECTIONS = ("tickets", "repairs", "assets", "problems", "inspections")
CHUNK_BYTES = 255 * 1024


class MongoEventProjection:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._events = db["events"]

    async def ensure_indexes(self) -> None:
        await self._events.create_index([("type", 1), ("occurred_at", 1)])

    async def record(self, envelope: Envelope, keys: list[str], counted: Counted = ignore_count) -> bool:
        doc = {
            "_id": str(envelope.event_id),
            "type": envelope.type,
            "version": envelope.version,
            "occurred_at": envelope.occurred_at,
            "subject_id": envelope.subject_id,
            "producer": envelope.producer,
            "data": envelope.data,
            "keys": keys,
        }
        try:
            await self._events.insert_one(doc)
        except DuplicateKeyError:
            return False
        counted(keys)
        return True

    async def counts(self) -> dict[str, int]:
        cursor = await self._events.aggregate([{"$unwind": "$keys"}, {"$group": {"_id": "$keys", "n": {"$sum": 1}}}])
        return {row["_id"]: int(row["n"]) async for row in cursor}


LOAD_BATCH = 1000


async def _insert_batches(collection: Any, docs: list[Document]) -> None:
    for start in range(0, len(docs), LOAD_BATCH):
        await collection.insert_many(docs[start : start + LOAD_BATCH], ordered=False)


def _section_updates(effects: Effects) -> dict[str, Document]:
    """One update per section of each bucket (the first part of the path: created, sla, engineer, ...).

    FerretDB rewrites the whole document on every update, so a month's figures in one growing document made each
    increment slower as the month filled; a section per document keeps every write small."""
    updates: dict[str, Document] = {}
    for op, per_bucket in (("$inc", effects.incs), ("$set", effects.sets)):
        for bucket_id, fields in per_bucket.items():
            for path, value in fields.items():
                doc_id = f"{bucket_id}|{path.split('.', 1)[0]}"
                update = updates.setdefault(doc_id, {"$set": {"b": bucket_id}})
                update.setdefault(op, {})[path] = value
    return updates


class MongoReadModels:
    """One generation of the read models: collections named `p<generation>_<name>`, so a rebuild writes beside the
    live one and a switch is a single write of the `projection_meta` document."""

    def __init__(self, db: AsyncDatabase[Document], *, generation: int) -> None:
        self.db = db
        self.generation = generation
        prefix = f"p{generation}_"
        self._entities = {name: db[prefix + name] for name in ENTITY_COLLECTIONS}
        self._buckets = db[prefix + "buckets"]
        self._lists = db[prefix + "lists"]
        # The entities this process wrote last (issue 17: the read before each write was one command per event).
        self._cache: OrderedDict[tuple[str, str], Document] = OrderedDict()

    def collection_names(self) -> list[str]:
        return [c.name for c in (*self._entities.values(), self._buckets, self._lists)]

    async def drop(self) -> None:
        self._cache.clear()
        for name in self.collection_names():
            await self.db.drop_collection(name)

    async def update_entity(self, collection: str, key: str, decide: Callable[[Document | None], Document | None]) -> None:
        """Read (from this process's cache when it holds the entity), decide, write. The write carries the revision
        it read in its filter on MongoDB, so another replica's write in between makes this one re-read and decide
        again; FerretDB v1 runs one replica (document_lock), where the filter stays on `_id` alone."""
        coll = self._entities[collection]
        async with document_lock(coll, key):
            for _ in range(ENTITY_RETRIES):
                cached = self._cache.get((collection, key))
                current = copy.deepcopy(cached) if cached is not None else await coll.find_one({"_id": key})
                rev = int((current or {}).get(REV, 0))
                new = decide(current)
                if new is None:
                    return
                body = {**new, "_id": key, REV: rev + 1}
                try:
                    written = await self._write(coll, key, body, current=current, rev=rev)
                except BaseException:
                    self._cache.pop((collection, key), None)  # the write may or may not have landed
                    raise
                if written:
                    self._remember(collection, key, body)
                    return
                self._cache.pop((collection, key), None)  # another replica wrote it: read again
        raise Contention(f"reporting entity {collection}/{key} kept changing")

    async def _write(self, coll: Any, key: str, body: Document, *, current: Document | None, rev: int) -> bool:
        if await is_ferretdb(self.db.client):
            await coll.replace_one({"_id": key}, body, upsert=True)
            return True
        if current is None:
            try:
                await coll.insert_one(body)
            except DuplicateKeyError:
                return False
            return True
        seen: Document = {REV: rev} if rev else {REV: {"$exists": False}}
        result = await coll.replace_one({"_id": key, **seen}, body)
        return bool(result.matched_count == 1)

    def _remember(self, collection: str, key: str, doc: Document) -> None:
        self._cache[(collection, key)] = doc
        self._cache.move_to_end((collection, key))
        while len(self._cache) > ENTITY_CACHE:
            self._cache.popitem(last=False)

    async def entity(self, collection: str, key: str) -> Document | None:
        cached = self._cache.get((collection, key))
        if cached is not None:
            return copy.deepcopy(cached)
        return await self._entities[collection].find_one({"_id": key})

    async def clear_pending(self, collection: str, key: str, event_id: str) -> None:
        coll = self._entities[collection]
        async with document_lock(coll, key):
            try:
                await coll.update_one({"_id": key}, {"$unset": {f"pending.{event_id}": ""}, "$inc": {REV: 1}})
            except BaseException:
                self._cache.pop((collection, key), None)
                raise
            cached = self._cache.get((collection, key))
            if cached is not None:
                (cached.get("pending") or {}).pop(event_id, None)
                cached[REV] = int(cached.get(REV, 0)) + 1

    async def apply(self, effects: Effects) -> None:
        updates = _section_updates(effects)
        if updates:
            # One unordered bulk write (one command) for every section the event touches; each update is still
            # atomic on its own, and the locks, taken in sorted order, keep this process's writers out meanwhile.
            async with contextlib.AsyncExitStack() as held:
                for doc_id in sorted(updates):
                    await held.enter_async_context(document_lock(self._buckets, doc_id))
                await self._buckets.bulk_write(
                    [UpdateOne({"_id": doc_id}, update, upsert=True) for doc_id, update in updates.items()], ordered=False,
                )
        for name, item in effects.appends:
            async with document_lock(self._lists, name):
                current = await self._lists.find_one({"_id": name}, {"n": 1})
                n = int((current or {}).get("n", 0))
                update: dict[str, dict[str, Any]] = {"$inc": {"n": 1}}
                if n < LIST_CAP:
                    update["$push"] = {"items": item}
                await self._lists.update_one({"_id": name}, update, upsert=True)

    async def load(self, staged: MemoryReadModels) -> None:
        self._cache.clear()
        by_collection: dict[str, list[Document]] = {}
        for (collection, key), doc in staged.entities.items():
            by_collection.setdefault(collection, []).append({**doc, "_id": key})
        for collection, docs in by_collection.items():
            await _insert_batches(self._entities[collection], docs)
        sections = [
            {"_id": f"{bucket_id}|{section}", "b": bucket_id, section: value}
            for bucket_id, doc in staged.buckets.items()
            for section, value in doc.items()
            if section != "_id"
        ]
        await _insert_batches(self._buckets, sections)
        await _insert_batches(self._lists, [{**doc, "_id": name} for name, doc in staged.lists.items()])

    async def bucket(self, bucket_id: str) -> Document | None:
        """The bucket put back together from its section documents (a small collection, so the scan is cheap)."""
        merged: Document = {}
        async for doc in self._buckets.find({"b": bucket_id}):
            merged.update({k: v for k, v in doc.items() if k not in ("_id", "b")})
        return merged or None

    async def items(self, list_id: str) -> list[Document]:
        doc = await self._lists.find_one({"_id": list_id})
        return list((doc or {}).get("items", []))


class ProjectionMeta:
    """Which generation of the read models is live."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._meta = db["projection_meta"]

    async def active(self) -> int:
        doc = await self._meta.find_one({"_id": "active"})
        return int(doc["generation"]) if doc else 1

    async def switch(self, generation: int) -> None:
        await self._meta.replace_one({"_id": "active"}, {"_id": "active", "generation": generation}, upsert=True)


def _pack(report: Document) -> Document:
    """Figures are kept as JSON text: their tables are lists of rows, and FerretDB refuses arrays of arrays."""
    if "figures" not in report:
        return report
    return {**report, "figures": json.dumps(report["figures"], ensure_ascii=False, default=str)}


SIGNOFF = audit_store.REPORT_SIGNOFF


def _unpack(doc: Document | None) -> Document | None:
    return _unpacked(doc) if doc is not None else None


def _unpacked(doc: Document) -> Document:
    if isinstance(doc.get("figures"), str):
        doc["figures"] = json.loads(doc["figures"])
    return doc


class MongoReportStore:
    """Report metadata by id; files in chunks of at most 255 KiB, keyed `<report id>|<format>|<n>`. A report's
    sign-off `history` is sealed as written (issue 16, audit_store.REPORT_SIGNOFF); reads never show the seals."""

    def __init__(self, db: AsyncDatabase[Document], *, audit_key: bytes = DEVELOPMENT_KEY) -> None:
        self._reports = db["reports"]
        self._chunks = db["report_chunks"]
        self._alerts = db["report_alerts"]
        self._key = audit_key

    async def get(self, report_id: str) -> Document | None:
        doc = _unpack(await self._reports.find_one({"_id": report_id}))
        return None if doc is None else audit_store.unsealed(doc, SIGNOFF)

    async def audit_verify(self) -> Verdict:
        """Every report's sign-off history, streamed (GET /api/v1/audit/verify)."""
        return await audit_store.verify_collection(self._reports, SIGNOFF, key=self._key)

    async def put(self, report: Document, files: dict[str, bytes]) -> None:
        sizes: dict[str, int] = {}
        for fmt, data in files.items():
            chunks = [data[i:i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)] or [b""]
            for n, chunk in enumerate(chunks):
                await self._chunks.replace_one({"_id": f"{report['_id']}|{fmt}|{n}"}, {"data": chunk}, upsert=True)
            sizes[fmt] = len(chunks)
        stored = await self._reports.find_one({"_id": report["_id"]}, {"history": 1})
        body = audit_store.seal_fields({**_pack(report), "chunks": sizes}, stored, SIGNOFF, key=self._key)
        await self._reports.replace_one({"_id": report["_id"]}, body, upsert=True)

    async def file(self, report_id: str, fmt: str) -> bytes | None:
        report = await self.get(report_id)
        if report is None or fmt not in report.get("chunks", {}):
            return None
        parts = []
        for n in range(int(report["chunks"][fmt])):
            chunk = await self._chunks.find_one({"_id": f"{report_id}|{fmt}|{n}"})
            if chunk is None:
                return None
            parts.append(bytes(chunk["data"]))
        return b"".join(parts)

    async def list(self, *, kind: str | None = None, limit: int = 200) -> list[Document]:
        # A small collection (a few dozen reports a month): the scan is fine.
        query: Document = {} if kind is None else {"kind": kind}
        found = [audit_store.unsealed(_unpacked(doc), SIGNOFF) async for doc in self._reports.find(query, {"chunks": 0})]
        return sorted(found, key=lambda r: r["generated_at"], reverse=True)[:limit]

    async def versions(self, series: str) -> builtins.list[Document]:
        # Version 1 of a report stored before sign-off existed has no `series`: its id is the series.
        query = {"$or": [{"series": series}, {"_id": series}]}
        return [audit_store.unsealed(_unpacked(doc), SIGNOFF) async for doc in self._reports.find(query, {"chunks": 0})]

    async def change(self, report_id: str, *, expected_rev: int, changes: Document) -> bool:
        # Compare-and-set on `rev` (a report stored before sign-off has none: it counts as 0).
        # Under the document lock: a filtered update_one is no compare-and-set on FerretDB v1 (read, modify, write
        # outside a transaction), so two decisions at once could both pass the `rev` check there.
        async with document_lock(self._reports, report_id):
            stored = await self._reports.find_one({"_id": report_id}, {"history": 1, "rev": 1})
            if stored is None or int(stored.get("rev") or 0) != expected_rev:
                return False
            if "history" in changes:
                changes = audit_store.seal_fields(dict(changes), stored, SIGNOFF, key=self._key)
            rev: Document = {"rev": expected_rev} if expected_rev else {"$or": [{"rev": 0}, {"rev": {"$exists": False}}]}
            result = await self._reports.update_one({"_id": report_id, **rev}, {"$set": {**changes, "rev": expected_rev + 1}})
            return result.matched_count == 1

    async def mark_alert(self, alert_id: str) -> bool:
        try:
            await self._alerts.insert_one({"_id": alert_id})
        except DuplicateKeyError:
            return False
        return True

    async def schedule_since(self, default: datetime) -> datetime:
        with contextlib.suppress(DuplicateKeyError):
            await self._alerts.insert_one({"_id": "schedule-since", "at": default})
        doc = await self._alerts.find_one({"_id": "schedule-since"})
        at: datetime = doc["at"] if doc else default
        return at if at.tzinfo else at.replace(tzinfo=UTC)


class MongoGenerations:
    """Generations of the read models in one database, and the switch between them."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db
        self._meta = ProjectionMeta(db)

    def models(self, generation: int) -> MongoReadModels:
        return MongoReadModels(self._db, generation=generation)

    async def drop(self, generation: int) -> None:
        await self.models(generation).drop()

    async def switch(self, generation: int) -> None:
        await self._meta.switch(generation)

    async def active(self) -> int:
        return await self._meta.active()
