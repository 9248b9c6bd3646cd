"""A time-slot index of the timers, addressed by `_id`, so start-up reads only the slots it needs.

FerretDB v1 answers any filter other than `_id` by scanning the collection, and a scan of a million timers takes
a minute and a half. So each running timer is also listed in the slot document of its due time (and of its warning
time): `_id` "due:2026-11-26T02:00:10Z" holds {k: key, t: epoch ms} entries (FerretDB v1 refuses nested arrays)
for the 10 seconds from then. Start-up reads
the slots from where the last run had swept to, up to a horizon, by `_id`; the horizon then rolls forward.
Slots are written before the timer itself, so a crash leaves at worst a key whose timer does not exist, which the
sweep skips; entries are never removed (a stopped timer is skipped when its slot comes due).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from opsdesk_shared.mongo import Document, document_lock

SLOT = timedelta(seconds=10)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
WATERMARK_ID = "watermark"

Entry = tuple[str, datetime]


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

    async def index(self, key: str, *, due_at: datetime | None, warning_at: datetime | None) -> None:
        for kind, at in (("due", due_at), ("warn", warning_at)):
            if at is None:
                continue
            sid = slot_id(kind, at)
            async with document_lock(self._slots, sid):
                await self._slots.update_one({"_id": sid}, {"$addToSet": {"entries": {"k": key, "t": _ms(at)}}}, upsert=True)

    async def read(self, kind: str, start: datetime, end: datetime) -> list[Entry]:
        """Entries of every slot overlapping [start, end), one `_id` look-up per slot."""
        entries: list[Entry] = []
        at = slot_start(start)
        while at < end:
            doc = await self._slots.find_one({"_id": slot_id(kind, at)})
            if doc:
                entries.extend((e["k"], _from_ms(e["t"])) for e in doc.get("entries", []))
            at += SLOT
        return entries

    async def watermark(self) -> datetime | None:
        doc = await self._slots.find_one({"_id": WATERMARK_ID})
        return doc["swept_until"] if doc else None

    async def set_watermark(self, at: datetime) -> None:
        async with document_lock(self._slots, WATERMARK_ID):
            await self._slots.update_one({"_id": WATERMARK_ID}, {"$set": {"swept_until": at}}, upsert=True)
