"""Dispatch's own database: the roster and one assignment document per ticket (with its outbox)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

import opsdesk_shared.audit_store as audit_store
from opsdesk_shared.audit_chain import DEVELOPMENT_KEY, Verdict
from opsdesk_shared.contracts import Envelope
from opsdesk_shared.mongo import Decision, Document, document_lock, is_ferretdb, modify, update_if
from opsdesk_shared.outbox import OUTBOX_FIELD, outbox_fields, outbox_push, strip_outbox

from ..domain import HELD, Assignment, Engineer
from ..listing import AssignmentFilter, AssignmentKey, EscalationStatus
from ..loads import InFlightLoads
from ..ports import ConcurrentUpdate

# An assignment's history is a chain of sealed records (issue 16; opsdesk_shared.audit_store).
TRAIL = audit_store.ASSIGNMENTS
# Load corrections per bulk write at start-up. FerretDB v1.24.2 (SQLite) never answers an update command that changes
# 100 documents or more (measured 2026-11-30: 99 changed answer in 0.05 s, 100 wait for ever; upserts and no-op
# updates are not affected): dispatch's start hung at 1,000 engineers. 50 stays well under it.
MISSING: Any = object()  # not remembered (None: remembered as no held set stored)
RECOUNT_BATCH = 50


def _held_after(held: list[str] | None, assignment_id: str, *, take: bool) -> list[str] | None:
    """The held set once the assignment is taken or let go; None when it already is as asked (nothing to write)."""
    current = list(held or [])
    if (assignment_id in current) == take:
        return None
    return [*current, assignment_id] if take else [i for i in current if i != assignment_id]


class MongoRoster:
    """The roster, read through a short-lived cache: it is read for every ticket but changes rarely."""

    def __init__(self, db: AsyncDatabase[Document], *, cache_s: float = 2.0) -> None:
        self._engineers = db["engineers"]
        self._assignments = db["assignments"]
        self._cache_s = cache_s
        self._cache: dict[str, Engineer] = {}
        self._fresh_until = 0.0
        # Each engineer's held set as this process last read or wrote it (issue 17: a hold was a read and a write).
        self._held: dict[str, list[str] | None] = {}
        self._in_flight = InFlightLoads()

    async def engineers(self) -> list[Engineer]:
        if time.monotonic() >= self._fresh_until:
            docs = await self._engineers.find({}).to_list()
            self._cache = {d["_id"]: Engineer.model_validate({**d, "id": d["_id"]}) for d in docs}
            self._fresh_until = time.monotonic() + self._cache_s
        return self._in_flight.applied(self._cache.values())

    def reserve(self, engineer_id: str) -> Callable[[], None]:
        return self._in_flight.reserve(engineer_id)

    async def hold(self, engineer_id: str, assignment_id: str) -> bool:
        return await self._change_held(engineer_id, assignment_id, take=True)

    async def release(self, engineer_id: str, assignment_id: str) -> bool:
        return await self._change_held(engineer_id, assignment_id, take=False)

    async def _change_held(self, engineer_id: str, assignment_id: str, *, take: bool) -> bool:
        # The held set and its count are written whole ($set, never $inc), decided from the set read: asking twice, or
        # a driver re-sending a write whose answer was lost, writes nothing new (the fault campaign found loads 2 and 9
        # above the open assignments after database kills). modify() keeps the read and the write together (document
        # lock; on MongoDB the write is filtered on the set read, and a concurrent change makes it miss and read again).
        # The set this process last read or wrote is decided from without a read; the write is filtered on it on
        # MongoDB (another replica's change makes it miss: read again below); FerretDB v1 runs one process per
        # service, where the remembered set is the stored one.
        known = self._held.get(engineer_id, MISSING)
        if known is not MISSING:
            new = _held_after(known, assignment_id, take=take)
            if new is None:
                return False
            async with document_lock(self._engineers, engineer_id):
                if self._held.get(engineer_id, MISSING) is known:
                    self._held.pop(engineer_id, None)  # until the write is known to have landed
                    ferret = await is_ferretdb(self._engineers.database.client)
                    where = {"_id": engineer_id} if ferret else {"_id": engineer_id, "held": known}
                    result = await self._engineers.update_one(where, {"$set": {"held": new, "open_load": len(new)}})
                    if result.matched_count == 1:
                        self._remember_held(engineer_id, new)
                        return True
        seen: dict[str, bool] = {}
        kept: list[str] = []

        def decide(doc: Document | None) -> Decision:
            if doc is None:
                seen["settled"] = True
                return None
            self._held[engineer_id] = doc.get("held")
            after = _held_after(doc.get("held"), assignment_id, take=take)
            seen["settled"] = after is None
            if after is None:
                return None
            kept[:] = after
            return {"held": doc.get("held")}, {"$set": {"held": list(kept), "open_load": len(kept)}}

        for _ in range(20):
            seen.clear()
            try:
                written = await modify(self._engineers, engineer_id, decide)
            except BaseException:
                self._held.pop(engineer_id, None)  # the write may or may not have landed
                raise
            if written:
                self._remember_held(engineer_id, list(kept))
                return True
            if seen.get("settled"):
                return False  # decide remembered the set it read
            self._held.pop(engineer_id, None)  # the write missed: another replica changed the set
        raise ConcurrentUpdate(f"engineer {engineer_id}'s load kept changing")

    def _remember_held(self, engineer_id: str, held: list[str]) -> None:
        self._held[engineer_id] = held
        if (cached := self._cache.get(engineer_id)) is not None:
            self._cache[engineer_id] = cached.model_copy(update={"open_load": len(held)})

    async def save(self, engineer: Engineer) -> Engineer:
        fields = engineer.model_dump(mode="json", exclude={"id", "open_load"})
        async with document_lock(self._engineers, engineer.id):
            await self._engineers.update_one({"_id": engineer.id}, {"$set": fields, "$setOnInsert": {"open_load": 0}}, upsert=True)
            doc = await self._engineers.find_one({"_id": engineer.id})
        self._fresh_until = 0.0
        assert doc is not None
        return Engineer.model_validate({**doc, "id": doc["_id"]})

    async def set_status(self, engineer_id: str, status: str) -> Engineer | None:
        async with document_lock(self._engineers, engineer_id):
            result = await self._engineers.update_one({"_id": engineer_id}, {"$set": {"status": status}})
            doc = await self._engineers.find_one({"_id": engineer_id}) if result.matched_count else None
        self._fresh_until = 0.0
        return Engineer.model_validate({**doc, "id": doc["_id"]}) if doc else None

    async def seed(self, engineers: Sequence[Engineer]) -> None:
        for engineer in engineers:
            doc = engineer.model_dump(mode="json", exclude={"id"})
            await self._engineers.update_one({"_id": engineer.id}, {"$setOnInsert": doc}, upsert=True)

    async def recount_load(self, held: Mapping[str, Sequence[str]] | None = None) -> None:
        """Set each engineer's held set (and load) from the assignments at start-up, so a crash between an
        assignment's write and its engineer's heals. `held` (assignment ids per engineer) when the caller has read
        them already (MongoAssignmentStore.start_up_scan)."""
        self._fresh_until = 0.0
        self._held.clear()
        if held is None:
            found: dict[str, list[str]] = {}
            query = {"status": {"$in": sorted(HELD)}}
            async for doc in self._assignments.find(query, {"_id": 0, "engineer_id": 1, "id": 1}, batch_size=10_000):
                if doc.get("engineer_id") and doc.get("id"):
                    found.setdefault(str(doc["engineer_id"]), []).append(str(doc["id"]))
            held = found
        # Only the engineers whose set differs, in unordered batches: one update per engineer, one after another, was
        # most of a 23-43 s start-up with 1,000 engineers (issue 14).
        changes = [
            UpdateOne({"_id": engineer["_id"]}, {"$set": {"held": ids, "open_load": len(ids)}, "$unset": {"load_marks": ""}})
            async for engineer in self._engineers.find({}, {"_id": 1, "open_load": 1, "held": 1}, batch_size=5000)
            if (engineer.get("open_load") != len(ids := sorted(held.get(engineer["_id"], ())))
                or sorted(engineer.get("held") or []) != ids)
        ]
        for start in range(0, len(changes), RECOUNT_BATCH):
            await self._engineers.bulk_write(changes[start:start + RECOUNT_BATCH], ordered=False)


class MongoAssignmentStore:
    """One assignment document per ticket; each write seals the history steps it appends (audit_store.carry)."""

    def __init__(self, db: AsyncDatabase[Document], *, audit_key: bytes = DEVELOPMENT_KEY) -> None:
        self._assignments = db["assignments"]
        self._key = audit_key

    @property
    def collection(self) -> Any:
        return self._assignments

    async def ensure_indexes(self) -> None:
        # MongoDB uses these; FerretDB v1 answers every query but `_id` with a scan (fine at a desk's size: a few
        # thousand assignments a year, one document per ticket).
        await self._assignments.create_index([("engineer_id", 1), ("status", 1)])
        await self._assignments.create_index([("ticket_number", -1), ("_id", -1)])

    async def start_up_scan(self) -> tuple[dict[str, list[str]], list[str]]:
        """The assignments each engineer holds (the load recount) and tickets nobody could take yet (the waiting
        room), from one scan instead of two: each is a scan of every assignment on FerretDB v1."""
        held: dict[str, list[str]] = {}
        waiting: list[str] = []
        query = {"status": {"$in": [*sorted(HELD), "unassigned"]}}
        async for doc in self._assignments.find(query, {"engineer_id": 1, "status": 1, "id": 1}, batch_size=10_000):
            if doc.get("status") == "unassigned":
                waiting.append(doc["_id"])
            elif doc.get("engineer_id") and doc.get("id"):
                held.setdefault(str(doc["engineer_id"]), []).append(str(doc["id"]))
        return held, waiting

    async def waiting(self) -> list[str]:
        """Tickets nobody could take yet: a scan, at start-up only."""
        return [doc["_id"] async for doc in self._assignments.find({"status": "unassigned"}, {"_id": 1})]

    async def get(self, ticket_id: str) -> Assignment | None:
        doc = await self._assignments.find_one({"_id": ticket_id})
        return None if doc is None else _assignment(doc)

    async def by_number(self, number: str) -> Assignment | None:
        doc = await self._assignments.find_one({"ticket_number": number})  # a scan on FerretDB; see ensure_indexes
        return None if doc is None else _assignment(doc)

    async def page(self, query: AssignmentFilter, *, after: AssignmentKey | None, limit: int) -> list[Assignment]:
        """One plain find with sort and limit: conditions on fields only, no aggregation, nothing FerretDB lacks."""
        docs = await self._assignments.find(_query(query, after=after), projection={OUTBOX_FIELD: 0}).sort(
            [("ticket_number", -1), ("_id", -1)]
        ).limit(limit).to_list()
        return [_assignment(d) for d in docs]

    async def with_escalations(self, status: EscalationStatus) -> list[Assignment]:
        # Dot paths into the array, not $elemMatch: FerretDB v1 answers $elemMatch with nothing at all (measured in
        # tests/integration/test_dispatch_list_store.py). `escalations.id` is a string only where there is one;
        # `escalations.acknowledged_at: null` then means some escalation has none yet.
        query: dict[str, Any] = {"escalations.id": {"$type": "string"}}
        # The in-process filter (listing.escalation_views) then keeps the escalations of exactly that status.
        if status == "open":
            query["escalations.acknowledged_at"] = None
        elif status == "closed":
            query["$or"] = [{"escalations.closed_reason": {"$type": "string"}}, {"status": "withdrawn"}]
        else:
            query["escalations.acknowledged_by"] = {"$type": "string"}
        docs = await self._assignments.find(query, projection={OUTBOX_FIELD: 0}).to_list()
        return [_assignment(d) for d in docs]

    async def audit_verify(self) -> Verdict:
        """Every assignment's history chain, streamed in batches (GET /api/v1/audit/verify)."""
        return await audit_store.verify_collection(self._assignments, TRAIL, key=self._key)

    async def save(self, assignment: Assignment, events: Sequence[Envelope]) -> Assignment:
        # The stored seals of this version: the update below writes only if the version is still this one.
        stored = await self._assignments.find_one(
            {"_id": assignment.ticket_id, "version": assignment.version}, dict.fromkeys(TRAIL.fields, 1)
        )
        if stored is None:
            raise ConcurrentUpdate(assignment.ticket_id)
        doc = audit_store.seal_fields(assignment.model_dump(), stored, TRAIL, key=self._key)
        doc.pop("ticket_id")
        doc["version"] = assignment.version + 1
        update = {"$set": doc, "$push": outbox_push(events)}
        if not await update_if(self._assignments, assignment.ticket_id, expect={"version": assignment.version}, update=update):
            raise ConcurrentUpdate(assignment.ticket_id)
        return assignment.model_copy(update={"version": assignment.version + 1})

    async def add(self, assignment: Assignment, events: Sequence[Envelope]) -> bool:
        doc = audit_store.seal_fields(assignment.model_dump(), None, TRAIL, key=self._key)
        doc["_id"] = doc.pop("ticket_id")
        try:
            await self._assignments.insert_one({**doc, **outbox_fields(events)})
        except DuplicateKeyError:
            return False
        return True


def _assignment(doc: Document) -> Assignment:
    fields = audit_store.unsealed(strip_outbox(doc), TRAIL)
    fields["ticket_id"] = fields.pop("_id")
    return Assignment.model_validate(fields)


def _query(query: AssignmentFilter, *, after: AssignmentKey | None) -> dict[str, Any]:
    """AssignmentFilter.matches as a query document (the memory store runs matches itself)."""
    conditions: list[dict[str, Any]] = []
    if query.engineer_ids is not None:
        conditions.append({"engineer_id": {"$in": sorted(query.engineer_ids)}})
    if query.statuses is not None:
        conditions.append({"status": {"$in": sorted(query.statuses)}})
    if query.overdue is not None:
        # `overdue` is stored with every save (a computed field of the model); a document from before it existed
        # has none and is not overdue.
        conditions.append({"overdue": True} if query.overdue else {"overdue": {"$ne": True}})
    if query.ticket_id is not None:
        conditions.append({"_id": query.ticket_id})
    if query.ticket_number is not None:
        conditions.append({"ticket_number": query.ticket_number})
    if after is not None:
        number, ticket_id = after
        conditions.append({"$or": [{"ticket_number": {"$lt": number}}, {"ticket_number": number, "_id": {"$lt": ticket_id}}]})
    return {"$and": conditions} if conditions else {}
