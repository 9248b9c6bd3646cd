"""The gateway's live hub: bus events in (from the NATS feed, in stream order), each read against its ticket once,
kept in the ring and handed to every open stream that may see it.

Per event the ticket is read once, whatever the number of listeners; a batch of events that arrived together is read
concurrently (one read per distinct ticket) and then published in order, so a burst does not queue behind
one database round trip per event. A listener that falls `queue_size` events behind is dropped with a reload
message: a stalled client never holds the gateway's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from opsdesk_shared.contracts import Envelope

from ..domain import Actor, Ticket
from .domain import Limiter, LiveEvent, Refusal, Resume, Ring, frame_for, live_event

log = logging.getLogger(__name__)
BATCH = 64
# Queued to a listener to end its stream.
END = b""


class TicketReader(Protocol):
    """ports.TicketStore's `recent` and `wrote`: the ticket as current as the events about it."""

    async def recent(self, ticket_id: str, *, since: float | None) -> Ticket | None: ...
    def wrote(self, event_id: str) -> bool: ...


@dataclass(eq=False)
class Listener:
    """One open stream: who listens, and the frames waiting to be written to them."""

    actor: Actor
    queue: asyncio.Queue[bytes]
    overflowed: bool = False
    last_seq: int = 0


@dataclass(frozen=True)
class Arrived:
    seq: int
    envelope: Envelope
    received: float  # loop time when the feed handed it over (for the latency metric)


def ticket_id_of(envelope: Envelope) -> str | None:
    named = envelope.data.get("ticket_id")
    if isinstance(named, str) and named:
        return named
    return envelope.subject_id if envelope.type.startswith("ticket.") and envelope.subject_id else None


@dataclass
class LiveHub:
    tickets: TicketReader
    ring: Ring
    limiter: Limiter
    queue_size: int = 256
    heartbeat_s: float = 15.0
    retry_ms: int = 3000
    # Called with each published event's seconds from arrival at the gateway to the listeners' queues.
    observe: Callable[[float], None] | None = None
    listeners: set[Listener] = field(default_factory=set)
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    _inbox: asyncio.Queue[Arrived] | None = None
    _worker: asyncio.Task[None] | None = None

    # --- in ---------------------------------------------------------------------------------------------------

    def begin_at(self, sequence: int) -> None:
        """The stream's last sequence when the feed started: every later followed event will arrive."""
        if not len(self.ring) and sequence > self.ring.floor:
            self.ring.floor = sequence

    async def settled(self) -> None:
        """Returns when every event handed over so far has been published (the start-up backfill is in the ring)."""
        while self._worker is not None and not self._worker.done():
            await asyncio.shield(self._worker)

    def accept(self, seq: int, envelope: Envelope) -> None:
        """Called by the feed for each message in stream order; returns at once (the worker does the reading)."""
        if self._inbox is None:
            self._inbox = asyncio.Queue()
        self._inbox.put_nowait(Arrived(seq, envelope, asyncio.get_running_loop().time()))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain(), name="live-hub")

    async def _drain(self) -> None:
        assert self._inbox is not None
        while not self._inbox.empty():
            batch = [self._inbox.get_nowait() for _ in range(min(BATCH, self._inbox.qsize()))]
            try:
                await self.publish_batch(batch)
            except Exception:  # one bad batch must not end the stream for everyone
                log.exception("live events could not be published", extra={"fields": {"first_seq": batch[0].seq}})

    async def publish_batch(self, batch: list[Arrived]) -> None:
        # Each ticket once per batch, as current as its latest event from elsewhere (another service or replica)
        # arrived; a ticket whose events this process wrote itself is as this process stored it (no read: issue 17).
        since: dict[str, float | None] = {}
        for a in batch:
            if tid := ticket_id_of(a.envelope):
                since.setdefault(tid, None)
                if not self.tickets.wrote(str(a.envelope.event_id)):
                    before = since[tid]
                    since[tid] = a.received if before is None else max(before, a.received)
        ids = list(since)
        found = await asyncio.gather(*(self._read(tid, since[tid]) for tid in ids))
        tickets = dict(zip(ids, found, strict=True))
        for arrived in batch:
            tid = ticket_id_of(arrived.envelope)
            event = live_event(
                seq=arrived.seq, subject=arrived.envelope.type, data=arrived.envelope.data,
                occurred_at=arrived.envelope.occurred_at, subject_id=arrived.envelope.subject_id,
                ticket=tickets.get(tid) if tid else None,
            )
            if event is not None:
                self.publish(event)
                if self.observe is not None:
                    self.observe(asyncio.get_running_loop().time() - arrived.received)

    async def _read(self, ticket_id: str, since: float | None) -> Ticket | None:
        try:
            return await self.tickets.recent(ticket_id, since=since)
        except Exception:
            # The desk still hears of the event (number and status unknown); requesters and engineers need the ticket.
            log.warning("ticket unreadable for the live stream", extra={"fields": {"ticket_id": ticket_id}}, exc_info=True)
            return None

    def publish(self, event: LiveEvent) -> None:
        """Keep the event and queue it for every listener allowed to see it."""
        if not self.ring.append(event):
            return
        for listener in list(self.listeners):
            if listener.overflowed:
                continue
            frame = frame_for(listener.actor, event)
            if frame is None:
                continue
            try:
                listener.queue.put_nowait(frame)
                listener.last_seq = event.seq
            except asyncio.QueueFull:
                listener.overflowed = True

    # --- out --------------------------------------------------------------------------------------------------

    def open(self, actor: Actor) -> Refusal | None:
        return self.limiter.acquire(actor.subject)

    def join(self, actor: Actor, last_event_id: str | None) -> tuple[Listener, Resume, int]:
        """Listen from now on; with what the client missed (filtered for it) and the position it resumes from.
        No await between reading the ring and joining, so nothing falls between the two."""
        listener = Listener(actor=actor, queue=asyncio.Queue(maxsize=self.queue_size))
        resume = self.ring.after(last_event_id)
        missed = tuple(e for e in resume.missed if frame_for(actor, e) is not None)
        self.listeners.add(listener)
        return listener, Resume(missed=missed, reload=resume.reload), self.ring.head

    def leave(self, listener: Listener) -> None:
        if listener in self.listeners:
            self.listeners.discard(listener)
            self.limiter.release(listener.actor.subject)

    def end_streams(self) -> None:
        """Ends every open stream now: the process is going down (a server waits for open responses to finish, and
        a stream never finishes by itself). Clients reconnect, to this process's successor or another replica."""
        self.closing.set()
        for listener in list(self.listeners):
            try:
                listener.queue.put_nowait(END)
            except asyncio.QueueFull:
                listener.overflowed = True

    async def stop(self) -> None:
        """Ends every open stream and the worker."""
        self.end_streams()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._worker

    def stats(self) -> dict[str, Any]:
        return {"listeners": len(self.listeners), "buffered": len(self.ring), "floor": self.ring.floor, "head": self.ring.head}

