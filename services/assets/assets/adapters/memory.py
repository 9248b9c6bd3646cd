"""In-memory adapters for unit tests only."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Sequence

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.mongo import check_document
from opsdesk_shared.outbox import MemoryOutbox as MemoryOutbox
from opsdesk_shared.outbox import outbox_fields

from ..domain import Asset, Repair
from ..ports import ConcurrentUpdate, Doc, DuplicateKey
from ..search import ItemQuery
from .docs import DocsAssetRegister, asset_doc, doc_asset


class MemoryDocs:
    """Docs in a dict; events go straight to the given MemoryOutbox (as the relay would after storing them)."""

    def __init__(self, outbox: MemoryOutbox | None = None) -> None:
        self.by_key: dict[str, Doc] = {}
        self.outbox = outbox if outbox is not None else MemoryOutbox()

    async def get(self, key: str) -> Doc | None:
        doc = self.by_key.get(key)
        return copy.deepcopy(doc) if doc is not None else None

    async def _emit(self, key: str, events: Sequence[Envelope]) -> None:
        if events:
            await self.outbox.deliver(key, events)

    async def create(self, key: str, doc: Doc, events: Sequence[Envelope] = ()) -> None:
        if key in self.by_key:
            raise DuplicateKey(key)
        check_document({**doc, "_id": key, **outbox_fields(events)})  # refused here as the database would
        self.by_key[key] = {**copy.deepcopy(doc), "_id": key}
        await self._emit(key, events)

    async def put(self, key: str, doc: Doc, events: Sequence[Envelope] = ()) -> None:
        check_document({**doc, "_id": key, **outbox_fields(events)})
        self.by_key[key] = {**copy.deepcopy(doc), "_id": key}
        await self._emit(key, events)

    async def replace_if(self, key: str, doc: Doc, *, expect: Doc, events: Sequence[Envelope] = ()) -> bool:
        current = self.by_key.get(key)
        if current is None or any(current.get(k) != v for k, v in expect.items()):
            return False
        await self.put(key, doc, events)
        return True

    async def create_many(self, docs: Sequence[tuple[str, Doc]]) -> None:
        for key, doc in docs:
            await self.create(key, doc)

    async def delete(self, key: str) -> bool:
        return self.by_key.pop(key, None) is not None

    async def scan(self, fields: Sequence[str] | None = None) -> AsyncIterator[Doc]:
        for doc in list(self.by_key.values()):
            if fields is None:
                yield copy.deepcopy(doc)
            else:
                yield {k: copy.deepcopy(v) for k, v in doc.items() if k == "_id" or k in fields}

    async def keys(self) -> set[str]:
        return set(self.by_key)

    async def incr(self, key: str, field: str, by: int = 1) -> int:
        doc = self.by_key.setdefault(key, {"_id": key})
        doc[field] = int(doc.get(field, 0)) + by
        return int(doc[field])


class MemoryAssetRegister(DocsAssetRegister):
    """The register on dicts; `outbox` collects its ci_changed events apart from the repairs' outbox."""

    def __init__(self, assets: Sequence[Asset] = ()) -> None:
        self.outbox = MemoryOutbox()
        super().__init__(MemoryDocs(self.outbox), MemoryDocs(), MemoryDocs())
        for asset in assets:
            self.assets.by_key[asset.tag] = {**asset_doc(asset), "_id": asset.tag}  # type: ignore[attr-defined]

    async def search(self, query: ItemQuery, *, after: str | None = None, offset: int = 0, limit: int = 100) -> list[Asset]:
        """As the database answers it: the stored search keys filtered, by tag, a page."""
        docs = sorted((d for d in self.assets.by_key.values() if query.matches(d, after=after)),  # type: ignore[attr-defined]
                      key=lambda d: str(d["_id"]))
        return [doc_asset(copy.deepcopy(d)) for d in docs[offset:offset + limit]]

    @property
    def by_tag(self) -> dict[str, Asset]:
        return {k: Asset.model_validate({**{f: v for f, v in d.items() if f != "_id"}, "tag": k})
                for k, d in self.assets.by_key.items()}  # type: ignore[attr-defined]


class MemoryRepairStore:
    def __init__(self) -> None:
        self.by_id: dict[str, Repair] = {}

    async def get(self, repair_id: str) -> Repair | None:
        return self.by_id.get(repair_id)

    async def add(self, repair: Repair, events: Sequence[Envelope]) -> None:
        check_document({**repair.model_dump(), **outbox_fields(events)})
        self.by_id[repair.id] = repair

    async def save(self, repair: Repair, events: Sequence[Envelope]) -> Repair:
        current = self.by_id.get(repair.id)
        if current is None or current.version != repair.version:
            raise ConcurrentUpdate(repair.id)
        check_document({**repair.model_dump(), **outbox_fields(events)})
        self.by_id[repair.id] = repair.model_copy(update={"version": repair.version + 1})
        return self.by_id[repair.id]

    async def scan(self) -> AsyncIterator[Repair]:
        for repair in list(self.by_id.values()):
            yield repair
