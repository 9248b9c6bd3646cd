"""The assets service's own database: the register and repair records (with their outbox)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.mongo import Document, document_lock, update_if
from opsdesk_shared.outbox import outbox_fields, outbox_push, strip_outbox

from ..domain import Asset, Repair
from ..ports import ConcurrentUpdate


class MongoAssetRegister:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._assets = db["assets"]

    async def get(self, tag: str) -> Asset | None:
        doc = await self._assets.find_one({"_id": tag})
        if doc is None:
            return None
        doc["tag"] = doc.pop("_id")
        return Asset.model_validate(doc)

    async def set_status(self, tag: str, status: str) -> None:
        async with document_lock(self._assets, tag):
            await self._assets.update_one({"_id": tag}, {"$set": {"status": status}})

    async def seed(self, assets: Sequence[Asset]) -> None:
        for asset in assets:
            doc = asset.model_dump(exclude={"tag"})
            await self._assets.update_one({"_id": asset.tag}, {"$setOnInsert": doc}, upsert=True)


def _repair_doc(repair: Repair) -> Document:
    doc = repair.model_dump()
    doc["_id"] = doc.pop("id")
    doc["history"] = list(doc["history"])
    return doc


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
        if doc is None:
            return None
        fields = strip_outbox(doc)
        fields["id"] = fields.pop("_id")
        return Repair.model_validate(fields)

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
