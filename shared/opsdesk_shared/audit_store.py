"""The tamper-evident trail at the storage edge (issue 16): where each service seals, verifies and adopts its chains.

The domain stays pure and never sees a seal: a service's store seals history records as it writes the document
(`carry`), and its verification reads the stored records back (`verify_collection`, streamed in batches).

The rule on every write (`carry`): a record at a position the stored chain already had keeps the seal it was stored
with (and, when only fields absent or null on one side differ, the stored record itself, so an optional field added
to a model later does not break old records); a record past the stored end is new and is sealed in order, chained to
the last sealed record. So a record changed directly in the database keeps its old seal and stays broken through any
later save; the application never re-seals what it did not append itself. Records written before this code have no
seal and read as "unsealed" until `python -m opsdesk_shared.audit_seal` adopts them once (see SECURITY.md).

`TRAILS` names, per service, the collections and array fields whose records are chained: the adoption command
reads it, and each service's Mongo store takes its own entry from it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pymongo.asynchronous.collection import AsyncCollection

from . import audit_chain
from .audit_chain import HASH, PREV, Verdict

SEALS = (PREV, HASH)
# Documents read per round trip while verifying: memory stays bounded whatever the collection's size.
BATCH = 500


@dataclass(frozen=True)
class Trail:
    """One collection's chained records: each document keeps one chain per field, named `<label>/<_id>/<field>`."""

    collection: str
    fields: tuple[str, ...]
    label: str


@dataclass(frozen=True)
class RecordTrail:
    """Chained records kept one document each (an article's versions): the chain of `owner` is its documents in
    `order` (1, 2, ...), the n-th one stored under `id_format.format(owner=..., n=...)`; named `<label>/<owner>`."""

    collection: str
    owner: str
    order: str
    id_format: str
    label: str

    def doc_id(self, owner: Any, n: int) -> str:
        return self.id_format.format(owner=owner, n=n)


TICKETS = Trail("tickets", ("history", "comments", "audit"), "ticket")
ASSIGNMENTS = Trail("assignments", ("history",), "assignment")
# The agency's requests to replace an engineer and the project manager's answers (dispatch/agency/).
REPLACEMENTS = Trail("replacement_requests", ("history",), "replacement")
ARTICLE_LOG = Trail("articles", ("log",), "article")
ARTICLE_VERSIONS = RecordTrail("article_versions", "article_id", "version", "{owner}:{n}", "article-versions")
REPAIRS = Trail("repairs", ("history",), "repair")
REPORT_SIGNOFF = Trail("reports", ("history",), "report")
ASSET_VERSIONS = RecordTrail("asset_versions", "tag", "version", "{owner}#{n}", "asset-versions")
TRAILS: dict[str, tuple[Trail | RecordTrail, ...]] = {
    "intake": (TICKETS,),
    "dispatch": (ASSIGNMENTS, REPLACEMENTS),
    "assets": (REPAIRS, ASSET_VERSIONS),
    "knowledge": (ARTICLE_LOG, ARTICLE_VERSIONS),
    "reporting": (REPORT_SIGNOFF,),
}


class Verifies(Protocol):
    """A store whose chains can be checked: the answer of its part of `GET /api/v1/audit/verify`."""

    async def audit_verify(self) -> Verdict: ...


def chain_name(trail: Trail, doc_id: Any, field: str) -> str:
    return f"{trail.label}/{doc_id}/{field}"


def _without_nulls(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if v is not None}


def _same(stored: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    return audit_chain.canonical(_without_nulls(stored)) == audit_chain.canonical(_without_nulls(new))


def carry(stored: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]], *, key: bytes) -> list[dict[str, Any]]:
    """The records to write: positions already stored keep their stored seal; later ones are sealed in order."""
    out: list[dict[str, Any]] = []
    for index, record in enumerate(new):
        body = {k: v for k, v in record.items() if k not in SEALS}
        if index < len(stored):
            old = stored[index]
            if _same(old, body):
                out.append(dict(old))
            else:
                out.append({**body, **{k: old[k] for k in SEALS if k in old}})
        else:
            out.append(audit_chain.append(out, body, key=key))
    return out


def seal_fields(doc: dict[str, Any], stored: Mapping[str, Any] | None, trail: Trail, *, key: bytes) -> dict[str, Any]:
    """`doc` (a document about to be written) with each chained field carried over from `stored` (None: new document)."""
    for field in trail.fields:
        if field in doc:
            before = list(stored.get(field) or []) if stored is not None else []
            doc[field] = carry(before, list(doc[field]), key=key)
    return doc


def unsealed(doc: dict[str, Any], trail: Trail) -> dict[str, Any]:
    """`doc` with the seals taken off its chained records, as the domain models read them."""
    for field in trail.fields:
        records = doc.get(field)
        if isinstance(records, list):
            doc[field] = [{k: v for k, v in r.items() if k not in SEALS} if isinstance(r, Mapping) else r for r in records]
    return doc


class Tally:
    """Verdicts of many chains added up as they are checked, keeping only the count and the first break."""

    def __init__(self) -> None:
        self.checked = 0
        self.first_broken: str | None = None

    def add(self, chain: str, records: Sequence[Mapping[str, Any]], *, key: bytes) -> None:
        found = audit_chain.first_break(chain, records, key=key)
        self.checked += len(records) if found is None else found.index + 1
        if found is not None and self.first_broken is None:
            self.first_broken = found.describe()

    def merge(self, verdict: Verdict) -> None:
        self.checked += verdict.checked
        if not verdict.ok and self.first_broken is None:
            self.first_broken = verdict.first_broken

    def verdict(self) -> Verdict:
        return Verdict(ok=self.first_broken is None, checked=self.checked, first_broken=self.first_broken)


def verify_documents(docs: Iterable[Mapping[str, Any]], trail: Trail, *, key: bytes) -> Verdict:
    """Every chain of the given documents (`_id` and the chained fields as stored); memory stores use this."""
    tally = Tally()
    for doc in docs:
        for field in trail.fields:
            tally.add(chain_name(trail, doc["_id"], field), list(doc.get(field) or []), key=key)
    return tally.verdict()


def _tally_documents(tally: Tally, docs: Sequence[Mapping[str, Any]], trail: Trail, key: bytes) -> None:
    for doc in docs:
        for field in trail.fields:
            tally.add(chain_name(trail, doc["_id"], field), list(doc.get(field) or []), key=key)


async def verify_collection(collection: AsyncCollection[Any], trail: Trail, *, key: bytes, batch: int = BATCH) -> Verdict:
    """Every chain in the collection, read `batch` documents at a time (only the chained fields), in `_id` order.
    Each batch is checked in a worker thread: hashing a large collection takes minutes of CPU (about 0.1-0.3 ms a
    record), and the service keeps answering meanwhile."""
    tally = Tally()
    pending: list[Mapping[str, Any]] = []
    cursor = collection.find({}, {field: 1 for field in trail.fields}, batch_size=batch).sort("_id", 1)
    async for doc in cursor:
        pending.append(doc)
        if len(pending) >= batch:
            await asyncio.to_thread(_tally_documents, tally, pending, trail, key)
            pending = []
    await asyncio.to_thread(_tally_documents, tally, pending, trail, key)
    return tally.verdict()


def combined(verdicts: Iterable[Verdict]) -> Verdict:
    """One service's verdicts (several stores) as one: counts added, the first break kept."""
    tally = Tally()
    for verdict in verdicts:
        tally.merge(verdict)
    return tally.verdict()


async def seal_record(collection: AsyncCollection[Any], trail: RecordTrail, doc: Mapping[str, Any], *, key: bytes) -> dict[str, Any]:
    """`doc` (the n-th record of its owner, about to be written) sealed to follow the stored (n-1)-th; the first of a
    chain, or one whose predecessor is missing or unsealed, chains to GENESIS (verification then names the gap)."""
    n = int(doc[trail.order])
    before = None if n <= 1 else await collection.find_one({"_id": trail.doc_id(doc[trail.owner], n - 1)}, {HASH: 1})
    prev = before.get(HASH) if before is not None else None
    sealed = audit_chain.seal(_record(doc), prev=prev if isinstance(prev, str) else audit_chain.GENESIS, key=key)
    return {**({"_id": doc["_id"]} if "_id" in doc else {}), **sealed}


def verify_records(chains: Iterable[tuple[Any, Sequence[Mapping[str, Any]]]], trail: RecordTrail, *, key: bytes) -> Verdict:
    """Every owner's chain of records (each in order, `_id` left out of the hash); memory stores use this."""
    tally = Tally()
    for owner, records in chains:
        tally.add(f"{trail.label}/{owner}", [_record(r) for r in records], key=key)
    return tally.verdict()


def _record(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "_id"}


async def _owners(collection: AsyncCollection[Any], trail: RecordTrail, *, batch: int) -> Any:
    """(owner, its records in order) for each owner, read `batch` documents at a time sorted by owner and order."""
    owner: Any = None
    records: list[dict[str, Any]] = []
    async for doc in collection.find({}, batch_size=batch).sort([(trail.owner, 1), (trail.order, 1)]):
        if records and doc.get(trail.owner) != owner:
            yield owner, records
            records = []
        owner = doc.get(trail.owner)
        records.append(doc)
    if records:
        yield owner, records


def _tally_owners(tally: Tally, chains: Sequence[tuple[Any, list[dict[str, Any]]]], trail: RecordTrail, key: bytes) -> None:
    for owner, records in chains:
        tally.add(f"{trail.label}/{owner}", [_record(r) for r in records], key=key)


async def verify_record_collection(collection: AsyncCollection[Any], trail: RecordTrail, *, key: bytes, batch: int = BATCH) -> Verdict:
    """Every owner's chain in the collection, streamed (memory holds about a batch of records), hashed in a worker
    thread as `verify_collection` does."""
    tally = Tally()
    pending: list[tuple[Any, list[dict[str, Any]]]] = []
    size = 0
    async for owner, records in _owners(collection, trail, batch=batch):
        pending.append((owner, records))
        size += len(records)
        if size >= batch:
            await asyncio.to_thread(_tally_owners, tally, pending, trail, key)
            pending, size = [], 0
    await asyncio.to_thread(_tally_owners, tally, pending, trail, key)
    return tally.verdict()


def adopted(records: Sequence[Mapping[str, Any]], *, key: bytes) -> list[dict[str, Any]] | None:
    """A chain written before sealing (its first record has no seal) sealed from its start; None when there is nothing
    to adopt (empty, or already sealed from the start: a seal missing later on is a finding, never re-sealed)."""
    if not records or isinstance(records[0].get(HASH), str):
        return None
    return audit_chain.seal_all(records, key=key)


async def adopt_collection(collection: AsyncCollection[Any], trail: Trail | RecordTrail, *, key: bytes, batch: int = BATCH) -> int:
    """Seal once the chains written before sealing existed; how many documents were sealed. A document changed
    meanwhile (its version moved) is left for the next run."""
    if isinstance(trail, RecordTrail):
        return await _adopt_records(collection, trail, key=key, batch=batch)
    sealed = 0
    projection: dict[str, int] = {field: 1 for field in trail.fields} | {"version": 1}
    async for doc in collection.find({}, projection, batch_size=batch).sort("_id", 1):
        update: dict[str, Any] = {}
        for field in trail.fields:
            fresh = adopted(list(doc.get(field) or []), key=key)
            if fresh is not None:
                update[field] = fresh
        if not update:
            continue
        expect: dict[str, Any] = {"_id": doc["_id"]}
        if "version" in doc:
            expect["version"] = doc["version"]
        result = await collection.update_one(expect, {"$set": update})
        sealed += result.modified_count
    return sealed


async def _adopt_records(collection: AsyncCollection[Any], trail: RecordTrail, *, key: bytes, batch: int) -> int:
    sealed = 0
    async for _owner, records in _owners(collection, trail, batch=batch):
        fresh = adopted([_record(r) for r in records], key=key)
        for doc, record in zip(records, fresh or [], strict=False):
            result = await collection.update_one({"_id": doc["_id"]}, {"$set": {PREV: record[PREV], HASH: record[HASH]}})
            sealed += result.modified_count
    return sealed
