"""Where preferences are kept: a port, the Mongo adapter (collection notification_preferences) and a memory one."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from opsdesk_shared.mongo import check_document
from opsdesk_shared.recent import Recent

from .preferences import Preference


class PreferenceStore(Protocol):
    async def get(self, key: str) -> Preference | None: ...
    async def for_engineer(self, engineer_id: str) -> Preference | None:
        """The preference of the person who is this engineer (events name engineers by engineer id)."""
        ...
    async def put(self, preference: Preference) -> None: ...
    async def put_if_absent(self, preference: Preference) -> bool:
        """Store it only when nothing is stored under its key (defaults never overwrite an admin's choice)."""
        ...


def _from_doc(doc: dict[str, Any] | None) -> Preference | None:
    if doc is None:
        return None
    key = doc.pop("_id")
    return Preference.model_validate({**doc, "key": key})


def _doc(preference: Preference) -> dict[str, Any]:
    return preference.model_dump(mode="python", exclude={"key"})


class MongoPreferenceStore:
    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._prefs = db["notification_preferences"]

    async def ensure_indexes(self) -> None:
        await self._prefs.create_index("engineer_id", sparse=True)

    async def get(self, key: str) -> Preference | None:
        return _from_doc(await self._prefs.find_one({"_id": key}))

    async def for_engineer(self, engineer_id: str) -> Preference | None:
        return _from_doc(await self._prefs.find_one({"engineer_id": engineer_id}))

    async def put(self, preference: Preference) -> None:
        await self._prefs.replace_one({"_id": preference.key}, _doc(preference), upsert=True)

    async def put_if_absent(self, preference: Preference) -> bool:
        try:
            await self._prefs.insert_one({"_id": preference.key, **_doc(preference)})
        except DuplicateKeyError:
            return False
        return True


class RecentPreferences:
    """A PreferenceStore that answers a look-up it made less than `ttl_s` ago from memory (issue 17: every notice
    read two preferences, one of them a scan by `engineer_id` on FerretDB v1, two commands a ticket). Preferences
    change by hand and rarely: a change made through this process is seen at once (its memory is emptied), one made
    through another replica within `ttl_s`."""

    def __init__(self, inner: PreferenceStore, *, ttl_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._inner = inner
        self._ttl_s = ttl_s
        self._clock = clock
        self._seen: dict[tuple[str, str], tuple[float, Preference | None]] = {}

    async def _recent(self, kind: str, key: str, read: Callable[[], Awaitable[Preference | None]]) -> Preference | None:
        now = self._clock()
        found = self._seen.get((kind, key))
        if found is not None and now - found[0] < self._ttl_s:
            return found[1]
        value = await read()
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[(kind, key)] = (now, value)
        return value

    async def get(self, key: str) -> Preference | None:
        return await self._recent("key", key, lambda: self._inner.get(key))

    async def for_engineer(self, engineer_id: str) -> Preference | None:
        return await self._recent("engineer", engineer_id, lambda: self._inner.for_engineer(engineer_id))

    async def put(self, preference: Preference) -> None:
        self._seen.clear()
        try:
            await self._inner.put(preference)
        finally:
            self._seen.clear()

    async def put_if_absent(self, preference: Preference) -> bool:
        self._seen.clear()
        try:
            return await self._inner.put_if_absent(preference)
        finally:
            self._seen.clear()


class MemoryPreferenceStore:
    """For unit tests; refuses what the database would."""

    def __init__(self) -> None:
        self.by_key: dict[str, Preference] = {}

    async def get(self, key: str) -> Preference | None:
        return self.by_key.get(key)

    async def for_engineer(self, engineer_id: str) -> Preference | None:
        return next((p for p in self.by_key.values() if p.engineer_id == engineer_id), None)

    async def put(self, preference: Preference) -> None:
        check_document({"_id": preference.key, **_doc(preference)})
        self.by_key[preference.key] = preference

    async def put_if_absent(self, preference: Preference) -> bool:
        if preference.key in self.by_key:
            return False
        await self.put(preference)
        return True


class NumberStore(Protocol):
    """Intake's ticket numbers and titles by ticket id (from ticket.created): events that name a ticket by id only
    (ticket.assigned) are told and linked by the number people know, with the ticket's title."""

    async def remember(self, ticket_id: str, number: str, title: str | None = None) -> None: ...
    async def facts(self, ticket_id: str) -> dict[str, str] | None:
        """{"number": ..., "title": ...} (title when known), or None for a ticket not seen."""
        ...


def _facts(number: str, title: str | None) -> dict[str, str]:
    return {"number": number, **({"title": title} if title else {})}


class MongoNumberStore:
    """A ticket's number and title for the notices. The facts this process last wrote or read are kept (up to
    `keep`; issue 17: every ticket's notice read back what its ticket.created had just written); they change only
    when the ticket's title does, and a notice naming the title as it was a moment ago is acceptable."""

    def __init__(self, db: AsyncDatabase[Any], *, keep: int = 20_000) -> None:
        self._numbers = db["ticket_numbers"]
        self._recent: Recent[str, dict[str, str]] = Recent(keep)

    async def remember(self, ticket_id: str, number: str, title: str | None = None) -> None:
        self._recent.pop(ticket_id)
        facts = _facts(number, title)
        await self._numbers.replace_one({"_id": ticket_id}, facts, upsert=True)
        self._recent.put(ticket_id, {k: str(v) for k, v in facts.items()})

    async def facts(self, ticket_id: str) -> dict[str, str] | None:
        if (known := self._recent.get(ticket_id)) is not None:
            return dict(known)
        doc = await self._numbers.find_one({"_id": ticket_id})
        if doc is None:
            return None
        facts = {k: str(v) for k, v in doc.items() if k != "_id"}
        self._recent.put(ticket_id, facts)
        return dict(facts)


class MemoryNumberStore:
    def __init__(self) -> None:
        self.by_ticket: dict[str, dict[str, str]] = {}

    async def remember(self, ticket_id: str, number: str, title: str | None = None) -> None:
        self.by_ticket[ticket_id] = _facts(number, title)

    async def facts(self, ticket_id: str) -> dict[str, str] | None:
        return self.by_ticket.get(ticket_id)
