"""Dead letters an operator can act on, through the gateway: list (filters and a cursor), read one, replay one.

The records live in the durable JetStream stream OPSDESK_DEADLETTER; a dead letter's id is its stream sequence.
A replay hands the original message back to the one consumer that gave up on it (opsdesk_shared.deadletters), so
other consumers of the subject see nothing twice and no service publishes a subject it does not own. A replay is
idempotent: the gateway remembers each one (collection `dead_letter_replays`, keyed by id) and a second POST
answers the first replay with 200 and sends nothing; the replay's Nats-Msg-Id `replay:<id>` covers a crash between
the send and the record. Administrators only. The same operations from a shell: `python -m opsdesk_devstack
dead-letters list|show|replay`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from pydantic import BaseModel, Field
from pymongo.asynchronous.database import AsyncDatabase

from opsdesk_shared.deadletters import DeadLetterReader, StoredDeadLetter
from opsdesk_shared.mongo import Document

from ..identity.routes import Admin
from .routing import API

router = APIRouter(prefix=f"{API}/admin/dead-letters", tags=["operations"])
REPLAYS = "dead_letter_replays"

EXAMPLE_ITEM: dict[str, Any] = {
    "id": 412, "subject": "ticket.created", "consumer": "knowledge-ticket-created", "service": "knowledge", "reason": "failed",
    "error": "ConcurrentUpdate: problem candidate 打印機卡紙 changed underneath", "deliveries": 5,
    "failed_at": "2026-11-30T09:12:03.120000+08:00", "stored_at": "2026-11-30T09:12:03.131000+08:00",
    "correlation_id": "6f1c2a8e-2b7d-4c55-9a3e-1d2f3a4b5c6d", "replay": None,
}
EXAMPLE_REPLAY: dict[str, Any] = {
    "dead_letter_id": 412, "consumer": "knowledge-ticket-created", "subject": "replay.knowledge.knowledge-ticket-created",
    "replayed_at": "2026-11-30T10:02:44.500000+08:00", "replayed_by": "admin.li", "already_replayed": False,
}


class Replay(BaseModel):
    dead_letter_id: int
    consumer: str
    subject: str = Field(description="Where it was sent: replay.<service>.<consumer>, pulled only by that consumer's service")
    replayed_at: datetime
    replayed_by: str = Field(description="The administrator who asked (the verified caller)")
    already_replayed: bool = Field(default=False, description="True when this answers an earlier replay: nothing was sent again")


class DeadLetterOut(BaseModel):
    id: int = Field(description="The record's sequence in the stream OPSDESK_DEADLETTER")
    subject: str
    consumer: str = Field(description="The durable consumer that gave up on it")
    service: str | None = Field(description="The service owning that consumer")
    reason: Literal["invalid", "failed"] | str
    error: str
    deliveries: int
    failed_at: datetime
    stored_at: datetime
    correlation_id: str | None
    replay: Replay | None = Field(default=None, description="The replay, once an administrator asked for one")


class DeadLetterDetail(DeadLetterOut):
    payload: str = Field(description="The original message body, as text")
    headers: dict[str, str]


class DeadLetterPage(BaseModel):
    items: list[DeadLetterOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null when the stream is read to its end")


class _NoStream:
    """The app on memory adapters (tests) has no bus: an empty dead-letter stream."""

    async def get(self, dead_letter_id: int) -> StoredDeadLetter | None:
        return None

    async def scan(self, **_kwargs: Any) -> tuple[list[StoredDeadLetter], int | None]:
        return [], None

    async def replay(self, item: StoredDeadLetter) -> str:
        raise LookupError("no bus")


def _reader(request: Request) -> DeadLetterReader | _NoStream:
    broker = getattr(request.app.state, "broker", None)
    return _NoStream() if broker is None else DeadLetterReader(broker)


def _db(request: Request) -> AsyncDatabase[Document] | None:
    return getattr(request.app.state, "db", None)


def _replay_of(doc: Document | None) -> Replay | None:
    if doc is None:
        return None
    return Replay(dead_letter_id=doc["_id"], consumer=doc["consumer"], subject=doc["subject"],
                  replayed_at=doc["replayed_at"], replayed_by=doc["replayed_by"])


async def _replays(db: AsyncDatabase[Document] | None, ids: list[int]) -> dict[int, Replay]:
    found: dict[int, Replay] = {}
    if db is None:
        return found
    for dead_letter_id in ids:  # by _id one at a time: FerretDB answers only _id lookups without a scan
        replay = _replay_of(await db[REPLAYS].find_one({"_id": dead_letter_id}))
        if replay is not None:
            found[dead_letter_id] = replay
    return found


def _out(item: StoredDeadLetter, replay: Replay | None) -> DeadLetterOut:
    return DeadLetterOut(**item.summary(), replay=replay)


@router.get("", response_model=DeadLetterPage, summary="List dead letters, oldest first",
            responses={200: {"content": {"application/json": {"example": {"items": [EXAMPLE_ITEM], "next_cursor": "412"}}}}})
async def list_dead_letters(
    request: Request,
    _admin: Admin,
    subject: Annotated[str | None, Query(max_length=200, description="The original subject, e.g. ticket.created")] = None,
    consumer: Annotated[str | None, Query(max_length=100, description="The durable that gave up, e.g. knowledge-ticket-created")] = None,
    service: Annotated[str | None, Query(max_length=40, description="The service owning the consumer")] = None,
    reason: Annotated[Literal["invalid", "failed"] | None, Query()] = None,
    since: Annotated[datetime | None, Query(description="Only those that failed at or after this time (with offset)")] = None,
    replayed: Annotated[bool | None, Query(description="true: only replayed ones; false: only those not replayed yet")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=20, pattern=r"^\d+$")] = None,
) -> DeadLetterPage:
    """Filters combine with AND. Each page reads at most a bounded stretch of the stream, so a narrow filter may
    answer an empty page with a cursor: keep following next_cursor until it is null."""
    if since is not None and since.tzinfo is None:
        raise HTTPException(422, [{"loc": ["query", "since"], "msg": "since needs a time zone offset", "type": "value_error"}])

    def keep(item: StoredDeadLetter) -> bool:
        r = item.record
        return ((subject is None or r.subject == subject) and (consumer is None or r.consumer == consumer)
                and (service is None or item.service == service) and (reason is None or r.reason == reason)
                and (since is None or r.failed_at >= since))

    db = _db(request)
    items, last = await _reader(request).scan(after=int(cursor or 0), limit=limit, keep=keep)
    replays = await _replays(db, [i.id for i in items])
    out = [_out(i, replays.get(i.id)) for i in items]
    if replayed is not None:
        out = [o for o in out if (o.replay is not None) == replayed]
    return DeadLetterPage(items=out, next_cursor=str(last) if last is not None else None)


async def _get(request: Request, dead_letter_id: int) -> StoredDeadLetter:
    item = await _reader(request).get(dead_letter_id)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no dead letter {dead_letter_id}")
    return item


DeadLetterId = Annotated[int, Path(ge=1, description="The dead letter's id (its stream sequence)")]


@router.get("/{dead_letter_id}", response_model=DeadLetterDetail, summary="One dead letter with its message and headers",
            responses={200: {"content": {"application/json": {"example": {
                **EXAMPLE_ITEM, "payload": '{"type":"ticket.created","version":1,"data":{"...":"..."}}',
                "headers": {"correlation_id": "6f1c2a8e-2b7d-4c55-9a3e-1d2f3a4b5c6d"}}}}}})
async def read_dead_letter(request: Request, dead_letter_id: DeadLetterId, _admin: Admin) -> DeadLetterDetail:
    item = await _get(request, dead_letter_id)
    replay = (await _replays(_db(request), [item.id])).get(item.id)
    return DeadLetterDetail(**_out(item, replay).model_dump(), payload=item.record.payload, headers=item.record.headers)


@router.post("/{dead_letter_id}/replay", response_model=Replay, status_code=status.HTTP_202_ACCEPTED,
             summary="Hand a dead letter back to its consumer (idempotent)",
             responses={200: {"description": "Replayed before: the earlier replay, nothing sent again",
                              "content": {"application/json": {"example": {**EXAMPLE_REPLAY, "already_replayed": True}}}},
                        202: {"content": {"application/json": {"example": EXAMPLE_REPLAY}}}})
async def replay_dead_letter(request: Request, response: Response, dead_letter_id: DeadLetterId, admin: Admin) -> Replay:
    """After the fix: the consumer handles the message again with its usual validation and retries; if it still
    fails, a new dead letter records it. A second replay of the same id answers the first, 200, sending nothing."""
    item = await _get(request, dead_letter_id)
    db, reader = _db(request), _reader(request)
    assert db is not None, "a dead letter was read, so the app is wired to the bus and the database"
    stored = await db[REPLAYS].find_one({"_id": dead_letter_id})
    if stored is not None and stored.get("sent"):
        response.status_code = status.HTTP_200_OK
        return _replay_of(stored).model_copy(update={"already_replayed": True})  # type: ignore[union-attr]
    if item.service is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"no service owns consumer {item.record.consumer!r}: nothing to replay it to")
    doc: Document = {
        "_id": item.id, "consumer": item.record.consumer, "subject": "", "replayed_at": datetime.now(UTC),
        "replayed_by": admin.subject, "sent": False,
    }
    if stored is None:
        await db[REPLAYS].update_one({"_id": item.id}, {"$setOnInsert": doc}, upsert=True)
    # Sent under Nats-Msg-Id replay:<id>: if a crash left the record unsent, the second send is dropped as a duplicate.
    subject = await reader.replay(item)
    await db[REPLAYS].update_one({"_id": item.id}, {"$set": {"subject": subject, "sent": True}})
    final = await db[REPLAYS].find_one({"_id": item.id})
    return _replay_of(final) or Replay(dead_letter_id=item.id, consumer=item.record.consumer, subject=subject,
                                       replayed_at=doc["replayed_at"], replayed_by=admin.subject)
