"""The live hub's feed: an ordered, ephemeral JetStream push consumer on the events stream.

Not a core subscription: a core subscriber on `ticket.>` also receives the JetStream publish requests of those
subjects (their reply subject is the publisher's ack inbox), and must never answer them (issue 14, defect 5). An
ordered consumer reads what the stream stored, in order, each message with its stream sequence (the stream's ids);
it acks nothing (ack policy none) and, after a gap or a reconnect, nats-py re-creates it from the next sequence, so
the ring has no holes. It starts after the stream's last message at start-up: earlier events are not in this
process's ring (a client resuming from before then is told to reload).

Permissions (bus_permissions, `follows`): create unnamed consumers on the events stream and answer its flow control.
"""

from __future__ import annotations

import logging

from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy

from opsdesk_shared.bus import EVENTS_STREAM
from opsdesk_shared.contracts import Envelope

from .domain import FOLLOWED_SUBJECTS
from .hub import LiveHub

log = logging.getLogger(__name__)


class JetStreamFeed:
    def __init__(self, broker: NatsBroker, hub: LiveHub) -> None:
        self._broker = broker
        self._hub = hub
        self._sub: object | None = None

    async def start(self) -> None:
        js = self._broker.config.connection_state.stream
        info = await js.stream_info(EVENTS_STREAM)
        last = int(info.state.last_seq)
        self._hub.begin_at(last)
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=last + 1, filter_subjects=list(FOLLOWED_SUBJECTS),
            inactive_threshold=30.0,
        )
        self._sub = await js.subscribe(
            FOLLOWED_SUBJECTS[0], stream=EVENTS_STREAM, cb=self._on_message, ordered_consumer=True, config=config,
            idle_heartbeat=5.0,
        )
        log.info("live event feed started", extra={"fields": {"after_sequence": last}})

    async def _on_message(self, msg: Msg) -> None:
        try:
            seq = int(msg.metadata.sequence.stream)
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
