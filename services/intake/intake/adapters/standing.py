"""Standing authorizations of the agency (authorization.StandingAuthorization): one document each, its id as `_id`.

A handful exist at any time (routine work per service), so `matching` reads the service's few documents and the
domain decides which covers a ticket; the valid day is kept as its ISO text (BSON has no date without a time)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from opsdesk_shared.mongo import Document, check_document

from ..authorization import StandingAuthorization
from ..ports import ConcurrentUpdate


def _doc(standing: StandingAuthorization) -> dict[str, Any]:
    fields = standing.model_dump(mode="json", exclude={"id", "created_at", "updated_at"})
    return {**fields, "created_at": standing.created_at, "updated_at": standing.updated_at}


def _of(doc: dict[str, Any]) -> StandingAuthorization:
    return StandingAuthorization.model_validate({**doc, "id": doc["_id"]})


class MemoryStandingAuthorizations:
    """For unit and edge tests; refuses what the database would (check_document)."""

    def __init__(self) -> None:
        self.items: dict[str, StandingAuthorization] = {}

    async def add(self, standing: StandingAuthorization) -> None:
        check_document(_doc(standing))
        self.items[standing.id] = standing

    async def get(self, standing_id: str) -> StandingAuthorization | None:
        return self.items.get(standing_id)

    async def list(self, *, service_code: str | None = None) -> list[StandingAuthorization]:
        found = [s for s in self.items.values() if service_code is None or s.service_code == service_code]
        return sorted(found, key=lambda s: (s.created_at, s.id))

    async def replace(self, standing: StandingAuthorization, *, expected_version: int) -> None:
        current = self.items.get(standing.id)
        if current is None or current.version != expected_version:
            raise ConcurrentUpdate(standing.id)
        check_document(_doc(standing))
        self.items[standing.id] = standing

    async def remove(self, standing_id: str) -> bool:
        return self.items.pop(standing_id, None) is not None


class MongoStandingAuthorizations:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._items = db["standing_authorizations"]

    async def add(self, standing: StandingAuthorization) -> None:
        await self._items.insert_one({"_id": standing.id, **_doc(standing)})

    async def get(self, standing_id: str) -> StandingAuthorization | None:
        doc = await self._items.find_one({"_id": standing_id})
        return _of(doc) if doc is not None else None

    async def list(self, *, service_code: str | None = None) -> list[StandingAuthorization]:
        query = {} if service_code is None else {"service_code": service_code}
        found = [_of(doc) async for doc in self._items.find(query)]
        return sorted(found, key=lambda s: (s.created_at, s.id))

    async def replace(self, standing: StandingAuthorization, *, expected_version: int) -> None:
        # The version in the filter makes a lost update visible (no transactions needed).
        result = await self._items.replace_one({"_id": standing.id, "version": expected_version}, _doc(standing))
        if result.matched_count == 0:
            raise ConcurrentUpdate(standing.id)

    async def remove(self, standing_id: str) -> bool:
        return (await self._items.delete_one({"_id": standing_id})).deleted_count > 0
