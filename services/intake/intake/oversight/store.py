"""Security incidents' storage: one document each, its id as `_id`, the announcement stored with the insert (the
outbox: relayed to the bus, kept until JetStream acknowledged it). A step is a compare-and-set on `version`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.errors import Contention
from opsdesk_shared.mongo import Document, check_document, update_if
from opsdesk_shared.outbox import MemoryOutbox, outbox_fields, strip_outbox

from .domain import Incident, State

COLLECTION = "security_incidents"


class IncidentChanged(Contention):
    """Someone else changed the incident meanwhile (the caller reads it again). A Contention: should a bus handler
    still meet it after its own re-reads, the message is retried, never dead-lettered (issue 14)."""


class IncidentStore(Protocol):
    async def add(self, incident: Incident, events: Sequence[Envelope]) -> bool:
        """Store a new incident with its events; False when one with its id exists (a redelivered violation)."""
        ...

    async def get(self, incident_id: str) -> Incident | None: ...

    async def list(self, *, state: State | None = None, limit: int = 200) -> list[Incident]: ...

    async def replace(self, incident: Incident, *, expected_version: int) -> None: ...

    async def latest_for(self, *, rule: str, actor: str, ticket_id: str) -> Incident | None:
        """The latest incident recorded for this actor, ticket and rule (the one a repeated attempt may fold into)."""
        ...


def _doc(incident: Incident) -> dict[str, Any]:
    fields = incident.model_dump(exclude={"id"})
    return fields


def _of(doc: dict[str, Any]) -> Incident:
    return Incident.model_validate({**strip_outbox(doc), "id": doc["_id"]})


def _latest_first(found: list[Incident], limit: int) -> list[Incident]:
    return sorted(found, key=lambda i: (i.raised_at, i.id), reverse=True)[:limit]


class MemoryIncidentStore:
    """For unit and edge tests; refuses what the database would (check_document)."""

    def __init__(self, outbox: MemoryOutbox | None = None) -> None:
        self.items: dict[str, Incident] = {}
        self.outbox = outbox

    async def add(self, incident: Incident, events: Sequence[Envelope]) -> bool:
        if incident.id in self.items:
            return False
        check_document({"_id": incident.id, **_doc(incident), **outbox_fields(events)})
        self.items[incident.id] = incident
        if self.outbox is not None:
            self.outbox.store(incident.id, events)
        return True

    async def get(self, incident_id: str) -> Incident | None:
        return self.items.get(incident_id)

    async def list(self, *, state: State | None = None, limit: int = 200) -> list[Incident]:
        return _latest_first([i for i in self.items.values() if state is None or i.state == state], limit)

    async def latest_for(self, *, rule: str, actor: str, ticket_id: str) -> Incident | None:
        found = [i for i in self.items.values() if (i.rule, i.actor, i.ticket_id) == (rule, actor, ticket_id)]
        return _latest_first(found, 1)[0] if found else None

    async def replace(self, incident: Incident, *, expected_version: int) -> None:
        current = self.items.get(incident.id)
        if current is None or current.version != expected_version:
            raise IncidentChanged(incident.id)
        check_document(_doc(incident))
        self.items[incident.id] = incident


class MongoIncidentStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db[COLLECTION]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("raised_at", DESCENDING)])
        await self.collection.create_index([("ticket_id", 1), ("raised_at", DESCENDING)])

    async def add(self, incident: Incident, events: Sequence[Envelope]) -> bool:
        try:
            await self.collection.insert_one({"_id": incident.id, **_doc(incident), **outbox_fields(events)})
        except DuplicateKeyError:
            return False
        return True

    async def get(self, incident_id: str) -> Incident | None:
        doc = await self.collection.find_one({"_id": incident_id})
        return _of(doc) if doc is not None else None

    async def list(self, *, state: State | None = None, limit: int = 200) -> list[Incident]:
        query = {} if state is None else {"state": state}
        found = [_of(doc) async for doc in self.collection.find(query).sort("raised_at", DESCENDING).limit(limit)]
        return _latest_first(found, limit)

    async def latest_for(self, *, rule: str, actor: str, ticket_id: str) -> Incident | None:
        """One find on the ticket's incidents (few: incidents are rare), newest first."""
        query = {"ticket_id": ticket_id, "actor": actor, "rule": rule}
        found = [_of(doc) async for doc in self.collection.find(query, {"_outbox": 0}).sort("raised_at", DESCENDING).limit(1)]
        return found[0] if found else None

    async def replace(self, incident: Incident, *, expected_version: int) -> None:
        # Only the incident's own fields are set, so events still waiting in its outbox stay. update_if: a filtered
        # update_one is no compare-and-set on FerretDB v1 (read, modify, write outside a transaction): two attempts
        # folding in at once both "matched" version n and one count was lost (a fresh-clone run saw 2 of 3).
        if not await update_if(self.collection, incident.id, expect={"version": expected_version}, update={"$set": _doc(incident)}):
            raise IncidentChanged(incident.id)
