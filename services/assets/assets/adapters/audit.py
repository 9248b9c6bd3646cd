"""The tamper-evident trail at assets' storage edge (issue 16): repair records' history and the register's versions.

A repair's `history` is an array in its document, sealed as written (opsdesk_shared.audit_store.carry); an item's
versions are one document each (`asset_versions`, `<tag>#<n>`), each sealed to the one before (`seal_record`). The
stores here wrap the plain ones, so the domain and the register's code never see a seal; main wires them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from itertools import groupby
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

import opsdesk_shared.audit_store as audit_store
from opsdesk_shared import audit_chain
from opsdesk_shared.audit_chain import DEVELOPMENT_KEY, GENESIS, HASH, Verdict
from opsdesk_shared.contracts import Envelope
from opsdesk_shared.mongo import Document, check_document, update_if
from opsdesk_shared.outbox import outbox_fields, outbox_push

from ..domain import Repair
from ..ports import ConcurrentUpdate, Doc, Docs
from .memory import MemoryAssetRegister, MemoryDocs, MemoryRepairStore
from .mongo import MongoAssetRegister, MongoRepairStore, _repair_doc

TRAIL = audit_store.ASSET_VERSIONS


class SealedVersions:
    """A `Docs` of version records that seals each record it writes, chained to the item's version before it."""

    def __init__(self, inner: Docs, *, key: bytes) -> None:
        self.inner = inner
        self._key = key

    async def _sealed(self, doc: Doc) -> Doc:
        n = int(doc[TRAIL.order])
        before = await self.inner.get(TRAIL.doc_id(doc[TRAIL.owner], n - 1)) if n > 1 else None
        prev = before.get(HASH) if before is not None else None
        body = {k: v for k, v in doc.items() if k != "_id"}
        return audit_chain.seal(body, prev=prev if isinstance(prev, str) else GENESIS, key=self._key)

    async def get(self, key: str) -> Doc | None:
        doc = await self.inner.get(key)
        return None if doc is None else {k: v for k, v in doc.items() if k not in audit_store.SEALS}

    async def create(self, key: str, doc: Doc, events: Sequence[Envelope] = ()) -> None:
        await self.inner.create(key, await self._sealed(doc), events)

    async def put(self, key: str, doc: Doc, events: Sequence[Envelope] = ()) -> None:
        await self.inner.put(key, await self._sealed(doc), events)

    async def replace_if(self, key: str, doc: Doc, *, expect: Doc, events: Sequence[Envelope] = ()) -> bool:
        return await self.inner.replace_if(key, await self._sealed(doc), expect=expect, events=events)

    async def create_many(self, docs: Sequence[tuple[str, Doc]]) -> None:
        await self.inner.create_many([(key, await self._sealed(doc)) for key, doc in docs])

    async def delete(self, key: str) -> bool:
        return await self.inner.delete(key)

    async def scan(self, fields: Sequence[str] | None = None) -> AsyncIterator[Doc]:
        async for doc in self.inner.scan(fields):
            yield doc

    async def keys(self) -> set[str]:
        return await self.inner.keys()

    async def incr(self, key: str, field: str, by: int = 1) -> int:
        return await self.inner.incr(key, field, by)


def _seal_repair(doc: Document, stored: Document | None, *, key: bytes) -> Document:
    return audit_store.seal_fields(doc, stored, audit_store.REPAIRS, key=key)


class SealedMongoAssetRegister(MongoAssetRegister):
    """The register whose versions are sealed in chain; `audit_verify` streams `asset_versions`."""

    def __init__(self, db: AsyncDatabase[Document], *args: Any, audit_key: bytes = DEVELOPMENT_KEY, **kwargs: Any) -> None:
        super().__init__(db, *args, **kwargs)
        self._versions: AsyncCollection[Document] = db[TRAIL.collection]
        self._key = audit_key
        self.versions = SealedVersions(self.versions, key=audit_key)

    async def audit_verify(self) -> Verdict:
        return await audit_store.verify_record_collection(self._versions, TRAIL, key=self._key)


class SealedMongoRepairStore(MongoRepairStore):
    """Repairs whose history is sealed as written; `audit_verify` streams `repairs`."""

    def __init__(self, db: AsyncDatabase[Document], *, audit_key: bytes = DEVELOPMENT_KEY) -> None:
        super().__init__(db)
        self._key = audit_key

    async def add(self, repair: Repair, events: Sequence[Envelope]) -> None:
        await self._repairs.insert_one({**_seal_repair(_repair_doc(repair), None, key=self._key), **outbox_fields(events)})

    async def save(self, repair: Repair, events: Sequence[Envelope]) -> Repair:
        # The stored seals of this version: the update below writes only if the version is still this one.
        stored = await self._repairs.find_one({"_id": repair.id, "version": repair.version}, {"history": 1})
        if stored is None:
            raise ConcurrentUpdate(repair.id)
        doc = _seal_repair(_repair_doc(repair), stored, key=self._key)
        doc.pop("_id")
        doc["version"] = repair.version + 1
        update = {"$set": doc, "$push": outbox_push(events)}
        if not await update_if(self._repairs, repair.id, expect={"version": repair.version}, update=update):
            raise ConcurrentUpdate(repair.id)
        return repair.model_copy(update={"version": repair.version + 1})

    async def audit_verify(self) -> Verdict:
        return await audit_store.verify_collection(self._repairs, audit_store.REPAIRS, key=self._key)


class SealedMemoryAssetRegister(MemoryAssetRegister):
    """The memory register with sealed versions, for tests of the trail."""

    def __init__(self, *args: Any, audit_key: bytes = DEVELOPMENT_KEY, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.version_docs: MemoryDocs = self.versions  # type: ignore[assignment]
        self._key = audit_key
        self.versions = SealedVersions(self.versions, key=audit_key)

    async def audit_verify(self) -> Verdict:
        docs = sorted(self.version_docs.by_key.values(), key=lambda d: (str(d[TRAIL.owner]), int(d[TRAIL.order])))
        chains = ((owner, list(records)) for owner, records in groupby(docs, key=lambda d: d[TRAIL.owner]))
        return audit_store.verify_records(chains, TRAIL, key=self._key)


class SealedMemoryRepairStore(MemoryRepairStore):
    """The memory repair store keeping each repair's history as the database would, sealed."""

    def __init__(self, *, audit_key: bytes = DEVELOPMENT_KEY) -> None:
        super().__init__()
        self.sealed: dict[str, Document] = {}
        self._key = audit_key

    def _seal(self, repair: Repair) -> None:
        doc = repair.model_dump(mode="python", include={"history"})
        check_document(doc)
        self.sealed[repair.id] = _seal_repair(doc, self.sealed.get(repair.id), key=self._key)

    async def add(self, repair: Repair, events: Sequence[Envelope]) -> None:
        await super().add(repair, events)
        self._seal(repair)

    async def save(self, repair: Repair, events: Sequence[Envelope]) -> Repair:
        stored = await super().save(repair, events)
        self._seal(stored)
        return stored

    async def audit_verify(self) -> Verdict:
        docs = ({"_id": k, **v} for k, v in self.sealed.items())
        return audit_store.verify_documents(docs, audit_store.REPAIRS, key=self._key)
