"""The live hub's feed: an ordered, ephemeral JetStream push consumer on the events stream.

Not a core subscription: a core subscriber on `ticket.>` also receives the JetStream publish requests of those
subjects (their reply subject is the publisher's ack inbox), and must never answer them (issue 14, defect 5). An
ordered consumer reads what the stream stored, in order, each message with its stream sequence (the stream's ids);
it acks nothing (ack policy none) and, after a gap or a reconnect, nats-py re-creates it from the next sequence, so
the ring has no holes.

Start-up reads back the stream's last `backfill` messages before the gateway is ready (issue 15): event ids are
stream sequences, so a client that reconnects with Last-Event-ID after the gateway restarted (or to another replica)
gets what it missed from the new process's ring, read back from JetStream, instead of a reload. The backfilled
events are shown with their tickets as read now. An id older than the backfill is still answered with a reload
(`too_old`), never skipped.

Permissions (bus_permissions, `follows`): create unnamed consumers on the events stream and answer its flow control.
"""

from __future__ import annotations

import asyncio
import logging

from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy

from opsdesk_shared.bus import EVENTS_STREAM
from opsdesk_shared.contracts import Envelope

from .domain import FOLLOWED_SUBJECTS
from .hub import LiveHub

log = logging.getLogger(__name__)
# Start-up stops waiting for the backfill when no message came for this long (none of the rest is a followed event).
QUIET_S = 2.0


class JetStreamFeed:
    def __init__(self, broker: NatsBroker, hub: LiveHub, *, backfill: int = 0, backfill_wait_s: float = 20.0) -> None:
        self._broker = broker
        self._hub = hub
        self._backfill = backfill
        self._backfill_wait_s = backfill_wait_s
        self._sub: object | None = None
        self._tail = 0
        self._caught_up = asyncio.Event()
        self._last_arrival = 0.0

    async def start(self) -> None:
        js = self._broker.config.connection_state.stream
        info = await js.stream_info(EVENTS_STREAM)
        last, first = int(info.state.last_seq), int(info.state.first_seq)
        begin = max(first, last - self._backfill + 1, 1) if self._backfill and last else last + 1
        self._tail = last
        self._hub.begin_at(begin - 1)
        if begin > last:
            self._caught_up.set()
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=begin, filter_subjects=list(FOLLOWED_SUBJECTS),
            inactive_threshold=30.0,
        )
        self._last_arrival = asyncio.get_running_loop().time()
        self._sub = await js.subscribe(
            FOLLOWED_SUBJECTS[0], stream=EVENTS_STREAM, cb=self._on_message, ordered_consumer=True, config=config,
            idle_heartbeat=5.0,
        )
        caught_up = await self._catch_up()
        log.info("live event feed started", extra={"fields": {
            "from_sequence": begin, "stream_tail": last, "backfilled": len(self._hub.ring), "caught_up": caught_up}})

    async def _catch_up(self) -> bool:
        """Waits until the backfill up to the stream's tail at start-up is in the ring, then marks the ring as knowing
        everything up to that tail. False when it took longer than `backfill_wait_s` (ids not reached yet are answered
        with a reload)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._backfill_wait_s
        while not self._caught_up.is_set():
            if loop.time() >= deadline:
                return False
            try:
                await asyncio.wait_for(self._caught_up.wait(), timeout=0.2)
            except TimeoutError:
                # The server pushes what is pending at once: a quiet consumer has nothing left up to the tail.
                if loop.time() - self._last_arrival >= QUIET_S:
                    break
        await self._hub.settled()
        self._hub.ring.advance(self._tail)
        return True

    async def _on_message(self, msg: Msg) -> None:
        self._last_arrival = asyncio.get_running_loop().time()
        try:
            meta = msg.metadata
            seq = int(meta.sequence.stream)
            if not self._caught_up.is_set() and (seq >= self._tail or not meta.num_pending):
                self._caught_up.set()
            envelope = Envelope.model_validate_json(msg.data)
        except Exception:
            return  # not an Opsdesk event (the consumers dead-letter it); nothing to show
        self._hub.accept(seq, envelope)

    async def stop(self) -> None:
        sub, self._sub = self._sub, None
        if sub is not None:
            try:
                await sub.unsubscribe()  # type: ignore[attr-defined]
            except Exception:
                log.debug("live feed unsubscribe failed", exc_info=True)
