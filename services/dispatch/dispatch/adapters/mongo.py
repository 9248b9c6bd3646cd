"""Dispatch's own database: the roster and one assignment document per ticket (with its outbox)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.mongo import Document, document_lock, update_if
from opsdesk_shared.outbox import outbox_fields, outbox_push, strip_outbox

from ..domain import Assignment, Engineer
from ..ports import ConcurrentUpdate


class MongoRoster:
    """The roster, read through a short-lived cache: it is read for every ticket but changes rarely."""

    def __init__(self, db: AsyncDatabase[Document], *, cache_s: float = 2.0) -> None:
        self._engineers = db["engineers"]
        self._assignments = db["assignments"]
        self._cache_s = cache_s
        self._cache: dict[str, Engineer] = {}
        self._fresh_until = 0.0

    async def engineers(self) -> list[Engineer]:
        if time.monotonic() >= self._fresh_until:
            docs = await self._engineers.find({}).to_list()
            self._cache = {d["_id"]: Engineer.model_validate({**d, "id": d["_id"]}) for d in docs}
            self._fresh_until = time.monotonic() + self._cache_s
        return list(self._cache.values())

    async def add_load(self, engineer_id: str, delta: int) -> None:
        async with document_lock(self._engineers, engineer_id):
            await self._engineers.update_one({"_id": engineer_id}, {"$inc": {"open_load": delta}})
        if (cached := self._cache.get(engineer_id)) is not None:
            self._cache[engineer_id] = cached.model_copy(update={"open_load": cached.open_load + delta})

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

    async def recount_load(self) -> None:
        """Load is bumped after the assignment write; recount at start-up so a crash in between heals."""
        self._fresh_until = 0.0
        cursor = await self._assignments.aggregate(
            [{"$match": {"status": "open"}}, {"$group": {"_id": "$engineer_id", "n": {"$sum": 1}}}]
        )
        counts = {row["_id"]: row["n"] async for row in cursor}
        async for engineer in self._engineers.find({}, {"_id": 1}):
            await self._engineers.update_one({"_id": engineer["_id"]}, {"$set": {"open_load": counts.get(engineer["_id"], 0)}})


class MongoAssignmentStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._assignments = db["assignments"]

    @property
    def collection(self) -> Any:
        return self._assignments

    async def ensure_indexes(self) -> None:
        await self._assignments.create_index([("engineer_id", 1), ("status", 1)])

    async def waiting(self) -> list[str]:
        """Tickets nobody could take yet: a scan, at start-up only."""
        return [doc["_id"] async for doc in self._assignments.find({"status": "unassigned"}, {"_id": 1})]

    async def get(self, ticket_id: str) -> Assignment | None:
        doc = await self._assignments.find_one({"_id": ticket_id})
        if doc is None:
            return None
        fields = strip_outbox(doc)
        fields["ticket_id"] = fields.pop("_id")
        return Assignment.model_validate(fields)

    async def save(self, assignment: Assignment, events: Sequence[Envelope]) -> Assignment:
        doc = assignment.model_dump()
        doc.pop("ticket_id")
        doc["version"] = assignment.version + 1
        update = {"$set": doc, "$push": outbox_push(events)}
        if not await update_if(self._assignments, assignment.ticket_id, expect={"version": assignment.version}, update=update):
            raise ConcurrentUpdate(assignment.ticket_id)
        return assignment.model_copy(update={"version": assignment.version + 1})

    async def add(self, assignment: Assignment, events: Sequence[Envelope]) -> bool:
        doc = assignment.model_dump()
        doc["_id"] = doc.pop("ticket_id")
        try:
            await self._assignments.insert_one({**doc, **outbox_fields(events)})
        except DuplicateKeyError:
            return False
        return True
