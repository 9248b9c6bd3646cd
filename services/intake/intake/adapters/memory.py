"""In-memory adapters for unit and edge tests only; `make run` always uses the real database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import opsdesk_shared.audit_store as audit_store
from opsdesk_shared.audit_chain import DEVELOPMENT_KEY, Verdict
from opsdesk_shared.contracts import Envelope
from opsdesk_shared.contracts.calendars import CalendarReply, DeadlineQuery, ElapsedQuery, TimerView
from opsdesk_shared.mongo import check_document
from opsdesk_shared.outbox import MemoryOutbox as MemoryOutbox
from opsdesk_shared.outbox import outbox_fields

from ..catalog import CatalogService
from ..domain import Ticket
from ..ports import ConcurrentUpdate, Decided, TimersUnavailable


class MemoryTicketStore:
    def __init__(self, *, outbox: MemoryOutbox | None = None, audit_key: bytes = DEVELOPMENT_KEY) -> None:
        self.tickets: dict[str, Ticket] = {}
        # Each ticket's chained records as the database keeps them (sealed; audit_store.TRAILS["intake"]).
        self.sealed: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self._key = audit_key
        self.series: dict[str, int] = {}
        self.returned: dict[str, list[int]] = {}
        self.stored_events: list[Envelope] = []
        # Keeps each ticket's unsent events as the database's `_outbox` does, so relay_now finds them (tests of replays).
        self.outbox = outbox

    async def next_number(self, series: str) -> int:
        if self.returned.get(series):
            return self.returned[series].pop(self.returned[series].index(min(self.returned[series])))
        self.series[series] = self.series.get(series, 0) + 1
        return self.series[series]

    def release_number(self, series: str, number: int) -> None:
        if number == self.series.get(series):
            self.series[series] = number - 1  # the last one drawn: as if never drawn
        else:
            self.returned.setdefault(series, []).append(number)

    async def get(self, ticket_id: str) -> Ticket | None:
        return self.tickets.get(ticket_id)

    async def add(self, ticket: Ticket, events: Sequence[Envelope]) -> bool:
        if ticket.id in self.tickets:
            return False
        check_document({**ticket.model_dump(), **outbox_fields(events)})  # refused here as the database would
        self.tickets[ticket.id] = ticket
        self._seal(ticket)
        self.stored_events.extend(events)
        if self.outbox is not None:
            self.outbox.store(ticket.id, events)
        return True

    async def change(self, ticket_id: str, decide: Callable[[Ticket], Decided | None]) -> Ticket | None:
        current = self.tickets.get(ticket_id)
        if current is None:
            raise LookupError(f"ticket {ticket_id} not found")
        decided = decide(current)
        if decided is None:
            return None
        updated, events = decided
        await self.save(updated, events)
        return self.tickets[ticket_id]

    async def by_number(self, number: str) -> Ticket | None:
        return next((t for t in self.tickets.values() if t.number == number), None)

    async def recent(self, ticket_id: str, *, since: float | None) -> Ticket | None:
        return await self.get(ticket_id)  # always current

    def wrote(self, event_id: str) -> bool:
        return False

    async def scan(self) -> AsyncIterator[Ticket]:
        for ticket in list(self.tickets.values()):
            yield ticket

    async def save(self, ticket: Ticket, events: Sequence[Envelope] = ()) -> None:
        current = self.tickets.get(ticket.id)
        if current is None or current.version != ticket.version:
            raise ConcurrentUpdate(ticket.id)
        check_document({**ticket.model_dump(), **outbox_fields(events)})
        self.tickets[ticket.id] = ticket.model_copy(update={"version": ticket.version + 1})
        self._seal(ticket)
        self.stored_events.extend(events)
        if self.outbox is not None and events:
            self.outbox.store(ticket.id, events)

    def _seal(self, ticket: Ticket) -> None:
        """Seal what the ticket appended to its chained records, as the Mongo store does on each write."""
        trail = audit_store.TICKETS
        doc = ticket.model_dump(mode="python", include=set(trail.fields))
        self.sealed[ticket.id] = audit_store.seal_fields(doc, self.sealed.get(ticket.id), trail, key=self._key)

    async def audit_verify(self) -> Verdict:
        trail = audit_store.TICKETS
        docs = ({"_id": ticket_id, **fields} for ticket_id, fields in self.sealed.items())
        return audit_store.verify_documents(docs, trail, key=self._key)


class MemoryCatalogStore:
    def __init__(self) -> None:
        self.services: dict[str, CatalogService] = {}

    async def all(self) -> list[CatalogService]:
        return list(self.services.values())

    async def put(self, service: CatalogService, *, expected_version: int | None) -> CatalogService:
        current = self.services.get(service.code)
        version = current.version if current else 0
        if expected_version is not None and expected_version != version:
            raise ConcurrentUpdate(service.code)
        check_document(service.model_dump(mode="json", by_alias=True))
        self.services[service.code] = stored = service.model_copy(update={"version": version + 1})
        return stored

    async def seed(self, services: Sequence[CatalogService]) -> int:
        missing = [s for s in services if s.code not in self.services]
        for service in missing:
            check_document(service.model_dump(mode="json", by_alias=True))
        self.services.update({s.code: s for s in missing})
        return len(missing)


class MemoryTokenStore:
    def __init__(self) -> None:
        self.roles: dict[str, str] = {}

    async def role_for(self, token_sha256: str) -> str | None:
        return self.roles.get(token_sha256)

    async def ensure(self, token_sha256: str, *, role: str, name: str) -> None:
        self.roles[token_sha256] = role


class MemoryAssetDirectory:
    def __init__(self, assets: dict[str, dict[str, Any]] | None = None) -> None:
        self.assets = assets or {}

    async def lookup(self, tag: str) -> dict[str, Any] | None:
        return self.assets.get(tag)


class MemoryBusinessCalendars:
    """Answers from a fixed table, for edge tests of the gateway's calendar routes."""

    def __init__(self, replies: dict[str, CalendarReply] | None = None) -> None:
        self.replies = replies or {}
        self.asked: list[DeadlineQuery | ElapsedQuery] = []

    async def ask(self, query: DeadlineQuery | ElapsedQuery) -> CalendarReply:
        self.asked.append(query)
        return self.replies.get(query.calendar, CalendarReply(status=404, errors=[{"loc": ["path", "name"], "msg": "unknown"}]))


class MemoryTimerDirectory:
    def __init__(self, timers: dict[str, list[TimerView]] | None = None, *, down: bool = False) -> None:
        self.by_ticket = timers or {}
        self.down = down

    async def timers(self, ticket_id: str) -> list[TimerView]:
        if self.down:
            raise TimersUnavailable("sla-monitor down")
        return self.by_ticket.get(ticket_id, [])


class MemoryKnownTags:
    """The asset tags assets announced (known_tags.KnownTags), for tests."""

    def __init__(self, tags: Iterable[str] = ()) -> None:
        self.tags: set[str] = set(tags)

    async def add(self, tags: Iterable[str]) -> int:
        new = set(tags) - self.tags
        for tag in new:
            check_document({"_id": tag})  # refused here as the database would
        self.tags |= new
        return len(new)

    async def any(self) -> bool:
        return bool(self.tags)

    async def has(self, tag: str) -> bool:
        return tag in self.tags


class MemoryPendingHandovers:
    """Desk-first tickets waiting for their guidance window (ports.PendingHandovers), for tests."""

    def __init__(self) -> None:
        self.due_at: dict[str, datetime] = {}

    async def put(self, ticket_id: str, due_at: datetime) -> None:
        check_document({"_id": ticket_id, "due_at": due_at})  # refused here as the database would
        self.due_at.setdefault(ticket_id, due_at)

    async def due(self, now: datetime, *, limit: int) -> list[str]:
        return [t for t, at in sorted(self.due_at.items(), key=lambda item: item[1]) if at <= now][:limit]

    async def remove(self, ticket_id: str) -> None:
        self.due_at.pop(ticket_id, None)
