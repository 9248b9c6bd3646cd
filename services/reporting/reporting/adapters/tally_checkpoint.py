"""The tally's start-up without recounting every stored event (issue 14: 100,000 events took 79-200 s to recount).

Each recorded event carries the epoch of the process that recorded it (`e`). A snapshot (opsdesk_shared.snapshot)
holds the counts of every event up to an epoch (`through`); a counter document holds the highest epoch ever handed
out (`issued`), written before any event of that epoch is. At start-up:

- no snapshot: count every stored event (the old way, once);
- `issued == through` (the last process closed its epoch at shutdown): the snapshot is the count, nothing is read;
- `issued > through` (a crash, or a checkpoint cut short): the snapshot plus the events counted after `through`.

The events counted after the last checkpoint are read from the tail (`tally_tail`, one small document per event
counted since the checkpoint before last: its id, epoch and keys), not from `events`: on FerretDB v1 a filter on
`e` scans every stored event (129.8 s of a 144.7 s restart after SIGKILL with 100,000 events, issue 14), the tail
holds a minute or two of them. A tail document is written before the event's record and is what counts the event:
- inserted: counted now (in this process's epoch; a crash restart counts it from the tail);
- already there: counted before (by this process or by the restart that read it): not again; its record in
  `events` is written if a crash cut it short;
- inserted, but `events` holds the event already: recorded before the last checkpoint (its tail pruned), so it is in
  the snapshot: the tail document is taken back and nothing is counted. (A crash between that insert and its removal
  would count such an old event once more at the next crash restart: a redelivery older than a checkpoint, cut by a
  kill between two writes.)
- inserted, and the record's write fails (the database died): counted all the same (the tail document stands and a
  restart counts it; the redelivery finds it). The live tally sees it at the next start.
- the tail insert itself failed unanswered (it may have landed): the redelivery that finds the document counts it
  (this process remembers which), moving it to its epoch.
Tail documents are inserted in groups (one insert_many for the handlers writing at the same moment).
A snapshot saved by this code says so (`tail` in `through`); an older snapshot's restart reads `events` once.

Then this process takes epoch `issued + 1` (stored first) and saves a snapshot through `issued` if it read anything.
A checkpoint (periodic, and at shutdown) opens the next epoch, waits for the writes of the closing one to end, saves
its counts and prunes the tail through it. At shutdown no next epoch is opened: a record after the final checkpoint
is refused, so its message is not acknowledged and the next process records and counts it. One reporting process per
database (the tally is per process, as before)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from pymongo.asynchronous.database import AsyncDatabase

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.group_commit import GroupInsert
from opsdesk_shared.mongo import Document
from opsdesk_shared.snapshot import Snapshots

from ..ports import Counted, ignore_count
from .mongo import MongoEventProjection

SNAPSHOT = "tally"
EPOCHS_ID = "tally"


class TallyClosed(Exception):
    """The final checkpoint was taken: this process records nothing more (the message will be redelivered)."""


class CheckpointedEventProjection(MongoEventProjection):
    def __init__(self, db: AsyncDatabase[Document], snapshots: Snapshots, *, drain_timeout_s: float = 30.0) -> None:
        super().__init__(db)
        self._db = db
        self._epochs = db["tally_epochs"]
        self._tail = db["tally_tail"]
        self._tail_inserts = GroupInsert(self._tail)
        self._event_inserts = GroupInsert(db["events"])  # the records too: one insert_many per gathered group
        self.snapshots = snapshots
        self.drain_timeout_s = drain_timeout_s
        self.epoch: int | None = None
        self.closed = False
        self.loaded_from = ""
        self._base: Counter[str] = Counter()
        self._by_epoch: dict[int, Counter[str]] = {}
        self._inflight: dict[int, int] = {}
        self._checkpointing = asyncio.Lock()
        self._through = 0  # the epoch the last snapshot counts through
        self._unsure: set[str] = set()  # events whose tail insert failed without an answer

    async def ensure_indexes(self) -> None:
        await super().ensure_indexes()
        await self._db["events"].create_index([("e", 1)])  # MongoDB reads a crash's tail by it; FerretDB v1 scans

    async def _issue(self, epoch: int) -> None:
        await self._epochs.update_one({"_id": EPOCHS_ID}, {"$max": {"issued": epoch}}, upsert=True)

    async def _issued(self) -> int:
        doc = await self._epochs.find_one({"_id": EPOCHS_ID})
        return int((doc or {}).get("issued", 0))

    async def _count(self, match: Document | None) -> Counter[str]:
        pipeline: list[Document] = [*([{"$match": match}] if match else []), {"$unwind": "$keys"},
                                    {"$group": {"_id": "$keys", "n": {"$sum": 1}}}]
        cursor = await self._db["events"].aggregate(pipeline)
        return Counter({row["_id"]: int(row["n"]) async for row in cursor})

    async def counts(self) -> dict[str, int]:
        """The counts at start-up (see the module's note); afterwards the counts as of the last checkpoint plus what
        this process recorded since."""
        if self.epoch is None and not self.closed:
            await self.start_up()
        total = Counter(self._base)
        for counted in self._by_epoch.values():
            total.update(counted)
        return dict(total)

    async def _tail_counts(self, through: int) -> tuple[Counter[str], int]:
        """The keys of every event counted after `through`, from the tail (a small collection: read whole)."""
        counts: Counter[str] = Counter()
        events = 0
        async for doc in self._tail.find({}, {"e": 1, "keys": 1}):
            if isinstance(doc.get("e"), int) and doc["e"] > through:
                counts.update(doc.get("keys") or [])
                events += 1
        return counts, events

    async def start_up(self) -> None:
        snap = await self.snapshots.load(SNAPSHOT)
        issued = await self._issued()
        through = snap.through.get("epoch") if snap is not None and isinstance(snap.through, dict) else None
        tailed = snap is not None and isinstance(snap.through, dict) and snap.through.get("tail") is True
        if snap is None or not isinstance(through, int) or not isinstance(snap.payload, list) or through > issued:
            counts, self.loaded_from = await self._count(None), "full recount"
        else:
            counts = Counter({str(k): int(n) for k, n in snap.payload})
            if issued > through and tailed:
                tail, events = await self._tail_counts(through)
                counts.update(tail)
                self.loaded_from = f"snapshot + tail of epochs {through + 1}..{issued} ({events} events)"
            elif issued > through:  # a snapshot older than the tail: the events of the later epochs, once
                counts.update(await self._count({"e": {"$gt": through}}))
                self.loaded_from = f"snapshot + epochs {through + 1}..{issued}"
            else:
                self.loaded_from = "snapshot"
        mine = issued + 1
        await self._issue(mine)
        if self.loaded_from != "snapshot" or not tailed:
            await self.snapshots.save(SNAPSHOT, through={"epoch": issued, "tail": True}, payload=sorted(counts.items()))
        self._base, self.epoch, self._through = counts, mine, issued
        self._by_epoch, self._inflight = {mine: Counter()}, {mine: 0}

    async def record(self, envelope: Envelope, keys: list[str], counted: Counted = ignore_count) -> bool:
        """True when this delivery counted the event (see the module's note: the tail document decides)."""
        epoch = self.epoch
        if epoch is None:
            raise TallyClosed("the tally's final checkpoint was taken" if self.closed else "the tally is not loaded")
        self._inflight[epoch] += 1
        try:
            event_id = str(envelope.event_id)
            doc = {
                "_id": event_id, "type": envelope.type, "version": envelope.version,
                "occurred_at": envelope.occurred_at, "subject_id": envelope.subject_id, "producer": envelope.producer,
                "data": envelope.data, "keys": keys, "e": epoch,
            }
            try:
                inserted = await self._tail_inserts.insert({"_id": event_id, "e": epoch, "keys": keys})
            except Exception:
                self._unsure.add(event_id)  # the insert may have landed: its redelivery must count it then
                raise
            if not inserted and event_id in self._unsure:
                # This process's own earlier insert landed unanswered and counted nothing: count it now, in this
                # epoch (the tail document moved to it, so a crash restart counts it once).
                await self._tail.update_one({"_id": event_id}, {"$set": {"e": epoch, "keys": keys}}, upsert=True)
                self._unsure.discard(event_id)
                inserted = True
            elif inserted:
                self._unsure.discard(event_id)
            if not inserted:
                # counted before; its record may have been cut short by a crash
                tail = await self._tail.find_one({"_id": event_id}, {"e": 1})
                if tail is not None and isinstance(tail.get("e"), int):
                    doc["e"] = tail["e"]  # the epoch that counted it, which the delivery that wrote the tail reads
                await self._event_inserts.insert(doc)  # False: it is there already
                return False
            try:
                if not await self._event_inserts.insert(doc):
                    stored = await self._db["events"].find_one({"_id": event_id}, {"e": 1})
                    recorded_in = (stored or {}).get("e")
                    if not isinstance(recorded_in, int) or recorded_in <= self._through:
                        # recorded before the last checkpoint (its tail pruned): in the snapshot already
                        await self._tail.delete_one({"_id": event_id, "e": epoch})
                        return False
                    # recorded after it by a concurrent delivery of the same message that found this tail document:
                    # this tail document counts it (that delivery counted nothing)
            except BaseException:
                # The tail document stands: counted (see the module's note), and so in the live tally too: the
                # redelivery finds the tail and counts nothing (seen in the long fault campaign: 4 tickets short).
                self._by_epoch[epoch].update(keys)
                counted(keys)
                raise
            self._by_epoch[epoch].update(keys)
            counted(keys)
            return True
        finally:
            self._inflight[epoch] -= 1

    async def checkpoint(self, *, final: bool = False) -> bool:
        """Close the current epoch and save the counts through it; with `final`, open none (shutdown). False when the
        closing epoch's writes did not end in time (the next start then reads that epoch's events)."""
        async with self._checkpointing:
            closing = self.epoch
            if closing is None:
                return False
            if final:
                self.epoch, self.closed = None, True
            else:
                await self._issue(closing + 1)  # stored before any event of the new epoch is
                self.epoch = closing + 1
                self._by_epoch[closing + 1], self._inflight[closing + 1] = Counter(), 0
            deadline = time.monotonic() + self.drain_timeout_s
            while self._inflight.get(closing, 0) > 0:
                if time.monotonic() > deadline:
                    return False
                await asyncio.sleep(0.02)
            counts = Counter(self._base)
            for epoch in [e for e in self._by_epoch if e <= closing]:
                counts.update(self._by_epoch[epoch])
            await self.snapshots.save(SNAPSHOT, through={"epoch": closing, "tail": True}, payload=sorted(counts.items()))
            self._base, self._through = counts, closing
            for epoch in [e for e in self._by_epoch if e <= closing]:
                del self._by_epoch[epoch]
                self._inflight.pop(epoch, None)
            # The tail through the snapshot is in it. A prune cut short leaves documents a restart skips (e <= through).
            await self._tail.delete_many({"e": {"$lte": closing}})
            return True

