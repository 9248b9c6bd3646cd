"""JetStream plumbing shared by every service: streams, the event publisher, and durable, dead-lettering consumers."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage
from faststream.security import SASLPlaintext
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import ConsumerConfig, StorageType
from nats.js.errors import BadRequestError
from pydantic import ValidationError

from .bus_permissions import inbox_prefix
from .contracts import DeadLetter, Envelope, EventData, UnknownEvent, payload_model, subjects, utcnow
from .errors import OUTAGE_ERRORS, Contention, OutcomeUnknown, Unavailable, note_outage
from .logs import correlation_id
from .observability import events_handled

log = logging.getLogger(__name__)

EVENTS_STREAM = "OPSDESK_EVENTS"
DEADLETTER_STREAM = "OPSDESK_DEADLETTER"
# Persisted subject families. Core request/reply subjects (asset.lookup, calendar.query, timers.query, rpc.>) must
# stay out of every stream, or JetStream would answer the request with its publish ack.
EVENT_SUBJECTS = [
    "ticket.>", "sla.>", "repair.>", "assignment.>", "escalation.>", "kb.>", "problem.>", "cmdb.>", "report.>",
    "security.>", "replacement.>",
]

# JetStream drops a second publish with the same Nats-Msg-Id inside this window (seconds).
DUPLICATE_WINDOW_S = 600.0


def events_stream() -> JStream:
    return JStream(
        name=EVENTS_STREAM,
        subjects=EVENT_SUBJECTS,
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_S,
    )


def deadletter_stream() -> JStream:
    return JStream(
        name=DEADLETTER_STREAM,
        subjects=[f"{subjects.DEADLETTER_PREFIX}.>"],
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_S,
    )


def make_broker(nats_url: str, *, name: str, user: str = "", password: str = "") -> NatsBroker:
    """A broker that is not connected yet; the service lifespan starts it.

    With a user, it signs in as that user (see bus_permissions) and takes replies under the user's own inbox prefix,
    the only inbox its permissions let it read."""
    if not user:
        return NatsBroker(nats_url, name=name, connect_timeout=3, max_reconnect_attempts=-1, logger=None)
    return NatsBroker(
        nats_url, name=name, connect_timeout=3, max_reconnect_attempts=-1, logger=None,
        security=SASLPlaintext(username=user, password=password), inbox_prefix=inbox_prefix(user),
    )


class JetStreamPublisher:
    """Publishes contract events and waits for JetStream's ack; the event id doubles as the de-duplication id."""

    def __init__(self, broker: NatsBroker) -> None:
        self._broker = broker

    async def publish(self, envelope: Envelope) -> None:
        await self._broker.publish(
            envelope.to_wire(),
            subject=envelope.type,
            stream=EVENTS_STREAM,
            headers={"Nats-Msg-Id": str(envelope.event_id), "content-type": "application/json"},
            correlation_id=envelope.correlation_id,
            timeout=5.0,
        )


EventHandler = Callable[[Envelope, Any], Awaitable[None]]


def _original_correlation_id(msg: NatsMessage) -> str | None:
    """The dead message's correlation id: its header (set by JetStreamPublisher), else its envelope body, else none."""
    header = (msg.raw_message.headers or {}).get("correlation_id")
    if header:
        return str(header)
    try:
        body = json.loads(msg.body)
    except ValueError:
        return None
    found = body.get("correlation_id") if isinstance(body, dict) else None
    return found if isinstance(found, str) and found else None


def _retry_delay(deliveries: int) -> float:
    return min(0.2 * 2.0 ** (deliveries - 1), 10.0)


# Failures that say nothing about the message: its handler met a database or bus outage, or lost a race. They are
# retried with back-off for as long as they last and never count towards `max_deliver` (issue 14, defect 1: 280
# healthy ticket.created dead-lettered after five lost races on one problem candidate).
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (*OUTAGE_ERRORS, Contention, OutcomeUnknown, Unavailable)
# A transient failure waits at most this long between tries; with jitter, so racers do not meet again in step.
TRANSIENT_DELAY_CAP_S = 5.0


def _transient_delay(deliveries: int) -> float:
    return random.uniform(0.5, 1.0) * min(0.1 * 2.0 ** min(deliveries - 1, 10), TRANSIENT_DELAY_CAP_S)


def is_transient(exc: BaseException) -> bool:
    """A transient failure, or one raised expressly because of one (`raise ... from` an outage)."""
    seen: BaseException | None = exc
    for _ in range(3):
        if seen is None:
            return False
        if isinstance(seen, TRANSIENT_ERRORS):
            return True
        seen = seen.__cause__
    return False


class KeyedLocks:
    """One asyncio lock per key, made on first use and dropped when nobody holds or waits for it.

    `hold(keys)` takes the locks of several keys in sorted order, so two holders of overlapping key sets cannot
    deadlock. What it serialises is this process's handlers only; across replicas the stores' own atomic updates
    (or optimistic concurrency, retried as Contention) keep documents right."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def lock(self, key: str) -> asyncio.Lock:
        found = self._locks.get(key)
        if found is None:
            found = asyncio.Lock()
            self._locks[key] = found
        return found

    @asynccontextmanager
    async def hold(self, keys: Sequence[str]) -> AsyncIterator[None]:
        locks = [self.lock(k) for k in sorted(set(keys))]  # strong references while held or waited for
        async with AsyncExitStack() as stack:
            for held in locks:
                await stack.enter_async_context(held)
            yield


def subscribe_events(
    broker: NatsBroker,
    *,
    subject: str,
    durable: str,
    handler: EventHandler,
    max_deliver: int,
    ack_wait_s: float = 30.0,
    on_dead_letter: Callable[[str, str], None] | None = None,
    description: str | None = None,
) -> None:
    """Attach an idempotent handler to a durable pull consumer.

    The envelope and its payload are validated here; a payload that can never be valid is dead-lettered at once,
    a handler that keeps raising is retried with back-off and dead-lettered after `max_deliver` attempts.
    The server-side max_deliver stays unlimited, so a crashed process never makes JetStream drop a message.
    A transient failure (TRANSIENT_ERRORS: an outage, a lost race) is retried as long as it lasts and never
    dead-letters. A pulled batch runs up to 32 handlers at once: a handler whose messages change one record
    serialises that part with KeyedLocks, or merges its change atomically, rather than losing races.
    """

    async def dead_letter(msg: NatsMessage, *, reason: str, error: str, deliveries: int) -> None:
        record = DeadLetter(
            subject=msg.raw_message.subject,
            consumer=durable,
            reason=reason,
            error=error[:4000],
            deliveries=deliveries,
            failed_at=utcnow(),
            payload=msg.body.decode("utf-8", errors="replace"),
            headers={k: str(v) for k, v in (msg.headers or {}).items()},
        )
        msg_id = f"{durable}:{msg.raw_message.metadata.sequence.stream}"
        await broker.publish(
            record.model_dump_json().encode(),
            subject=subjects.deadletter_subject(msg.raw_message.subject),
            stream=DEADLETTER_STREAM,
            headers={"Nats-Msg-Id": msg_id, "content-type": "application/json"},
            # The flow's id, as on the original's `correlation_id` header; without it FastStream would invent one.
            correlation_id=_original_correlation_id(msg),
            timeout=5.0,
        )
        if on_dead_letter is not None:
            on_dead_letter(msg.raw_message.subject, reason)
        log.error("message dead-lettered", extra={"fields": {"subject": msg.raw_message.subject, "reason": reason, "error": error[:500]}})

    connection_kwargs = getattr(broker, "_connection_kwargs", {})
    service = str(connection_kwargs.get("name") or "")
    # Pulled batches arrive on an inbox of the subscriber's own; it must be under the user's prefix (make_broker).
    prefix = connection_kwargs.get("inbox_prefix") or "_INBOX"
    pull_inbox = (prefix.decode() if isinstance(prefix, bytes) else str(prefix)).rstrip(".") + "."

    async def consume(msg: NatsMessage) -> None:
        started = time.perf_counter()
        outcome = await handle(msg)
        events_handled.labels(service, msg.raw_message.subject, outcome).observe(time.perf_counter() - started)

    async def handle(msg: NatsMessage) -> str:
        deliveries = msg.raw_message.metadata.num_delivered
        try:
            envelope = Envelope.model_validate_json(msg.body)
            data: EventData = payload_model(envelope.type, envelope.version).model_validate(envelope.data)
        except (ValidationError, UnknownEvent, ValueError) as exc:
            try:
                await dead_letter(msg, reason="invalid", error=str(exc), deliveries=deliveries)
            except Exception:
                log.exception("dead-letter publish failed; message will be redelivered")
                await msg.nack(delay=_retry_delay(deliveries))
                return "retry"
            await msg.ack()
            return "invalid"

        token = correlation_id.set(envelope.correlation_id)
        try:
            await handler(envelope, data)
        except Exception as exc:
            if is_transient(exc):
                if not isinstance(exc, Contention):
                    note_outage()  # the relays sweep once more: this handler's write may have landed unsent
                log.warning("handler met a transient failure; retrying", extra={"fields": {
                    "subject": envelope.type, "deliveries": deliveries, "error": f"{type(exc).__name__}: {exc}"[:300],
                }})
                await msg.nack(delay=_transient_delay(deliveries))
                return "retry"
            log.exception("handler failed", extra={"fields": {"subject": envelope.type, "deliveries": deliveries}})
            if deliveries >= max_deliver:
                try:
                    await dead_letter(msg, reason="failed", error=f"{type(exc).__name__}: {exc}", deliveries=deliveries)
                except Exception:
                    log.exception("dead-letter publish failed; message will be redelivered")
                    await msg.nack(delay=_retry_delay(deliveries))
                    return "retry"
                await msg.ack()
                return "failed"
            await msg.nack(delay=_retry_delay(deliveries))
            return "retry"
        finally:
            correlation_id.reset(token)
        await msg.ack()
        return "ok"

    consume.__name__ = f"on_{subject.replace('.', '_')}"
    broker.subscriber(
        subject,
        stream=events_stream(),
        durable=durable,
        pull_sub=PullSub(batch_size=32, timeout=1.0),
        config=ConsumerConfig(
            # Named as well as durable: the client then creates it on `$JS.API.CONSUMER.CREATE.<stream>.<name>.<filter>`,
            # a subject the server checks against the service's permissions (durable and filter both).
            name=durable,
            durable_name=durable,
            ack_policy=JsAckPolicy.EXPLICIT,
            ack_wait=ack_wait_s,
            max_deliver=-1,
            filter_subject=subject,
        ),
        ack_policy=AckPolicy.MANUAL,
        inbox_prefix=pull_inbox.encode(),
        description=description,
        include_in_schema=False,
    )(consume)


ViewHandler = Callable[[Envelope], Awaitable[None]]


def subscribe_view(broker: NatsBroker, *, subject: str, handler: ViewHandler, name: str | None = None) -> None:
    """A plain core subscription that keeps a per-process view in step with events (every replica hears every
    event; nothing is persisted for it, so what a disconnect loses the view's periodic reload heals).

    It never answers. A JetStream publish reaches every core subscriber of its subject too, carrying the publisher's
    ack inbox as its reply subject; a subscriber that answered it would race the stream's real acknowledgement with
    an empty message, and the publish would fail on it (issue 14, defect 5: about 1,200 empty replies to 3,000
    publishes). Core request/reply handlers (RPC) are the only subscribers that answer, and their subjects are in
    no stream (EVENT_SUBJECTS). Bodies that are not envelopes are ignored."""

    async def on_event(msg: NatsMessage) -> None:
        try:
            envelope = Envelope.model_validate_json(msg.body)
        except ValueError:
            return
        await handler(envelope)

    on_event.__name__ = name or f"view_{subject.replace('.', '_').replace('>', 'all').replace('*', 'any')}"
    broker.subscriber(subject, no_reply=True, include_in_schema=False)(on_event)


async def declare_streams(broker: NatsBroker) -> None:
    """Create or update both streams; publishers need them even before any subscriber exists."""
    js = broker.config.connection_state.stream
    for stream in (events_stream(), deadletter_stream()):
        # FastStream keeps a JStream's subjects beside its config; the server needs them inside it.
        stream.config.subjects = list(stream.subjects)
        try:
            await js.add_stream(config=stream.config)
        except BadRequestError:
            await js.update_stream(config=stream.config)
