"""The SLA monitor's own database: one document per timer, keyed ticket:timer, carrying its outbox.

Which writes note a pending marker (issue 17). The relay runs with markers (a million timers are too many to scan),
so its sweep visits only marked timers. The writes the JetStream handlers make (`add`, `replace`, `settle`) note
none: their message is acknowledged only after the handler returns, so if the process dies between the write and
the publish the message comes again, and the redelivered handler finds its effect stored and calls `relay_now`
(service.py: a redelivered start, a next cycle already written, a stop that reads events stored in its timer); a
publish that fails raises in the handler (the message is redelivered) and the relay notes the marker then
(`deliver(..., marked=False)`), so a crash after that is swept too. Nothing stored without a marker
waits on anything but a redelivery of the message that wrote it. The breach and warning sweeper (`mark_warned`,
`mark_breached`) has no message behind it: those writes keep their marker. A start's sla.timer_started stays in the
outbox after its publish; `settle` returns what the timer holds, and the stop sends it again and clears it
(service.py, README "Storage and scale").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.group_commit import GroupInsert
from opsdesk_shared.mongo import Decision, Document, document_lock, is_ferretdb, modify, update_if
from opsdesk_shared.outbox import OUTBOX_FIELD, mark_pending, outbox_fields, outbox_push, strip_outbox

from .. import domain, listing
from ..calendar import BusinessCalendar
from ..domain import Timer
from ..escalation import Notification
from ..holiday_data import YearSchedule
from ..listing import TimerCursor, TimerFilter
from ..ports import Settle, Settled, StopOutcome
from .slots import TimerSlots


def _from_doc(doc: Document) -> Timer:
    fields = strip_outbox(doc)
    fields.pop("_id")
    return Timer.model_validate(fields)


class MongoTimerStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._timers = db["timers"]
        self._inserts = GroupInsert(self._timers)
        self.slots = TimerSlots(db)

    @property
    def collection(self) -> Any:
        return self._timers

    async def ensure_indexes(self) -> None:
        await self._timers.create_index([("status", 1), ("due_at", 1)])

    async def get(self, key: str) -> Timer | None:
        doc = await self._timers.find_one({"_id": key})
        return _from_doc(doc) if doc else None

    async def add(self, timer: Timer, *, events: Sequence[Envelope] = ()) -> bool:
        if timer.status == "running":
            await self.slots.index(timer.key, due_at=timer.due_at, warning_at=timer.warning_at)
        doc: Document = {"_id": timer.key, **timer.model_dump()}
        if events:
            doc.update(outbox_fields(events))  # no marker: a handler's write (see the module docstring)
        # The starts of one pulled batch (three clocks a ticket) go in one insert_many (group commit, issue 17).
        return await self._inserts.insert(doc)

    async def stop(self, key: str, *, at: datetime) -> bool:
        return await update_if(
            self._timers, key, expect={"status": "running"}, update={"$set": {"status": "stopped", "stopped_at": at}}
        )

    async def stop_if(self, key: str, *, at: datetime, in_time: Callable[[Timer], bool]) -> StopOutcome:
        outcome: StopOutcome = "missing"

        def decide(doc: Document | None) -> Decision:
            nonlocal outcome
            if doc is None:
                return None
            timer = _from_doc(doc)
            if timer.status not in ("running", "paused"):
                outcome = "not_running"
                return None
            if not in_time(timer):
                outcome = "late"
                return None
            outcome = "stopped"
            return {"status": timer.status}, {"$set": {"status": "stopped", "stopped_at": at, "paused_at": None}}

        written = await modify(self._timers, key, decide)
        return "not_running" if outcome == "stopped" and not written else outcome

    async def pause_if(self, key: str, *, at: datetime) -> Timer | None:
        paused: Timer | None = None

        def decide(doc: Document | None) -> Decision:
            nonlocal paused
            paused = domain.pause(_from_doc(doc), at=at) if doc is not None else None
            if paused is None:
                return None
            return {"status": "running"}, {"$set": {"status": "paused", "paused_at": at}}

        return paused if await modify(self._timers, key, decide) else None

    async def replace_early_stop(self, timer: Timer) -> bool:
        await self.slots.index(timer.key, due_at=timer.due_at, warning_at=timer.warning_at)
        return await update_if(
            self._timers, timer.key, expect={"status": "stopped", "started_at": None},
            update={"$set": timer.model_dump()},
        )

    async def running(self) -> list[Timer]:
        """Every running timer: one scan, at start-up only."""
        return [_from_doc(doc) async for doc in self._timers.find({"status": "running"}, {"_outbox": 0})]

    async def schedule(self) -> list[tuple[str, datetime | None, datetime | None]]:
        """(key, due_at, warning_at still to come) of every running timer: the start-up load, without building models."""
        projection = {"due_at": 1, "warning_at": 1, "warned_at": 1}
        return [
            (doc["_id"], doc.get("due_at"), None if doc.get("warned_at") else doc.get("warning_at"))
            async for doc in self._timers.find({"status": "running"}, projection, batch_size=10_000)
        ]

    async def replace(self, timer: Timer, *, expect: Timer, events: Sequence[Envelope] = ()) -> bool:
        if timer.status == "running":
            await self.slots.index(timer.key, due_at=timer.due_at, warning_at=timer.warning_at)
        update: Document = {"$set": timer.model_dump()}
        if events:
            update["$push"] = outbox_push(events)
        return await update_if(
            self._timers, timer.key,
            expect={"status": expect.status, "started_at": expect.started_at, "stopped_at": expect.stopped_at}, update=update,
        )

    async def settle(self, key: str, decide: Settle) -> Settled:
        """One read and one write by `_id` under the document lock (issue 17: a stop was a read, then update_if's
        read again on FerretDB, then the write). On MongoDB the write is filtered on the status, start and stop it
        was decided from, so a concurrent change makes it miss; on FerretDB the lock keeps read and write together."""
        async with document_lock(self._timers, key):
            doc = await self._timers.find_one({"_id": key})
            current = _from_doc(doc) if doc else None
            stored = tuple(Envelope.model_validate(raw) for raw in (doc or {}).get(OUTBOX_FIELD) or [])
            decision = decide(current)
            if current is None or decision is None:
                return Settled(current, None, stored)
            timer, events = decision
            if timer.status == "running":
                await self.slots.index(timer.key, due_at=timer.due_at, warning_at=timer.warning_at)
            update: Document = {"$set": timer.model_dump()}
            if events:
                update["$push"] = outbox_push(events)
            if await is_ferretdb(self._timers.database.client):
                await self._timers.update_one({"_id": key}, update)
                return Settled(current, timer, stored)
            expect = {"status": current.status, "started_at": current.started_at, "stopped_at": current.stopped_at}
            result = await self._timers.update_one({"_id": key, **expect}, update)
            return Settled(current, timer if result.matched_count == 1 else None, stored)

    async def restart(self, timer: Timer) -> bool:
        await self.slots.index(timer.key, due_at=timer.due_at, warning_at=timer.warning_at)
        fields = {"$set": timer.model_dump()}
        for status in ("running", "paused", "breached", "stopped", "cancelled"):
            if await update_if(self._timers, timer.key, expect={"status": status}, update=fields):
                return True
        return False

    async def due(self, now: datetime, *, limit: int) -> list[Timer]:
        cursor = self._timers.find({"status": "running", "due_at": {"$lte": now}}).sort("due_at", 1).limit(limit)
        return [_from_doc(doc) async for doc in cursor]

    async def warnings_due(self, now: datetime, *, limit: int) -> list[Timer]:
        query = {"status": "running", "warned_at": None, "warning_at": {"$lte": now}}
        cursor = self._timers.find(query).sort("warning_at", 1).limit(limit)
        return [_from_doc(doc) async for doc in cursor]

    async def page(self, query: TimerFilter, *, after: TimerCursor | None, limit: int) -> list[Timer]:
        """One find on the (status, due_at) index, sorted by (due_at, _id), without the outbox."""
        cursor = self._timers.find(listing.mongo_query(query, cursor=after), {OUTBOX_FIELD: 0})
        return [_from_doc(doc) async for doc in cursor.sort([("due_at", 1), ("_id", 1)]).limit(limit)]

    async def mark_warned(self, timer: Timer, events: Sequence[Envelope]) -> bool:
        await mark_pending(self._timers, timer.key)  # the sweeper's write: no message redelivers it
        if timer.due_at is not None:
            await self.slots.reindex_due(timer.key, timer.due_at)
        return await update_if(
            self._timers, timer.key, expect={"status": "running", "warned_at": None},
            update={"$set": {"warned_at": timer.warned_at}, "$push": outbox_push(events)},
        )

    async def mark_breached(self, timer: Timer, events: Sequence[Envelope]) -> bool:
        await mark_pending(self._timers, timer.key)
        return await update_if(
            self._timers, timer.key, expect={"status": "running"},
            update={"$set": {"status": "breached", "breached_at": timer.breached_at}, "$push": outbox_push(events)},
        )


class MongoHolderStore:
    """Who holds each ticket, one document per ticket (`holders`, keyed by ticket id) with the assignment's time."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._holders = db["holders"]

    async def hold(self, ticket_id: str, *, engineer_id: str, at: datetime) -> bool:
        for _ in range(5):
            try:
                await self._holders.insert_one({"_id": ticket_id, "engineer_id": engineer_id, "at": at})
                return True
            except DuplicateKeyError:
                pass
            later = False

            def decide(doc: Document | None) -> Decision:
                nonlocal later
                if doc is None:
                    return None  # removed meanwhile: insert again
                if doc["at"] > at:
                    later = True
                    return None
                return {"at": doc["at"]}, {"$set": {"engineer_id": engineer_id, "at": at}}

            if await modify(self._holders, ticket_id, decide):
                return True
            if later:
                return False
        return False

    async def holder(self, ticket_id: str) -> str | None:
        doc = await self._holders.find_one({"_id": ticket_id}, {"engineer_id": 1})
        return str(doc["engineer_id"]) if doc else None


class MongoCalendarStore:
    """Uploaded holiday years (`holiday_years`, keyed by year) and admin calendar definitions (`calendars`)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._years = db["holiday_years"]
        self._calendars = db["calendars"]

    async def schedules(self) -> list[YearSchedule]:
        return [
            YearSchedule.model_validate({**doc, "year": doc["_id"]}) async for doc in self._years.find({})
        ]

    async def save_schedule(self, schedule: YearSchedule) -> None:
        doc = schedule.model_dump(mode="json", exclude={"year"})
        # Stored as sorted ISO date lists: BSON has no date-only type and sets have no order.
        doc = {k: sorted(v) if isinstance(v, list) else v for k, v in doc.items()}
        async with document_lock(self._years, schedule.year):
            await self._years.replace_one({"_id": schedule.year}, doc, upsert=True)

    async def definitions(self) -> list[BusinessCalendar]:
        return [
            BusinessCalendar.model_validate({**doc, "name": doc["_id"]}) async for doc in self._calendars.find({})
        ]

    async def save_definition(self, calendar: BusinessCalendar) -> None:
        doc = calendar.model_dump(mode="json", exclude={"name", "schedules"})
        async with document_lock(self._calendars, calendar.name):
            await self._calendars.replace_one({"_id": calendar.name}, doc, upsert=True)


class MongoNotificationStore:
    """Escalation notifications with every attempt's outcome; pending ones are few (breaches only)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._notifications = db["notifications"]

    async def ensure_indexes(self) -> None:
        await self._notifications.create_index([("status", 1), ("due_at", 1)])

    async def add(self, notification: Notification) -> bool:
        doc = notification.model_dump(exclude={"id"})
        try:
            await self._notifications.insert_one({"_id": notification.id, **doc})
        except DuplicateKeyError:
            return False
        return True

    async def get(self, notification_id: str) -> Notification | None:
        doc = await self._notifications.find_one({"_id": notification_id})
        return Notification.model_validate({**doc, "id": doc["_id"]}) if doc else None

    async def due(self, now: datetime, *, limit: int) -> list[Notification]:
        cursor = self._notifications.find({"status": "pending", "due_at": {"$lte": now}}).sort("due_at", 1).limit(limit)
        return [Notification.model_validate({**doc, "id": doc["_id"]}) async for doc in cursor]

    async def listed(self, *, status: str | None, limit: int) -> list[Notification]:
        """The latest first; by status on the (status, due_at) index."""
        cursor = self._notifications.find({"status": status} if status else {}).sort([("due_at", -1), ("_id", -1)]).limit(limit)
        return [Notification.model_validate({**doc, "id": doc["_id"]}) async for doc in cursor]

    async def save(self, notification: Notification) -> None:
        doc = notification.model_dump(exclude={"id"})
        async with document_lock(self._notifications, notification.id):
            await self._notifications.replace_one({"_id": notification.id}, doc)

    async def cancel(self, notification_id: str) -> bool:
        return await update_if(
            self._notifications, notification_id, expect={"status": "pending"}, update={"$set": {"status": "cancelled"}}
        )
