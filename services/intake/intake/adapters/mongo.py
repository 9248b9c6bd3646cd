"""Intake's own database: tickets (with their outbox), number series and API tokens."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, DuplicateKeyError, ServerSelectionTimeoutError

import opsdesk_shared.audit_store as audit_store
from opsdesk_shared.audit_chain import DEVELOPMENT_KEY, Verdict
from opsdesk_shared.contracts import Envelope
from opsdesk_shared.errors import OutcomeUnknown
from opsdesk_shared.mongo import Decision, Document, document_lock, modify, update_if
from opsdesk_shared.outbox import outbox_fields, outbox_push, strip_outbox

from ..catalog import CatalogService
from ..domain import Ticket
from ..ports import ConcurrentUpdate, Decided

TICKETS = "tickets"
# The ticket's status history, comments and audit entries are chained records (issue 16; opsdesk_shared.audit_store).
TRAIL = audit_store.TICKETS


def _to_doc(ticket: Ticket) -> Document:
    doc = ticket.model_dump(mode="python")
    doc["_id"] = doc.pop("id")
    for field in ("history", "comments", "suggestions", "mail_ids", "audit"):
        doc[field] = list(doc[field])
    if doc.get("service_record"):
        doc["service_record"]["parts_used"] = list(doc["service_record"]["parts_used"])
    return doc


def _from_doc(doc: Document) -> Ticket:
    fields = audit_store.unsealed(strip_outbox(doc), TRAIL)
    fields["id"] = fields.pop("_id")
    return Ticket.model_validate(fields)


class MongoTicketStore:
    """Tickets; each write seals the chained records it appends (audit_store.carry), with `audit_key`."""

    def __init__(self, db: AsyncDatabase[Document], *, audit_key: bytes = DEVELOPMENT_KEY) -> None:
        self._tickets = db[TICKETS]
        self._series = db["number_series"]
        self._key = audit_key

    @property
    def collection(self) -> Any:
        return self._tickets

    async def ensure_indexes(self) -> None:
        await self._tickets.create_index("number", unique=True)
        await self._tickets.create_index([("status", 1), ("created_at", -1)])

    async def next_number(self, series: str) -> int:
        async with document_lock(self._series, series):
            doc = await self._series.find_one_and_update(
                {"_id": series}, {"$inc": {"seq": 1}}, upsert=True, return_document=ReturnDocument.AFTER
            )
        assert doc is not None
        return int(doc["seq"])

    async def get(self, ticket_id: str) -> Ticket | None:
        doc = await self._tickets.find_one({"_id": ticket_id}, {"_outbox": 0})
        return _from_doc(doc) if doc else None

    async def add(self, ticket: Ticket, events: Sequence[Envelope]) -> bool:
        try:
            doc = audit_store.seal_fields(_to_doc(ticket), None, TRAIL, key=self._key)
            await self._tickets.insert_one({**doc, **outbox_fields(events)})
        except DuplicateKeyError:
            return False
        except ConnectionFailure as exc:
            if isinstance(exc, ServerSelectionTimeoutError):
                raise  # never sent: nothing was stored
            raise OutcomeUnknown(f"insert of ticket {ticket.id}") from exc
        return True

    async def change(self, ticket_id: str, decide: Callable[[Ticket], Decided | None]) -> Ticket | None:
        found = False
        stored: Ticket | None = None

        def decision(doc: Document | None) -> Decision:
            nonlocal found, stored
            if doc is None:
                return None
            found = True
            current = _from_doc(doc)
            decided = decide(current)
            if decided is None:
                return None
            updated, events = decided
            stored = updated.model_copy(update={"version": current.version + 1})
            fields = audit_store.seal_fields(_to_doc(stored), doc, TRAIL, key=self._key)
            fields.pop("_id")
            update: Document = {"$set": fields}
            if events:
                update["$push"] = outbox_push(events)
            return {"version": current.version}, update

        written = await modify(self._tickets, ticket_id, decision)
        if not found:
            raise LookupError(f"ticket {ticket_id} not found")
        if stored is not None and not written:
            raise ConcurrentUpdate(ticket_id)
        return stored if written else None

    async def by_number(self, number: str) -> Ticket | None:
        doc = await self._tickets.find_one({"number": number}, {"_outbox": 0})
        return _from_doc(doc) if doc else None

    async def scan(self) -> AsyncIterator[Ticket]:
        async for doc in self._tickets.find({}, {"_outbox": 0, "audit": 0}, batch_size=2000):
            yield _from_doc(doc)

    async def audit_verify(self) -> Verdict:
        """Every ticket's chains, streamed in batches (GET /api/v1/audit/verify)."""
        return await audit_store.verify_collection(self._tickets, TRAIL, key=self._key)

    async def save(self, ticket: Ticket, events: Sequence[Envelope] = ()) -> None:
        # The stored seals of this version: the update below writes only if the version is still this one.
        stored = await self._tickets.find_one({"_id": ticket.id, "version": ticket.version}, dict.fromkeys(TRAIL.fields, 1))
        if stored is None:
            raise ConcurrentUpdate(ticket.id)
        doc = audit_store.seal_fields(_to_doc(ticket), stored, TRAIL, key=self._key)
        doc.pop("_id")
        doc["version"] = ticket.version + 1
        update: Document = {"$set": doc}
        if events:
            update["$push"] = outbox_push(events)
        if not await update_if(self._tickets, ticket.id, expect={"version": ticket.version}, update=update):
            raise ConcurrentUpdate(ticket.id)


class MongoTokenStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._tokens = db["api_tokens"]

    async def role_for(self, token_sha256: str) -> str | None:
        doc = await self._tokens.find_one({"_id": token_sha256})
        return str(doc["role"]) if doc else None

    async def ensure(self, token_sha256: str, *, role: str, name: str) -> None:
        await self._tokens.update_one(
            {"_id": token_sha256}, {"$set": {"role": role, "name": name}}, upsert=True
        )


class MongoCatalogStore:
    """The catalog as admins edited it; seeded from the contract's tables on first start."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._services = db["catalog"]

    async def all(self) -> list[CatalogService]:
        return [CatalogService.model_validate({**doc, "code": doc["_id"]}) async for doc in self._services.find({})]

    async def put(self, service: CatalogService, *, expected_version: int | None) -> CatalogService:
        async with document_lock(self._services, service.code):
            current = await self._services.find_one({"_id": service.code})
            version = int(current["version"]) if current else 0
            if expected_version is not None and expected_version != version:
                raise ConcurrentUpdate(service.code)
            stored = service.model_copy(update={"version": version + 1})
            fields = stored.model_dump(mode="json", by_alias=True, exclude={"code"})
            await self._services.replace_one({"_id": service.code}, fields, upsert=True)
        return stored

    async def seed(self, services: Sequence[CatalogService]) -> int:
        existing = {doc["_id"] async for doc in self._services.find({}, {"_id": 1})}
        missing = [s for s in services if s.code not in existing]
        for service in missing:
            with contextlib.suppress(DuplicateKeyError):  # another replica seeded it first
                await self._services.insert_one({"_id": service.code, **service.model_dump(mode="json", by_alias=True, exclude={"code"})})
        return len(missing)


class MongoKnownTags:
    """The asset tags assets announced (known_tags.KnownTags): one document per tag, the tag as its id."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._tags = db["asset_tags"]

    async def add(self, tags: Iterable[str]) -> int:
        ops = [UpdateOne({"_id": tag}, {"$setOnInsert": {"tag": tag}}, upsert=True) for tag in dict.fromkeys(tags)]
        if not ops:
            return 0
        # Unordered: one part of an import is up to 1,000 tags, written in one round trip.
        result = await self._tags.bulk_write(ops, ordered=False)
        return int(result.upserted_count)

    async def any(self) -> bool:
        return await self._tags.find_one({}, {"_id": 1}) is not None

    async def has(self, tag: str) -> bool:
        return await self._tags.find_one({"_id": tag}, {"_id": 1}) is not None


class MongoPendingHandovers:
    """Desk-first tickets waiting for their guidance window (ports.PendingHandovers): one small document per ticket,
    the ticket id as its _id (the one index FerretDB keeps), removed once the ticket left the desk or ended. The
    collection holds only tickets inside their window (minutes), so the checker's unindexed range read stays small."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._pending = db["pending_handovers"]

    async def put(self, ticket_id: str, due_at: datetime) -> None:
        await self._pending.update_one({"_id": ticket_id}, {"$setOnInsert": {"due_at": due_at}}, upsert=True)

    async def due(self, now: datetime, *, limit: int) -> list[str]:
        cursor = self._pending.find({"due_at": {"$lte": now}}, {"_id": 1}).sort("due_at", 1).limit(limit)
        return [str(doc["_id"]) async for doc in cursor]

    async def remove(self, ticket_id: str) -> None:
        await self._pending.delete_one({"_id": ticket_id})
