"""Keeping this replica's search index (search_store.py) in step with the tickets: at start, catch up from the events
stream where the index file left off; then follow the stream; now and then, reconcile with the database.

Start (`IndexFeed.start`), before the gateway says it is ready:
- the file is complete and its position is in the stream (same stream, by its creation time; the next sequence not
  yet dropped from it): follow the stream from that position + 1, and be ready once every ticket event stored
  before now is applied. A restart at 100,000 tickets is then a file open plus the tail (bench/intake_search.py);
- otherwise (no file, another schema version, a build a crash cut short, a stream made anew or one that dropped
  events the file never saw): note the stream's last sequence, build the file from the database in batches, then
  follow from that sequence + 1 (a ticket changed during the build is heard again; versions are compared).

Following: an ordered, ephemeral JetStream push consumer on `ticket.>` (as the live feed, live/nats.py; never a
core subscription, which would also hear the JetStream publish requests, issue 14 defect 5). nats-py re-creates it
from the next sequence after a gap or a reconnect, so a disconnect loses nothing. Each event of another replica
(or of another service, e.g. dispatch's ticket.assigned) re-reads its ticket into the index (from the database, or
as this process stored or read it after the event arrived: MongoTicketStore.recent)
(versions compared: a late read never overwrites a newer row, issue 14 defect 2); events are applied in batches,
each ticket read once per batch, and the file records the sequence of the batch's last event after applying it.
A database error holds the batch and retries it: nothing is skipped.

A change this process stores with no event of its own (knowledge's suggestions) is marked in the file before the
database write and cleared after the row is written; a start re-reads, by id, every ticket a crash left marked (the
fault campaign's run 8 found a row a version behind). A full reconciliation at start would scan every ticket.

Reconciliation (`reconcile`, every INTAKE_INDEX_RELOAD_S): scan the database and re-read into the index every
ticket whose version differs from the row's, healing a change no ticket event announced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from opsdesk_shared.bus import EVENTS_STREAM
from opsdesk_shared.contracts import Envelope

from .ports import TicketStore
from .search import TicketIndex

log = logging.getLogger(__name__)

TICKET_EVENTS = "ticket.>"
BUILD_BATCH = 1000


async def build(index: TicketIndex, store: TicketStore) -> int:
    """Fill the index from the database in batches (one transaction each); the file is marked complete at the end,
    so a crash in the middle makes the next start build again."""
    index.mark_complete(False)
    index.clear()
    index.drop_indexes()
    loaded = 0
    batch: list[Any] = []

    def flush() -> None:
        with index.batch():
            for ticket in batch:
                index.upsert(ticket)

    async for ticket in store.scan():
        batch.append(ticket)
        if len(batch) >= BUILD_BATCH:
            flush()
            loaded += len(batch)
            batch.clear()
            await asyncio.sleep(0)
    flush()
    loaded += len(batch)
    index.create_indexes()
    index.optimize()
    index.mark_complete()
    return loaded


async def reconcile(index: TicketIndex, store: TicketStore) -> int:
    """Re-read every ticket whose stored version differs from the index's row; returns how many were written."""
    written = 0
    seen = 0
    async for ticket in store.scan():
        if index.version_of(ticket.id) != ticket.version and index.upsert(ticket):
            written += 1
        seen += 1
        if seen % BUILD_BATCH == 0:
            await asyncio.sleep(0)
    return written


async def reread_marked(index: TicketIndex, store: TicketStore) -> int:
    """Read again, by id, every ticket a crash left marked between a quiet change's database write and its row."""
    marked = index.dirty()
    for ticket_id in marked:
        ticket = await store.get(ticket_id)
        if ticket is None:
            index.remove(ticket_id)
        else:
            index.upsert(ticket)
        index.clear_dirty(ticket_id)
    return len(marked)


@dataclass
class StartReport:
    """How the index came to be ready: built (how many tickets) or caught up (how many events), and the seconds."""

    built: int | None = None
    caught_up: int = 0
    reread: int = 0  # tickets a crash left marked, read again by id
    from_sequence: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


class IndexFeed:
    def __init__(self, broker: NatsBroker, *, index: TicketIndex, store: TicketStore, batch: int = 256,
                 reads: int = 16, retry_s: float = 0.5) -> None:
        self._broker = broker
        self._index = index
        self._store = store
        self._batch = batch
        self._reads = asyncio.Semaphore(reads)
        self._retry_s = retry_s
        # (stream sequence, the event or None, loop time it arrived)
        self._queue: asyncio.Queue[tuple[int, Envelope | None, float]] = asyncio.Queue()
        self._sub: Any = None
        self._worker: asyncio.Task[None] | None = None
        self._stream = ""
        self.applied = 0
        self.events = 0
        # The sequence after which nothing was pending when it was delivered: caught up once it is applied.
        self._last_pending_zero: int | None = None
        self._changed = asyncio.Event()
        self._target = 0

    async def start(self, *, timeout_s: float = 120.0) -> StartReport:
        began = time.perf_counter()
        report = StartReport()
        js = self._broker.config.connection_state.stream
        info = await js.stream_info(EVENTS_STREAM)
        stream = info.created.isoformat() if info.created is not None else ""
        first, last = int(info.state.first_seq), int(info.state.last_seq)
        kept_stream, seq = self._index.stream_position()
        usable = self._index.complete and kept_stream == stream and seq <= last and (seq + 1 >= first or seq >= last)
        if not usable:
            why = ("no complete index" if not self._index.complete else "another stream" if kept_stream != stream
                   else "the stream dropped events this index never saw" if seq + 1 < first else "the stream is behind the index")
            log.info("building the search index from the database", extra={"fields": {"reason": why}})
            built_at = time.perf_counter()
            report.built = await build(self._index, self._store)
            report.seconds["build"] = round(time.perf_counter() - built_at, 3)
            seq = last
            self._index.set_stream_position(stream, seq)
        self._stream = stream
        self.applied = seq
        report.from_sequence = seq
        self._worker = asyncio.create_task(self._work(), name="index-feed")
        caught_up_at = time.perf_counter()
        # The consumer is made here, as nats-py's subscribe would make an ordered one, to read how many ticket events
        # it has to deliver (its creation answer); intake's user may create such consumers, not ask about them later.
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=seq + 1, filter_subject=TICKET_EVENTS,
            inactive_threshold=30.0, deliver_subject=self._broker.config.connection_state.connection.new_inbox(),
            flow_control=True, ack_policy=AckPolicy.NONE, max_deliver=1, ack_wait=22 * 3600, idle_heartbeat=5.0,
            num_replicas=1, mem_storage=True,
        )
        created = await js.add_consumer(EVENTS_STREAM, config=config)
        self._target = int(created.num_pending or 0)  # every ticket event stored before now
        self._sub = await js.subscribe_bind(
            stream=EVENTS_STREAM, config=config, consumer=created.name, cb=self._on_message, ordered_consumer=True,
        )
        if self._target > 0:
            try:
                await asyncio.wait_for(self._caught_up(), timeout=timeout_s)
            except TimeoutError:
                log.warning("search index still catching up after the start-up wait", extra={"fields": {
                    "applied": self.applied, "timeout_s": timeout_s}})
        report.reread = await reread_marked(self._index, self._store)
        report.caught_up = self.events
        report.seconds["catch_up"] = round(time.perf_counter() - caught_up_at, 3)
        report.seconds["total"] = round(time.perf_counter() - began, 3)
        return report

    async def _caught_up(self) -> None:
        while self.events < self._target and (self._last_pending_zero is None or self.applied < self._last_pending_zero):
            self._changed.clear()
            await self._changed.wait()

    async def _on_message(self, msg: Msg) -> None:
        seq = int(msg.metadata.sequence.stream)
        try:
            envelope: Envelope | None = Envelope.model_validate_json(msg.data)
        except ValueError:
            envelope = None  # not an Opsdesk event (the consumers dead-letter it): nothing to read
        if int(msg.metadata.num_pending or 0) == 0:
            self._last_pending_zero = seq
        self._queue.put_nowait((seq, envelope, asyncio.get_running_loop().time()))

    async def _work(self) -> None:
        while True:
            items = [await self._queue.get()]
            while len(items) < self._batch and not self._queue.empty():
                items.append(self._queue.get_nowait())
            delay = self._retry_s
            while True:
                try:
                    await self._apply([(envelope, arrived) for _, envelope, arrived in items if envelope is not None])
                    break
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.warning("search index: re-reading tickets failed; retrying", exc_info=True)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 10.0)
            self.applied = max(self.applied, items[-1][0])
            self.events += len(items)
            self._index.set_stream_position(self._stream, self.applied)
            self._changed.set()

    async def _apply(self, envelopes: list[tuple[Envelope, float]]) -> None:
        wanted: dict[str, float] = {}  # each ticket as current as its latest event here arrived
        for envelope, arrived in envelopes:
            if self._index.is_local(str(envelope.event_id)):
                continue  # this replica wrote it and indexed it then
            ticket_id = envelope.subject_id or envelope.data.get("ticket_id")
            if not ticket_id:
                continue
            engineer = envelope.data.get("engineer_id")
            if engineer and self._index.assignee_of(str(ticket_id)) == engineer:
                continue  # an assignment this replica has shown already (it consumed the event itself)
            wanted[str(ticket_id)] = max(arrived, wanted.get(str(ticket_id), arrived))

        async def read(ticket_id: str, since: float) -> Any:
            async with self._reads:
                # The store answers from what this process wrote or read since the event arrived (the live stream
                # reads the same ticket for the same event), else reads it (issue 17).
                return await self._store.recent(ticket_id, since=since)

        tickets = await asyncio.gather(*(read(ticket_id, since) for ticket_id, since in wanted.items()))
        with self._index.batch():
            for ticket_id, ticket in zip(wanted, tickets, strict=True):
                if ticket is None:
                    self._index.remove(ticket_id)
                else:
                    self._index.upsert(ticket)

    async def stop(self) -> None:
        sub, self._sub = self._sub, None
        if sub is not None:
            try:
                await sub.unsubscribe()
            except Exception:
                log.debug("index feed unsubscribe failed", exc_info=True)
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
