"""Reporting's own database: events seen (for the tally), read models per projection generation, stored reports."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import copy
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pymongo import InsertOne, ReplaceOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

import opsdesk_shared.audit_store as audit_store
from opsdesk_shared.audit_chain import DEVELOPMENT_KEY, Verdict
from opsdesk_shared.contracts import Envelope
from opsdesk_shared.errors import Contention
from opsdesk_shared.group_commit import GroupCommit, Round
from opsdesk_shared.mongo import Document, document_lock, is_ferretdb
from opsdesk_shared.recent import Recent

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


def _merge_update(into: Document, update: Document) -> None:
    """Two units' updates of one section document as one: increments summed, later values set over earlier ones."""
    for op, fields in update.items():
        merged = into.setdefault(op, {})
        for path, value in fields.items():
            merged[path] = merged.get(path, 0) + value if op == "$inc" else value


@dataclass
class _Unit:
    """One handler's writes, gathered while it projects an event and handed to a round whole."""

    entities: dict[tuple[str, str], Document] = field(default_factory=dict)
    effects: list[Effects] = field(default_factory=list)
    clears: list[tuple[str, str, str]] = field(default_factory=list)


class _Round(Round):
    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.entities: dict[tuple[str, str], Document] = {}
        self.sections: dict[str, Document] = {}
        self.appends: list[tuple[str, Document]] = []
        self.clears: list[tuple[str, str, str]] = []

    def add(self, unit: _Unit) -> None:
        self.units += 1
        self.entities.update(unit.entities)  # a later unit's body of the same entity carries the earlier's events
        for fx in unit.effects:
            for doc_id, update in _section_updates(fx).items():
                _merge_update(self.sections.setdefault(doc_id, {}), update)
            self.appends.extend(fx.appends)
        self.clears.extend(unit.clears)


_UNIT: ContextVar[tuple[MongoReadModels, _Unit] | None] = ContextVar("reporting_unit", default=None)
# After a round with parked effects to clear, the next round writes the clears; at rest one comes this much later.
CLEAR_DELAY_S = 0.2


class MongoReadModels:
    """One generation of the read models: collections named `p<generation>_<name>`, so a rebuild writes beside the
    live one and a switch is a single write of the `projection_meta` document.

    Writes go in rounds (issue 17, `opsdesk_shared.group_commit`): each event's entity write and bucket increments
    are gathered in a unit (`batch()`), and the units of the handlers running at once are stored together, the
    entities in one bulk write, then the buckets in another, so under load a ticket's ten events cost a share of two
    commands each instead of three commands each. The order that makes a crash harmless stays: an entity is written
    with its event's effects parked in it before the buckets get them, and the parked effects are cleared by a later
    round (at rest CLEAR_DELAY_S later), so a redelivery after a crash adds exactly what was not added."""

    def __init__(self, db: AsyncDatabase[Document], *, generation: int) -> None:
        self.db = db
        self.generation = generation
        prefix = f"p{generation}_"
        self._entities = {name: db[prefix + name] for name in ENTITY_COLLECTIONS}
        self._buckets = db[prefix + "buckets"]
        self._lists = db[prefix + "lists"]
        # The entities as this process last stored them, with their revision (issue 17: the read before each write
        # was one command per event).
        self._cache: Recent[tuple[str, str], Document] = Recent(ENTITY_CACHE)
        # Bodies staged by units but not yet stored: the next event of the same entity builds on them.
        self._staged: dict[tuple[str, str], Document] = {}
        # Entities this process read and found not stored yet (their first write is an insert on MongoDB).
        self._absent: set[tuple[str, str]] = set()
        self._due_clears: list[tuple[str, str, str]] = []
        self._clear_soon: asyncio.Task[None] | None = None
        self.rounds: GroupCommit[_Round] = GroupCommit(_Round, self._store)

    def collection_names(self) -> list[str]:
        return [c.name for c in (*self._entities.values(), self._buckets, self._lists)]

    async def drop(self) -> None:
        self._forget_all()
        for name in self.collection_names():
            await self.db.drop_collection(name)

    def _forget_all(self) -> None:
        self._cache.clear()
        self._staged.clear()
        self._absent.clear()
        self._due_clears.clear()

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """Gather the writes made inside into one unit; on leaving, store it with the round it joins and wait."""
        active = _UNIT.get()
        if active is not None and active[0] is self:
            yield  # already inside this store's unit
            return
        unit = _Unit()
        token = _UNIT.set((self, unit))
        try:
            yield
        except BaseException:
            for key in unit.entities:
                self._forget(key)
            raise
        finally:
            _UNIT.reset(token)
        round_ = self.rounds.open
        round_.add(unit)
        await self.rounds.commit(round_)

    def _unit(self) -> _Unit | None:
        active = _UNIT.get()
        return active[1] if active is not None and active[0] is self else None

    async def update_entity(self, collection: str, key: str, decide: Callable[[Document | None], Document | None]) -> None:
        """Read (staged, cached or stored), decide, stage the new body in the caller's unit (a unit of its own when
        called outside `batch()`). On MongoDB the round's write carries the stored revision in its filter, so another
        replica's write in between fails the round (Contention: the messages are redelivered and read again);
        FerretDB v1 runs one replica, where the write goes by `_id` alone."""
        unit = self._unit()
        if unit is None:
            for _ in range(ENTITY_RETRIES):
                with contextlib.suppress(Contention):
                    async with self.batch():
                        await self.update_entity(collection, key, decide)
                    return
            raise Contention(f"reporting entity {collection}/{key} kept changing")
        ck = (collection, key)
        async with document_lock(self._entities[collection], key):
            current = await self._current(ck)
            new = decide(copy.deepcopy(current) if current is not None else None)
            if new is None:
                return
            body = {k: v for k, v in new.items() if k != REV}
            body["_id"] = key
            unit.entities[ck] = body
            self._staged[ck] = body

    async def _current(self, ck: tuple[str, str]) -> Document | None:
        if ck in self._staged:
            return self._staged[ck]
        cached = self._cache.get(ck)
        if cached is not None:
            return cached
        doc = await self._entities[ck[0]].find_one({"_id": ck[1]})
        if doc is not None:
            self._remember(ck, doc)
        else:
            self._absent.add(ck)
        return doc

    def _forget(self, ck: tuple[str, str]) -> None:
        self._cache.pop(ck)
        self._staged.pop(ck, None)
        self._absent.discard(ck)

    def _remember(self, ck: tuple[str, str], doc: Document) -> None:
        self._cache.put(ck, doc)

    async def entity(self, collection: str, key: str) -> Document | None:
        current = self._staged.get((collection, key)) or self._cache.get((collection, key))
        if current is not None:
            return copy.deepcopy(current)
        return await self._entities[collection].find_one({"_id": key})

    async def clear_pending(self, collection: str, key: str, event_id: str) -> None:
        """The event's parked effects are added: clear them in a later round (never the one adding them)."""
        unit = self._unit()
        if unit is None:
            async with self.batch():
                await self.clear_pending(collection, key, event_id)
            return
        unit.clears.append((collection, key, event_id))

    async def apply(self, effects: Effects) -> None:
        unit = self._unit()
        if unit is None:
            async with self.batch():
                await self.apply(effects)
            return
        if effects:
            unit.effects.append(effects)

    async def _store(self, round_: _Round) -> None:
        """Entities (with parked effects), then buckets, then capped lists; clears of earlier rounds ride along."""
        clears, self._due_clears = self._due_clears, []
        try:
            await self._store_entities(round_, clears)
        except BaseException:
            for ck in round_.entities:
                self._forget(ck)
            for collection, key, _ in clears:
                self._forget((collection, key))
            self._due_clears.extend(clears)
            raise
        await self._store_effects(round_)
        if round_.clears:
            # From now on this process reads the entities without those parked effects (a redelivery of the event
            # adds nothing); the database is told in the next round.
            for collection, key, event_id in round_.clears:
                for body in (self._cache.get((collection, key)), self._staged.get((collection, key))):
                    if body is not None:
                        (body.get("pending") or {}).pop(event_id, None)
            self._due_clears.extend(round_.clears)
            if self._clear_soon is None or self._clear_soon.done():
                self._clear_soon = asyncio.get_running_loop().create_task(self._store_clears_soon())

    async def _store_clears_soon(self) -> None:
        await asyncio.sleep(CLEAR_DELAY_S)
        if self._due_clears:
            with contextlib.suppress(Exception):  # left for the next round; a redelivery re-adds nothing stored
                await self.rounds.commit(self.rounds.open)

    async def _store_entities(self, round_: _Round, clears: list[tuple[str, str, str]]) -> None:
        cleared: dict[tuple[str, str], list[str]] = {}
        for collection, key, event_id in clears:
            cleared.setdefault((collection, key), []).append(event_id)
        ferret = await is_ferretdb(self.db.client)
        writes: dict[str, list[Any]] = {}
        stored: dict[tuple[str, str], Document] = {}
        written: dict[tuple[str, str], Document] = {}
        for ck, joined in round_.entities.items():
            # The newest body staged for the entity: it builds on every unit's before it, joined or not (a unit
            # joining later would otherwise write an older body over a newer one). Events in it whose unit has
            # not joined yet are written with their effects parked, which a redelivery completes.
            body = self._staged.get(ck, joined)
            written[ck] = body
            pending = {k: v for k, v in (body.get("pending") or {}).items() if k not in cleared.get(ck, ())}
            rev = await self._stored_rev(ck)
            doc = {**body, "pending": pending, REV: (rev or 0) + 1}
            if ferret:
                op: Any = ReplaceOne({"_id": ck[1]}, doc, upsert=True)
            elif rev is None:
                op = InsertOne(doc)
            else:
                op = ReplaceOne({"_id": ck[1], REV: rev} if rev else {"_id": ck[1], REV: {"$exists": False}}, doc)
            writes.setdefault(ck[0], []).append(op)
            stored[ck] = doc
        for ck, event_ids in cleared.items():
            if ck in round_.entities:
                continue
            unset = {f"pending.{event_id}": "" for event_id in event_ids}
            writes.setdefault(ck[0], []).append(UpdateOne({"_id": ck[1]}, {"$unset": unset, "$inc": {REV: 1}}))
        expected = {c: sum(1 for op in ops if not isinstance(op, InsertOne)) for c, ops in writes.items()}
        for collection, ops in writes.items():
            try:
                result = await self._entities[collection].bulk_write(ops, ordered=False)
            except BulkWriteError as exc:
                raise Contention(f"reporting entities in {collection} changed by another writer") from exc
            if result.matched_count + result.upserted_count < expected[collection]:
                raise Contention(f"reporting entities in {collection} changed by another writer")
        for ck in cleared:
            if ck not in round_.entities and (cached := self._cache.get(ck)) is not None:
                cached[REV] = int(cached.get(REV, 0)) + 1
        for ck, doc in stored.items():
            self._remember(ck, doc)
            self._absent.discard(ck)
            if self._staged.get(ck) is written[ck]:
                del self._staged[ck]

    async def _stored_rev(self, ck: tuple[str, str]) -> int | None:
        """The entity's revision as stored (None: not stored); from the cache, else one read (after a failed round)."""
        cached = self._cache.get(ck)
        if cached is not None:
            return int(cached.get(REV, 0))
        if ck in self._absent:
            return None
        doc = await self._entities[ck[0]].find_one({"_id": ck[1]}, {REV: 1})
        return None if doc is None else int(doc.get(REV, 0))

    async def _store_effects(self, round_: _Round) -> None:
        if round_.sections:
            # One unordered bulk write (one command) for every section the round's events touch; one round is
            # stored at a time, so this process never updates a section twice at once (FerretDB v1 is not atomic).
            await self._buckets.bulk_write(
                [UpdateOne({"_id": doc_id}, update, upsert=True) for doc_id, update in round_.sections.items()],
                ordered=False,
            )
        for name, item in round_.appends:
            current = await self._lists.find_one({"_id": name}, {"n": 1})
            n = int((current or {}).get("n", 0))
            update: dict[str, dict[str, Any]] = {"$inc": {"n": 1}}
            if n < LIST_CAP:
                update["$push"] = {"items": item}
            await self._lists.update_one({"_id": name}, update, upsert=True)

    async def load(self, staged: MemoryReadModels) -> None:
        self._forget_all()
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
