"""Where preferences are kept: a port, the Mongo adapter (collection notification_preferences) and a memory one."""

from __future__ import annotations

from typing import Any, Protocol

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from opsdesk_shared.mongo import check_document

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
    """Intake's ticket numbers by ticket id (from ticket.created): events that name a ticket by id only (ticket.assigned)
    are told and linked by the number people know."""

    async def remember(self, ticket_id: str, number: str) -> None: ...
    async def number(self, ticket_id: str) -> str | None: ...


class MongoNumberStore:
    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._numbers = db["ticket_numbers"]

    async def remember(self, ticket_id: str, number: str) -> None:
        await self._numbers.replace_one({"_id": ticket_id}, {"number": number}, upsert=True)

    async def number(self, ticket_id: str) -> str | None:
        doc = await self._numbers.find_one({"_id": ticket_id})
        return str(doc["number"]) if doc else None


class MemoryNumberStore:
    def __init__(self) -> None:
        self.by_ticket: dict[str, str] = {}

    async def remember(self, ticket_id: str, number: str) -> None:
        self.by_ticket[ticket_id] = number

    async def number(self, ticket_id: str) -> str | None:
        return self.by_ticket.get(ticket_id)
