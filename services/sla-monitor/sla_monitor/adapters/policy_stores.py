"""Stores of the administrator's SLA policies and escalation contacts (issue 16): one document per kind, its version
and its history in the same document, so a save is one conditional write (no transactions needed)."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from opsdesk_shared.mongo import Document, check_document, document_lock

from ..policy_book import Kind, Stored


class MemoryPolicyStore:
    """For tests only; refuses what the database would (check_document)."""

    def __init__(self) -> None:
        self.docs: dict[str, Stored] = {}

    async def get(self, kind: Kind) -> Stored | None:
        return self.docs.get(kind)

    async def put(self, stored: Stored, *, expect: int) -> bool:
        held = self.docs.get(stored.kind)
        if (held.version if held is not None else 0) != expect:
            return False
        check_document(stored.model_dump(mode="python"))
        self.docs[stored.kind] = stored
        return True


class MongoPolicyStore:
    """Collection `sla_settings`, `_id` the kind ("policies", "escalation-contacts")."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._docs = db["sla_settings"]

    async def get(self, kind: Kind) -> Stored | None:
        doc = await self._docs.find_one({"_id": kind})
        if doc is None:
            return None
        return Stored.model_validate({**doc, "kind": doc["_id"]})

    async def put(self, stored: Stored, *, expect: int) -> bool:
        doc = stored.model_dump(mode="python", exclude={"kind"})
        if expect == 0:
            try:
                await self._docs.insert_one({"_id": stored.kind, **doc})
            except DuplicateKeyError:
                return False
            return True
        # Filtered on the version it was decided from: a save another replica made meanwhile wins, this one is told.
        async with document_lock(self._docs, stored.kind):
            result = await self._docs.replace_one({"_id": stored.kind, "version": expect}, doc)
        return bool(result.matched_count == 1)
