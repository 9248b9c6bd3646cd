"""Read the event stream from a sequence number (rebuilding the projection), and ask knowledge for articles."""

from __future__ import annotations

from collections.abc import AsyncIterator

from faststream.nats import NatsBroker
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from opsdesk_shared.bus import EVENT_SUBJECTS, EVENTS_STREAM
from opsdesk_shared.contracts import Envelope, subjects
from opsdesk_shared.contracts.knowledge import ArticlesQuery, ArticlesReply

from ..ports import ArticlesUnavailable


class StreamSource:
    """An ephemeral pull consumer over every subject of OPSDESK_EVENTS, starting at a sequence; no acks needed."""

    def __init__(self, broker: NatsBroker, *, batch: int = 256) -> None:
        self._broker = broker
        self._batch = batch

    async def last_sequence(self) -> int:
        js = self._broker.config.connection_state.stream
        info = await js.stream_info(EVENTS_STREAM)
        return int(info.state.last_seq)

    async def replay(self, *, after: int, upto: int) -> AsyncIterator[tuple[int, Envelope]]:
        if upto <= after:
            return
        js = self._broker.config.connection_state.stream
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=after + 1, ack_policy=AckPolicy.NONE,
            filter_subjects=list(EVENT_SUBJECTS), inactive_threshold=60.0, max_waiting=1,
        )
        sub = await js.pull_subscribe_bind(consumer=(await js.add_consumer(EVENTS_STREAM, config=config)).name, stream=EVENTS_STREAM)
        try:
            while True:
                try:
                    msgs = await sub.fetch(self._batch, timeout=2.0)
                except NatsTimeout:
                    return
                for msg in msgs:
                    seq = int(msg.metadata.sequence.stream)
                    if seq > upto:
                        return
                    try:
                        envelope = Envelope.model_validate_json(msg.data)
                    except ValueError:
                        continue  # an invalid message was dead-lettered live; the rebuild skips it the same way
                    yield seq, envelope
                    if seq >= upto:
                        return
        finally:
            await sub.unsubscribe()


class NatsArticleSource:
    """rpc.kb.articles on core NATS request/reply: knowledge answers with the published articles asked for."""

    def __init__(self, broker: NatsBroker, *, timeout_s: float = 5.0) -> None:
        self._broker = broker
        self._timeout_s = timeout_s

    async def published(self, query: ArticlesQuery) -> ArticlesReply:
        try:
            reply = await self._broker.request(query.model_dump_json().encode(), subjects.RPC_KB_ARTICLES, timeout=self._timeout_s)
            return ArticlesReply.model_validate_json(reply.body)
        except Exception as exc:
            raise ArticlesUnavailable(f"knowledge did not answer: {type(exc).__name__}: {exc}"[:300]) from exc
