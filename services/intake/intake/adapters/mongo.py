"""Intake's own database: tickets (with their outbox), number series and API tokens."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.mongo import Decision, Document, document_lock, modify, update_if
from opsdesk_shared.outbox import outbox_fields, outbox_push, strip_outbox

from ..domain import Ticket
from ..ports import ConcurrentUpdate

TICKETS = "tickets"


def _to_doc(ticket: Ticket) -> Document:
    doc = ticket.model_dump(mode="python")
    doc["_id"] = doc.pop("id")
    doc["history"] = list(doc["history"])
    return doc


def _from_doc(doc: Document) -> Ticket:
    fields = strip_outbox(doc)
    fields["id"] = fields.pop("_id")
    return Ticket.model_validate(fields)


class MongoTicketStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._tickets = db[TICKETS]
        self._series = db["number_series"]

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
            await self._tickets.insert_one({**_to_doc(ticket), **outbox_fields(events)})
        except DuplicateKeyError:
            return False
        return True

    async def change(self, ticket_id: str, decide: Callable[[Ticket], Ticket | None]) -> bool:
        found = decided = False

        def decision(doc: Document | None) -> Decision:
            nonlocal found, decided
            if doc is None:
                return None
            found = True
            current = _from_doc(doc)
            updated = decide(current)
            if updated is None:
                return None
            decided = True
            fields = _to_doc(updated)
            fields.pop("_id")
            fields["version"] = current.version + 1
            return {"version": current.version}, {"$set": fields}

        written = await modify(self._tickets, ticket_id, decision)
        if not found:
            raise LookupError(f"ticket {ticket_id} not found")
        if decided and not written:
            raise ConcurrentUpdate(ticket_id)
        return written

    async def save(self, ticket: Ticket, events: Sequence[Envelope] = ()) -> None:
        doc = _to_doc(ticket)
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
