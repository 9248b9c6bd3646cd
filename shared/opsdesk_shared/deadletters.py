"""Dead letters an operator can act on: counted, readable by id, and replayed after a fix.

Where they come from: `bus.subscribe_events` republishes a message no handler could take as `deadletter.<subject>`
on the durable stream OPSDESK_DEADLETTER (a `DeadLetter` record). Here:

- `opsdesk_dead_letters_total{service,subject,reason}` counts them (the alert rule in deploy/prometheus fires on
  any increase);
- `DeadLetterReader` reads the stream by sequence, the sequence being the dead letter's id (the gateway's admin API
  at /api/v1/admin/dead-letters, and `python -m opsdesk_devstack.dead_letters` over it);
- a replay sends the original message to `replay.<service>.<durable>` on the stream OPSDESK_REPLAY; every service
  pulls its own replays through one durable (`<service>-replay`) and hands each to the very consumer that gave up
  on it, with the same validation, retries and dead-lettering. Other consumers of the subject see nothing again,
  and no service ever publishes a subject it does not own. The replay's Nats-Msg-Id is `replay:<id>`, so JetStream
  drops a second send inside its duplicate window; the gateway also remembers each replay (idempotent for ever).

The consume functions are read off FastStream's subscribers (`consumers`), so that bus.py needs no change; a
registry filled by `subscribe_events` itself would be sturdier across FastStream upgrades (test_dead_letter_replay
fails if the introspection breaks).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import ConsumerConfig, StorageType
from nats.js.errors import BadRequestError, NotFoundError
from prometheus_client import Counter
from prometheus_client.core import CounterMetricFamily

from .bus_permissions import (
    DEADLETTER_STREAM,
    EVENTS_STREAM,
    REPLAY_PREFIX,
    REPLAY_STREAM,
    ROLES,
    replay_durable,
    replay_subject,
)
from .contracts import DeadLetter, subjects
from .observability import SHARED_REGISTRY, events_handled

log = logging.getLogger(__name__)


class _DeadLetterCounts:
    """`opsdesk_dead_letters_total{service,subject,reason}`: the dead letters every service published, read off the
    shared `events_handled_seconds` histogram (a handled message's outcome is `failed` or `invalid` exactly when it
    was dead-lettered), so the count lives where the outcome is decided and cannot drift from it."""

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "opsdesk_dead_letters", "Messages a consumer gave up on and dead-lettered, by service, subject and reason",
            labels=["service", "subject", "reason"],
        )
        for metric in events_handled.collect():
            for sample in metric.samples:
                if sample.name.endswith("_count") and sample.labels.get("outcome") in DEAD_OUTCOMES:
                    labels = sample.labels
                    family.add_metric([labels["service"], labels["subject"], labels["outcome"]], sample.value)
        yield family


DEAD_OUTCOMES = ("failed", "invalid")
SHARED_REGISTRY.register(_DeadLetterCounts())
replays_total = Counter(
    "opsdesk_dead_letter_replays_total", "Dead letters handed back to their consumer after an operator's replay",
    ["service", "consumer", "outcome"], registry=SHARED_REGISTRY,
)
REPLAY_OF_HEADER = "Opsdesk-Replay-Of"
SUBJECT_HEADER = "Opsdesk-Original-Subject"
# Replay sequences start far above any event's, so that a replay that fails again is dead-lettered under a
# de-duplication id (`<durable>:<sequence>`, bus.py) no event of the same consumer can have had.
REPLAY_FIRST_SEQ = 1_000_000_000

Consume = Callable[[NatsMessage], Awaitable[None]]


def consumers(broker: NatsBroker) -> dict[str, Consume]:
    """Durable name -> the consume function `bus.subscribe_events` attached (validation, handler, retries,
    dead-lettering and metrics), read off the broker's subscribers."""
    found: dict[str, Consume] = {}
    for sub in broker.subscribers:
        options = getattr(sub, "extra_options", None) or {}
        durable = options.get("durable")
        if not durable or options.get("stream") != EVENTS_STREAM:
            continue
        for call in getattr(sub, "calls", ()):
            original = getattr(call.handler, "_original_call", None)
            if original is not None:
                found[str(durable)] = original
    return found


def replay_stream() -> JStream:
    stream = JStream(name=REPLAY_STREAM, subjects=[f"{REPLAY_PREFIX}.>"], storage=StorageType.FILE, duplicate_window=600.0)
    stream.config.first_seq = REPLAY_FIRST_SEQ
    return stream


async def declare_replay_stream(broker: NatsBroker) -> None:
    js = broker.config.connection_state.stream
    stream = replay_stream()
    stream.config.subjects = list(stream.subjects)
    try:
        await js.add_stream(config=stream.config)
    except BadRequestError:
        await js.update_stream(config=stream.config)


def subscribe_replays(broker: NatsBroker, *, service: str) -> None:
    """The service's one replay consumer: each message goes to the consumer named in its subject, through the same
    consume function as the original (so validation, retries and dead-lettering are the same)."""
    durable = replay_durable(service)
    handlers = consumers(broker)  # every subscribe_events of the wiring ran before this
    connection_kwargs = getattr(broker, "_connection_kwargs", {})
    prefix = connection_kwargs.get("inbox_prefix") or "_INBOX"
    pull_inbox = (prefix.decode() if isinstance(prefix, bytes) else str(prefix)).rstrip(".") + "."

    async def on_replay(msg: NatsMessage) -> None:
        target = msg.raw_message.subject.split(".", 2)[-1]
        consume = handlers.get(target)
        if consume is None:
            log.error("replay for a consumer this service does not have", extra={"fields": {"consumer": target}})
            replays_total.labels(service, target, "unknown_consumer").inc()
            await msg.ack()
            return
        await consume(msg)
        replays_total.labels(service, target, "handed_back").inc()

    on_replay.__name__ = "on_dead_letter_replay"
    broker.subscriber(
        f"{REPLAY_PREFIX}.{service}.>",
        stream=replay_stream(),
        durable=durable,
        pull_sub=PullSub(batch_size=8, timeout=1.0),
        config=ConsumerConfig(
            name=durable, durable_name=durable, ack_policy=JsAckPolicy.EXPLICIT, ack_wait=30.0, max_deliver=-1,
            filter_subject=f"{REPLAY_PREFIX}.{service}.>",
        ),
        ack_policy=AckPolicy.MANUAL,
        inbox_prefix=pull_inbox.encode(),
        include_in_schema=False,
    )(on_replay)


def service_of(consumer: str, subject: str) -> str | None:
    """Which service a durable belongs to (from the permissions table), for the replay subject."""
    for role in ROLES.values():
        if consumer == replay_durable(role.service) or any(c.durable == consumer for c in role.consumes):
            return role.service
    if subject.startswith(f"{REPLAY_PREFIX}."):
        return subject.split(".")[1]
    return None


@dataclass(frozen=True)
class StoredDeadLetter:
    """One dead letter as the stream keeps it; `id` is its stream sequence."""

    id: int
    stored_at: datetime
    record: DeadLetter

    @property
    def service(self) -> str | None:
        return service_of(self.record.consumer, self.record.subject)

    def summary(self) -> dict[str, Any]:
        r = self.record
        return {
            "id": self.id, "subject": r.subject, "consumer": r.consumer, "service": self.service, "reason": r.reason,
            "error": r.error[:300], "deliveries": r.deliveries, "failed_at": r.failed_at, "stored_at": self.stored_at,
            "correlation_id": r.headers.get("correlation_id"),
        }


class DeadLetterReader:
    """Reads OPSDESK_DEADLETTER by sequence (STREAM.MSG.GET) and sends replays; needs the operator's bus rights."""

    def __init__(self, broker: NatsBroker) -> None:
        self._broker = broker

    def _js(self) -> Any:
        return self._broker.config.connection_state.stream

    async def get(self, dead_letter_id: int) -> StoredDeadLetter | None:
        try:
            raw = await self._js().get_msg(DEADLETTER_STREAM, seq=dead_letter_id)
        except NotFoundError:
            return None
        return _parse(raw)

    async def scan(self, *, after: int = 0, limit: int = 50, max_scanned: int = 2000,
                   keep: Callable[[StoredDeadLetter], bool] = lambda _d: True) -> tuple[list[StoredDeadLetter], int | None]:
        """Dead letters with id > `after` that `keep` accepts, oldest first; and the cursor to continue from (None at
        the end). At most `max_scanned` records are read per call, so a narrow filter answers in bounded time."""
        found: list[StoredDeadLetter] = []
        seq, scanned = after + 1, 0
        while len(found) < limit and scanned < max_scanned:
            try:
                raw = await self._js().get_msg(DEADLETTER_STREAM, seq=seq, subject=f"{subjects.DEADLETTER_PREFIX}.>", next=True)
            except NotFoundError:
                return found, None
            scanned += 1
            item = _parse(raw)
            seq = (item.id if item else int(raw.seq or seq)) + 1
            if item is not None and keep(item):
                found.append(item)
        return found, seq - 1

    async def replay(self, item: StoredDeadLetter) -> str:
        """Send the dead message back to its consumer; returns the replay subject."""
        service = item.service
        if service is None:
            raise LookupError(f"no service owns consumer {item.record.consumer!r}")
        target = item.record.consumer
        subject = replay_subject(service, target)
        headers = {k: v for k, v in item.record.headers.items() if not k.lower().startswith("nats-")}
        headers.update({"Nats-Msg-Id": f"replay:{item.id}", REPLAY_OF_HEADER: str(item.id), SUBJECT_HEADER: item.record.subject})
        await self._broker.publish(
            item.record.payload.encode(), subject=subject, stream=REPLAY_STREAM, headers=headers,
            correlation_id=item.record.headers.get("correlation_id"), timeout=5.0,
        )
        return subject


def _parse(raw: Any) -> StoredDeadLetter | None:
    data = raw.data
    if isinstance(data, str):
        data = base64.b64decode(data)
    try:
        record = DeadLetter.model_validate(json.loads(data))
    except ValueError:
        log.warning("unreadable dead-letter record", extra={"fields": {"seq": raw.seq}})
        return None
    stored_at = getattr(raw, "time", None) or record.failed_at
    if isinstance(stored_at, str):
        stored_at = datetime.fromisoformat(stored_at.replace("Z", "+00:00"))
    return StoredDeadLetter(id=int(raw.seq), stored_at=stored_at, record=record)


async def bind_replays(broker: NatsBroker, *, service: str) -> None:
    """At start-up, before the broker starts: declare the replay stream and subscribe this service's replays."""
    await declare_replay_stream(broker)
    subscribe_replays(broker, service=service)
