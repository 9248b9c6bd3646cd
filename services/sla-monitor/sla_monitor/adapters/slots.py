"""A time-slot index of the timers, addressed by `_id`, so start-up reads only the slots it needs.

FerretDB v1 answers any filter other than `_id` by scanning the collection, and a scan of a million timers takes
a minute and a half. So each running timer is also listed once, in the slot document of its first moment (its
warning, else its due time): `_id` "t:2026-11-26T02:00:10Z" holds {k: key, t: due ms, w: warning ms} entries
(FerretDB v1 refuses nested arrays) for the second from then; once warned, a timer is listed again by its due
time. Start-up reads the slots from where the last run had swept to, up to a horizon, by `_id`; the horizon then
rolls forward.
Slots are written before the timer itself, so a crash leaves at worst a key whose timer does not exist, which the
sweep skips; entries are never removed (a stopped timer is skipped when its slot comes due), and a duplicate entry
(a redelivered start) is harmless: the due queue keeps one per key.

Entries for one slot are written together (issue 17): the handlers of a pulled batch start their clocks at once,
and clocks started in the same second on the same policy fall due in the same slot. Each `index` call queues its
entry and takes the slot's document lock; the holder writes every entry queued for that slot in one `$push $each`,
and a caller whose entry went out with another's write returns without writing. Every caller still returns only
once its own entry is stored (or raises if that write failed), so the slot is still written before the timer.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from opsdesk_shared.mongo import Document, document_lock

# One second: under load a slot gets one entry per ticket per second, and FerretDB rewrites the whole document on
# each update, so small slots keep writes cheap; start-up reads 900 of them per kind for a 15-minute horizon.
SLOT = timedelta(seconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Slot look-ups in flight at once when reading a window (start-up, each roll).
READ_CONCURRENCY = 16
WATERMARK_ID = "watermark"

Row = tuple[str, datetime | None, datetime | None]


def slot_start(at: datetime) -> datetime:
    seconds = (at - EPOCH) // SLOT * SLOT.total_seconds()
    return EPOCH + timedelta(seconds=seconds)


def slot_id(kind: str, at: datetime) -> str:
    return f"{kind}:{slot_start(at).isoformat().replace('+00:00', 'Z')}"


def _ms(at: datetime) -> int:
    return int((at - EPOCH).total_seconds() * 1000)


def _from_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


class TimerSlots:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._slots = db["timer_slots"]
        # Entries waiting for their slot's next write, with what each caller waits on.
        self._queued: dict[str, list[tuple[Document, asyncio.Future[None]]]] = {}

    async def index(self, key: str, *, due_at: datetime | None, warning_at: datetime | None) -> None:
        """One entry, in the slot of the timer's first moment (its warning, else its due time), carrying both; with
        the entries other callers queued for that slot meanwhile, in one write (see the module docstring)."""
        first = min((at for at in (warning_at, due_at) if at is not None), default=None)
        if first is None:
            return
        entry = {"k": key, "t": _ms(due_at) if due_at else None, "w": _ms(warning_at) if warning_at else None}
        sid = slot_id("t", first)
        stored: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queued.setdefault(sid, []).append((entry, stored))
        async with document_lock(self._slots, sid):
            if stored.done():
                return stored.result()  # written with another caller's entries (raises if that write failed)
            batch = self._queued.pop(sid)
            try:
                await self._slots.update_one(
                    {"_id": sid}, {"$push": {"entries": {"$each": [e for e, _ in batch]}}}, upsert=True
                )
            except Exception as exc:
                for _, waiting in batch:
                    if waiting is not stored:
                        waiting.set_exception(exc)
                raise
            for _, waiting in batch:
                if waiting is not stored:
                    waiting.set_result(None)

    async def reindex_due(self, key: str, due_at: datetime) -> None:
        """After the warning, the timer must still be found by its due time (which can lie in a later slot)."""
        await self.index(key, due_at=due_at, warning_at=None)

    async def read(self, start: datetime, end: datetime) -> list[Row]:
        """(key, due_at, warning_at) of every slot overlapping [start, end), one `_id` look-up per slot, in slot order.

        The look-ups go READ_CONCURRENCY at a time: each is a round trip (and most slots are empty), so one after
        another a restart's 1,500 slots took 41-47 s on a loaded two-core machine (issue 14 follow-up)."""
        ids: list[str] = []
        at = slot_start(start)
        while at < end:
            ids.append(slot_id("t", at))
            at += SLOT
        gate = asyncio.Semaphore(READ_CONCURRENCY)

        async def one(sid: str) -> Document | None:
            async with gate:
                return await self._slots.find_one({"_id": sid})

        rows: list[Row] = []
        for doc in await asyncio.gather(*(one(sid) for sid in ids)):
            if doc:
                rows.extend(
                    (e["k"], _from_ms(e["t"]) if e.get("t") is not None else None, _from_ms(e["w"]) if e.get("w") is not None else None)
                    for e in doc.get("entries", [])
                )
        return rows

    async def watermark(self) -> datetime | None:
        doc = await self._slots.find_one({"_id": WATERMARK_ID})
        return doc["swept_until"] if doc else None

    async def set_watermark(self, at: datetime) -> None:
        async with document_lock(self._slots, WATERMARK_ID):
            await self._slots.update_one({"_id": WATERMARK_ID}, {"$set": {"swept_until": at}}, upsert=True)
