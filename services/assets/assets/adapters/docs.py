"""The register on top of any `Docs` pair (items, versions): shared by the memory and the Mongo adapters."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

from opsdesk_shared.contracts import Envelope

from ..domain import Asset, CiVersion, new_version
from ..ports import ConcurrentUpdate, Doc, Docs, DuplicateKey
from ..search import search_fields

NAMES_AT_ONCE = 50


def asset_doc(asset: Asset) -> Doc:
    """The stored item, with the keys it is found by (search.py) written beside it."""
    return {**asset.model_dump(mode="json", exclude={"tag"}), **search_fields(asset)}


def doc_asset(doc: Doc) -> Asset:
    fields = {k: v for k, v in doc.items() if not k.startswith("_")}
    return Asset.model_validate({**fields, "tag": doc["_id"]})


def version_key(tag: str, version: int) -> str:
    return f"{tag}#{version}"


class DocsAssetRegister:
    def __init__(self, assets: Docs, versions: Docs, counters: Docs) -> None:
        self.assets = assets
        self.versions = versions
        self.counters = counters

    async def get(self, tag: str) -> Asset | None:
        doc = await self.assets.get(tag)
        return doc_asset(doc) if doc is not None else None

    async def set_status(self, tag: str, status: str) -> None:
        current = await self.get(tag)
        if current is not None:
            await self.assets.put(tag, asset_doc(current.model_copy(update={"status": status})))

    async def add(self, asset: Asset, record: CiVersion, events: Sequence[Envelope]) -> None:
        await self.assets.create(asset.tag, asset_doc(asset), events)
        await self.versions.put(version_key(asset.tag, record.version), record.model_dump(mode="json"))

    async def save(self, asset: Asset, record: CiVersion, events: Sequence[Envelope]) -> None:
        if not await self.assets.replace_if(asset.tag, asset_doc(asset), expect={"version": asset.version - 1}, events=events):
            raise ConcurrentUpdate(asset.tag)
        await self.versions.put(version_key(asset.tag, record.version), record.model_dump(mode="json"))

    async def add_many(self, assets: Sequence[Asset], records: Sequence[CiVersion]) -> int:
        await self.assets.create_many([(a.tag, asset_doc(a)) for a in assets])
        await self.versions.create_many([(version_key(r.tag, r.version), r.model_dump(mode="json")) for r in records])
        return len(assets)

    async def history(self, tag: str) -> list[CiVersion]:
        """Every version, oldest first, each read by key (no query the database would answer by scanning)."""
        current = await self.get(tag)
        if current is None:
            return []
        found = []
        for number in range(1, current.version + 1):
            doc = await self.versions.get(version_key(tag, number))
            if doc is not None:
                found.append(CiVersion.model_validate(doc))
        return found

    async def scan(self) -> AsyncIterator[Asset]:
        async for doc in self.assets.scan():
            yield doc_asset(doc)

    async def nodes(self) -> AsyncIterator[tuple[str, str, str | None]]:
        async for doc in self.assets.scan(fields=("type", "department")):
            yield str(doc["_id"]), str(doc["type"]), doc.get("department")

    async def tags(self) -> set[str]:
        return await self.assets.keys()

    async def names(self, tags: Sequence[str]) -> dict[str, str | None]:
        """Each item read by key, NAMES_AT_ONCE at a time (FerretDB answers nothing but `_id` without a scan)."""
        found: dict[str, str | None] = {}
        unique = list(dict.fromkeys(tags))
        for start in range(0, len(unique), NAMES_AT_ONCE):
            chunk = unique[start:start + NAMES_AT_ONCE]
            for tag, doc in zip(chunk, await asyncio.gather(*(self.assets.get(t) for t in chunk)), strict=True):
                if doc is not None:
                    found[tag] = doc.get("name")
        return found

    async def next_numbers(self, key: str, count: int = 1) -> int:
        return await self.counters.incr(key, "n", count) - count + 1

    async def seed(self, assets: Sequence[Asset]) -> None:
        """Register demo items that are not there yet (an existing item is left as it is), announced like any
        registration so that services keeping a list of known tags learn them."""
        for asset in assets:
            now = datetime.now(UTC)
            stored, record, event = new_version(None, asset, by="seed", at=now)
            envelope = Envelope.wrap(event, producer="assets", correlation_id=str(uuid.uuid4()), subject_id=stored.tag,
                                     occurred_at=now)
            try:
                await self.add(stored, record, [envelope])
            except DuplicateKey:
                continue
