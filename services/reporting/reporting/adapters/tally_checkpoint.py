"""The tally's start-up without recounting every stored event (issue 14: 100,000 events took 79-200 s to recount).

Each recorded event carries the epoch of the process that recorded it (`e`). A snapshot (opsdesk_shared.snapshot)
holds the counts of every event up to an epoch (`through`); a counter document holds the highest epoch ever handed
out (`issued`), written before any event of that epoch is. At start-up:

- no snapshot: count every stored event (the old way, once);
- `issued == through` (the last process closed its epoch at shutdown): the snapshot is the count, nothing is read;
- `issued > through` (a crash, or a checkpoint cut short): the snapshot plus the events of epochs after `through`.

Then this process takes epoch `issued + 1` (stored first) and saves a snapshot through `issued` if it read anything.
A checkpoint (periodic, and at shutdown) opens the next epoch, waits for the writes of the closing one to end, and
saves its counts. At shutdown no next epoch is opened: a record after the final checkpoint is refused, so its message
is not acknowledged and the next process records and counts it. One reporting process per database (the tally is
per process, as before)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.mongo import Document
from opsdesk_shared.snapshot import Snapshots

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
        self.snapshots = snapshots
        self.drain_timeout_s = drain_timeout_s
        self.epoch: int | None = None
        self.closed = False
        self.loaded_from = ""
        self._base: Counter[str] = Counter()
        self._by_epoch: dict[int, Counter[str]] = {}
        self._inflight: dict[int, int] = {}
        self._checkpointing = asyncio.Lock()

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

    async def start_up(self) -> None:
        snap = await self.snapshots.load(SNAPSHOT)
        issued = await self._issued()
        through = snap.through.get("epoch") if snap is not None and isinstance(snap.through, dict) else None
        if snap is None or not isinstance(through, int) or not isinstance(snap.payload, list) or through > issued:
            counts, self.loaded_from = await self._count(None), "full recount"
        else:
            counts = Counter({str(k): int(n) for k, n in snap.payload})
            if issued > through:
                counts.update(await self._count({"e": {"$gt": through}}))
                self.loaded_from = f"snapshot + epochs {through + 1}..{issued}"
            else:
                self.loaded_from = "snapshot"
        mine = issued + 1
        await self._issue(mine)
        if self.loaded_from != "snapshot":
            await self.snapshots.save(SNAPSHOT, through={"epoch": issued}, payload=sorted(counts.items()))
        self._base, self.epoch = counts, mine
        self._by_epoch, self._inflight = {mine: Counter()}, {mine: 0}

    async def record(self, envelope: Envelope, keys: list[str]) -> bool:
        epoch = self.epoch
        if epoch is None:
            raise TallyClosed("the tally's final checkpoint was taken" if self.closed else "the tally is not loaded")
        self._inflight[epoch] += 1
        try:
            doc = {
                "_id": str(envelope.event_id), "type": envelope.type, "version": envelope.version,
                "occurred_at": envelope.occurred_at, "subject_id": envelope.subject_id, "producer": envelope.producer,
                "data": envelope.data, "keys": keys, "e": epoch,
            }
            try:
                await self._db["events"].insert_one(doc)
            except DuplicateKeyError:
                return False
            self._by_epoch[epoch].update(keys)
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
            await self.snapshots.save(SNAPSHOT, through={"epoch": closing}, payload=sorted(counts.items()))
            self._base = counts
            for epoch in [e for e in self._by_epoch if e <= closing]:
                del self._by_epoch[epoch]
                self._inflight.pop(epoch, None)
            return True

