"""Storage of the agency's oversight at dispatch, memory and Mongo alike:

- `unauthorized_tickets`: tickets nobody may work on (from ticket.created awaiting authorization and
  ticket.authorization_declined; removed on ticket.authorized), by ticket id, with the number people say.
- `security_violations`: each refused act, its announcement stored with it (outbox; the relay sends it).
- `replacement_requests`: the agency's requests and the answers, the history sealed in the audit chain
  (audit_store.REPLACEMENTS, like the assignments' history); a step is a compare-and-set on `version`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, Protocol

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

import opsdesk_shared.audit_store as audit_store
from opsdesk_shared.audit_chain import DEVELOPMENT_KEY, Verdict
from opsdesk_shared.contracts import Envelope
from opsdesk_shared.mongo import Document, check_document, update_if
from opsdesk_shared.outbox import MemoryOutbox, outbox_fields, outbox_push, strip_outbox

from ..ports import ConcurrentUpdate
from .domain import ReplacementRequest, UnauthorizedTicket

TRAIL = audit_store.REPLACEMENTS


class UnauthorizedTickets(Protocol):
    async def mark(self, held: UnauthorizedTicket) -> None: ...
    async def clear(self, ticket_id: str) -> None: ...
    async def find(self, ref: str) -> UnauthorizedTicket | None:
        """By intake's ticket id or the ticket number."""
        ...


class ViolationLog(Protocol):
    async def add(self, violation_id: str, ticket_id: str | None, events: Sequence[Envelope]) -> None: ...


class ReplacementStore(Protocol):
    async def add(self, r: ReplacementRequest, events: Sequence[Envelope]) -> bool: ...
    async def get(self, request_id: str) -> ReplacementRequest | None: ...
    async def list(self, *, engineer_id: str | None = None) -> list[ReplacementRequest]: ...
    async def save(self, r: ReplacementRequest, events: Sequence[Envelope], *, expected_version: int) -> ReplacementRequest: ...
    async def audit_verify(self) -> Verdict: ...


def _held_doc(held: UnauthorizedTicket) -> dict[str, Any]:
    return held.model_dump(exclude={"ticket_id"})


def _request_doc(r: ReplacementRequest) -> dict[str, Any]:
    doc = r.model_dump(mode="json", exclude={"id"})
    # Times stay BSON dates (sorting, range queries); days (replace_by) stay ISO text: BSON has no date alone.
    for name in ("requested_at", "answer_due_at", "answered_at"):
        doc[name] = getattr(r, name)
    return doc


def _request_of(doc: dict[str, Any]) -> ReplacementRequest:
    fields = audit_store.unsealed(strip_outbox(doc), TRAIL)
    return ReplacementRequest.model_validate({**fields, "id": fields.pop("_id")})


def _ordered(found: list[ReplacementRequest]) -> list[ReplacementRequest]:
    return sorted(found, key=lambda r: (r.requested_at, r.id), reverse=True)


class MemoryUnauthorizedTickets:
    def __init__(self) -> None:
        self.items: dict[str, UnauthorizedTicket] = {}

    async def mark(self, held: UnauthorizedTicket) -> None:
        check_document({"_id": held.ticket_id, **_held_doc(held)})
        self.items[held.ticket_id] = held

    async def clear(self, ticket_id: str) -> None:
        self.items.pop(ticket_id, None)

    async def find(self, ref: str) -> UnauthorizedTicket | None:
        return self.items.get(ref) or next((h for h in self.items.values() if h.number == ref), None)


class MongoUnauthorizedTickets:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._items = db["unauthorized_tickets"]

    async def ensure_indexes(self) -> None:
        await self._items.create_index("number")

    async def mark(self, held: UnauthorizedTicket) -> None:
        await self._items.replace_one({"_id": held.ticket_id}, _held_doc(held), upsert=True)

    async def clear(self, ticket_id: str) -> None:
        await self._items.delete_one({"_id": ticket_id})

    async def find(self, ref: str) -> UnauthorizedTicket | None:
        doc = await self._items.find_one({"_id": ref}) or await self._items.find_one({"number": ref})
        return UnauthorizedTicket.model_validate({**doc, "ticket_id": doc["_id"]}) if doc is not None else None


class MemoryViolationLog:
    def __init__(self, outbox: MemoryOutbox | None = None) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.outbox = outbox

    async def add(self, violation_id: str, ticket_id: str | None, events: Sequence[Envelope]) -> None:
        doc = {"_id": violation_id, "ticket_id": ticket_id, **outbox_fields(events)}
        check_document(doc)
        self.items.setdefault(violation_id, doc)
        if self.outbox is not None:
            self.outbox.store(violation_id, events)


class MongoViolationLog:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db["security_violations"]

    async def add(self, violation_id: str, ticket_id: str | None, events: Sequence[Envelope]) -> None:
        with contextlib.suppress(DuplicateKeyError):
            await self.collection.insert_one({"_id": violation_id, "ticket_id": ticket_id, **outbox_fields(events)})


class MemoryReplacementStore:
    """Keeps each request as the database would (sealed history), so the memory store refuses what it refuses."""

    def __init__(self, *, audit_key: bytes = DEVELOPMENT_KEY) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self._key = audit_key

    async def add(self, r: ReplacementRequest, events: Sequence[Envelope]) -> bool:
        if r.id in self.docs:
            return False
        doc = {"_id": r.id, **audit_store.seal_fields(_request_doc(r), None, TRAIL, key=self._key)}
        check_document(doc)
        self.docs[r.id] = doc
        return True

    async def get(self, request_id: str) -> ReplacementRequest | None:
        doc = self.docs.get(request_id)
        return _request_of(dict(doc)) if doc is not None else None

    async def list(self, *, engineer_id: str | None = None) -> list[ReplacementRequest]:
        found = [_request_of(dict(d)) for d in self.docs.values()]
        return _ordered([r for r in found if engineer_id is None or r.engineer_id == engineer_id])

    async def save(self, r: ReplacementRequest, events: Sequence[Envelope], *, expected_version: int) -> ReplacementRequest:
        stored = self.docs.get(r.id)
        if stored is None or stored["version"] != expected_version:
            raise ConcurrentUpdate(r.id)
        saved = r.model_copy(update={"version": expected_version + 1})
        doc = {"_id": r.id, **audit_store.seal_fields(_request_doc(saved), stored, TRAIL, key=self._key)}
        check_document(doc)
        self.docs[r.id] = doc
        return saved

    async def audit_verify(self) -> Verdict:
        return audit_store.verify_documents(list(self.docs.values()), TRAIL, key=self._key)


class MongoReplacementStore:
    def __init__(self, db: AsyncDatabase[Document], *, audit_key: bytes = DEVELOPMENT_KEY) -> None:
        self.collection = db[TRAIL.collection]
        self._key = audit_key

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("engineer_id")

    async def add(self, r: ReplacementRequest, events: Sequence[Envelope]) -> bool:
        doc = audit_store.seal_fields(_request_doc(r), None, TRAIL, key=self._key)
        try:
            await self.collection.insert_one({"_id": r.id, **doc, **outbox_fields(events)})
        except DuplicateKeyError:
            return False
        return True

    async def get(self, request_id: str) -> ReplacementRequest | None:
        doc = await self.collection.find_one({"_id": request_id})
        return _request_of(doc) if doc is not None else None

    async def list(self, *, engineer_id: str | None = None) -> list[ReplacementRequest]:
        query = {} if engineer_id is None else {"engineer_id": engineer_id}
        return _ordered([_request_of(doc) async for doc in self.collection.find(query)])

    async def save(self, r: ReplacementRequest, events: Sequence[Envelope], *, expected_version: int) -> ReplacementRequest:
        stored = await self.collection.find_one({"_id": r.id, "version": expected_version}, dict.fromkeys(TRAIL.fields, 1))
        if stored is None:
            raise ConcurrentUpdate(r.id)
        saved = r.model_copy(update={"version": expected_version + 1})
        doc = audit_store.seal_fields(_request_doc(saved), stored, TRAIL, key=self._key)
        update = {"$set": doc, "$push": outbox_push(events)}
        if not await update_if(self.collection, r.id, expect={"version": expected_version}, update=update):
            raise ConcurrentUpdate(r.id)
        return saved

    async def audit_verify(self) -> Verdict:
        return await audit_store.verify_collection(self.collection, TRAIL, key=self._key)
