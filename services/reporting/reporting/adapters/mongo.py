"""Reporting's own database: one document per event it has seen, keyed by event id."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.mongo import Document


class MongoEventProjection:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._events = db["events"]

    async def ensure_indexes(self) -> None:
        await self._events.create_index([("type", 1), ("occurred_at", 1)])

    async def record(self, envelope: Envelope, keys: list[str]) -> bool:
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
        return True

    async def counts(self) -> dict[str, int]:
        cursor = await self._events.aggregate([{"$unwind": "$keys"}, {"$group": {"_id": "$keys", "n": {"$sum": 1}}}])
        return {row["_id"]: int(row["n"]) async for row in cursor}
