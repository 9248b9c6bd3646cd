"""The in-app channel's notices: kept for a person (or everyone holding a role) and read in the console.

A notice is written when the notifier delivers a notification record on the in-app channel (`console`), keyed by the
record's id, so a redelivered record writes nothing twice. It carries its text in the three languages (the reader's
language is known only when it is read) and the ticket it is about. Who sees it is its `audience`: `engineer:<id>`
(the person events name by engineer id), `user:<subject>`, or `role:<role>` (shared by the role's people, each with
their own read mark: `read_by` lists who has read it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field
from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from opsdesk_shared.internal_auth import Caller
from opsdesk_shared.mongo import check_document

from ..escalation import Notification
from .templates import LANGUAGES, render


class Notice(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    audience: str = Field(description="engineer:<id>, user:<subject> or role:<role>")
    event: str
    ticket_id: str = ""
    number: str | None = None
    texts: dict[str, list[str]] = Field(description="language -> [title, body]")
    created_at: datetime
    read_by: list[str] = Field(default_factory=list)
    # Nothing is left to do about it (the agency decided the work it announced): read for everyone, counted by nobody.
    settled: bool = False


class NoticeView(BaseModel):
    """A notice as its reader sees it: in their language, read or not by them."""

    id: str
    event: str
    ticket_id: str
    number: str | None
    title: str
    body: str
    created_at: datetime
    read: bool


class Mine(BaseModel):
    items: list[NoticeView]
    unread: int


def audiences(caller: Caller) -> list[str]:
    """Whose notices a caller reads: their own (as a user and as an engineer) and their role's."""
    out = [f"user:{caller.subject}", f"role:{caller.role}"]
    if caller.engineer_id:
        out.append(f"engineer:{caller.engineer_id}")
    return out


def texts_of(kind: str, fields: dict[str, Any]) -> dict[str, list[str]]:
    return {lang: list(render(kind, lang, fields)) for lang in LANGUAGES}


def notice_of(n: Notification, *, now: datetime) -> Notice:
    """The notice a notification record on the in-app channel becomes (its plan put the texts in its payload)."""
    payload = n.payload
    texts = payload.get("texts") or {n.language: [n.subject, n.body]}
    return Notice(
        id=n.id, audience=str(payload.get("audience") or f"role:{n.role}"), event=n.event or str(payload.get("event", "")),
        ticket_id=n.ticket_id, number=payload.get("number") or None, texts=texts, created_at=now,
    )


def view(notice: Notice, *, reader: str, language: str) -> NoticeView:
    title, body = notice.texts.get(language) or notice.texts.get("zh-CN") or next(iter(notice.texts.values()))
    return NoticeView(
        id=notice.id, event=notice.event, ticket_id=notice.ticket_id, number=notice.number, title=title, body=body,
        created_at=notice.created_at, read=notice.settled or reader in notice.read_by,
    )


class InboxStore(Protocol):
    async def add(self, notice: Notice) -> bool:
        """Keep a notice; False when one with its id is kept already."""
        ...
    async def mine(self, audiences: Sequence[str], *, limit: int) -> list[Notice]:
        """The latest notices for these audiences, latest first."""
        ...
    async def unread(self, audiences: Sequence[str], reader: str) -> int: ...
    async def mark_read(self, notice_id: str, audiences: Sequence[str], reader: str) -> bool:
        """False when no notice of these audiences has this id (someone else's is not theirs to mark)."""
        ...
    async def mark_all_read(self, audiences: Sequence[str], reader: str) -> int: ...
    async def settle(self, ticket_id: str, events: Sequence[str]) -> int:
        """Mark the ticket's notices of these kinds settled (read for everyone); how many were not yet."""
        ...


def _doc(notice: Notice) -> dict[str, Any]:
    return {"_id": notice.id, **notice.model_dump(mode="python", exclude={"id"})}


def _notice(doc: dict[str, Any]) -> Notice:
    return Notice.model_validate({**doc, "id": doc["_id"]})


class MongoInboxStore:
    """Collection notification_inbox; one index serves the list and the unread count of an audience."""

    def __init__(self, db: AsyncDatabase[Any]) -> None:
        self._inbox = db["notification_inbox"]

    async def ensure_indexes(self) -> None:
        await self._inbox.create_index([("audience", 1), ("created_at", DESCENDING)])

    async def add(self, notice: Notice) -> bool:
        try:
            await self._inbox.insert_one(_doc(notice))
        except DuplicateKeyError:
            return False
        return True

    async def mine(self, audiences: Sequence[str], *, limit: int) -> list[Notice]:
        cursor = self._inbox.find({"audience": {"$in": list(audiences)}}).sort([("created_at", DESCENDING), ("_id", DESCENDING)])
        return [_notice(d) async for d in cursor.limit(limit)]

    async def unread(self, audiences: Sequence[str], reader: str) -> int:
        return await self._inbox.count_documents(
            {"audience": {"$in": list(audiences)}, "read_by": {"$ne": reader}, "settled": {"$ne": True}})

    async def mark_read(self, notice_id: str, audiences: Sequence[str], reader: str) -> bool:
        result = await self._inbox.update_one(
            {"_id": notice_id, "audience": {"$in": list(audiences)}}, {"$addToSet": {"read_by": reader}},
        )
        return result.matched_count > 0

    async def mark_all_read(self, audiences: Sequence[str], reader: str) -> int:
        result = await self._inbox.update_many(
            {"audience": {"$in": list(audiences)}, "read_by": {"$ne": reader}}, {"$addToSet": {"read_by": reader}},
        )
        return result.modified_count

    async def settle(self, ticket_id: str, events: Sequence[str]) -> int:
        # A ticket has a handful of notices: far from the hundred changed documents FerretDB v1's update never answers.
        result = await self._inbox.update_many(
            {"ticket_id": ticket_id, "event": {"$in": list(events)}, "settled": {"$ne": True}}, {"$set": {"settled": True}},
        )
        return result.modified_count


class MemoryInboxStore:
    """For unit tests; refuses what the database would."""

    def __init__(self) -> None:
        self.by_id: dict[str, Notice] = {}

    async def add(self, notice: Notice) -> bool:
        if notice.id in self.by_id:
            return False
        check_document(_doc(notice))
        self.by_id[notice.id] = notice
        return True

    def _of(self, audiences: Sequence[str]) -> list[Notice]:
        return [n for n in self.by_id.values() if n.audience in audiences]

    async def mine(self, audiences: Sequence[str], *, limit: int) -> list[Notice]:
        return sorted(self._of(audiences), key=lambda n: (n.created_at, n.id), reverse=True)[:limit]

    async def unread(self, audiences: Sequence[str], reader: str) -> int:
        return sum(reader not in n.read_by and not n.settled for n in self._of(audiences))

    async def settle(self, ticket_id: str, events: Sequence[str]) -> int:
        found = [n for n in self.by_id.values() if n.ticket_id == ticket_id and n.event in events and not n.settled]
        for n in found:
            self.by_id[n.id] = n.model_copy(update={"settled": True})
        return len(found)

    async def mark_read(self, notice_id: str, audiences: Sequence[str], reader: str) -> bool:
        notice = self.by_id.get(notice_id)
        if notice is None or notice.audience not in audiences:
            return False
        if reader not in notice.read_by:
            self.by_id[notice_id] = notice.model_copy(update={"read_by": [*notice.read_by, reader]})
        return True

    async def mark_all_read(self, audiences: Sequence[str], reader: str) -> int:
        marked = 0
        for notice in self._of(audiences):
            if reader not in notice.read_by:
                self.by_id[notice.id] = notice.model_copy(update={"read_by": [*notice.read_by, reader]})
                marked += 1
        return marked
