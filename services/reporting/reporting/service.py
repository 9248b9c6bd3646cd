"""Reporting use cases: count and project each event once, rebuild from the stream, and switch generations."""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opsdesk_shared.contracts import Envelope, EventData
from opsdesk_shared.errors import Contention

from . import domain, periods, projection
from .domain import Tally
from .ports import EventProjection, EventSource, ReadModels
from .projection import STATE, Effects

log = logging.getLogger(__name__)
CONTENTION_RETRIES = 5


async def project_event(envelope: Envelope, data: EventData, *, projection: EventProjection, tally: Tally) -> bool:
    """Record the event once and count it once, however often it is delivered."""
    keys = domain.counter_keys(envelope, data)
    if not keys:
        return False  # most events count towards no Prometheus counter: nothing to store for them
    # The live tally is added to where the store counts (even when a failure follows the count), not after
    # record() returns: a count followed by a failure is not counted again by the redelivery.
    return await projection.record(envelope, keys, counted=tally.add)


async def rebuild_tally(*, projection: EventProjection) -> Tally:
    """Recount from the projection, so an event stored just before a crash is still counted."""
    tally = Tally()
    for key, n in (await projection.counts()).items():
        tally.counts[key] = n
    return tally


@dataclass
class LiveState:
    """What the metrics show right now: the `state` bucket and each month's resolutions, mirrored in memory."""

    state: dict[str, dict[str, float]] = field(default_factory=dict)
    resolved: dict[str, dict[str, float]] = field(default_factory=dict)

    def add(self, fx: Effects) -> None:
        for path, n in fx.incs.get(STATE, {}).items():
            group, _, key = path.partition(".")
            bucket = self.state.setdefault(group, {})
            bucket[projection.dec(key)] = bucket.get(projection.dec(key), 0) + n
        for bucket_id, fields in fx.incs.items():
            if bucket_id.startswith("m:") and bucket_id.count(":") == 1:
                for name in ("resolved.total", "resolved.desk"):
                    if name in fields:
                        month = self.resolved.setdefault(bucket_id[2:], {})
                        month[name] = month.get(name, 0) + fields[name]

    def desk_share(self, now: datetime) -> float | None:
        month = self.resolved.get(periods.month_key(now), {})
        total = month.get("resolved.total", 0)
        return month.get("resolved.desk", 0) / total if total else None


async def load_live(models: ReadModels, *, now: datetime) -> LiveState:
    live = LiveState()
    state = await models.bucket(STATE) or {}
    for group, values in state.items():
        if isinstance(values, dict):
            live.state[group] = {projection.dec(k): float(v) for k, v in values.items()}
    month = periods.month_key(now)
    doc = await models.bucket(f"m:{month}") or {}
    resolved = doc.get("resolved", {})
    live.resolved[month] = {"resolved.total": float(resolved.get("total", 0)), "resolved.desk": float(resolved.get("desk", 0))}
    return live


async def project(envelope: Envelope, *, models: ReadModels, live: LiveState | None = None) -> bool:
    """Apply one event to the read models once; True when it changed them. Effects are parked in the entity
    (`pending`) in the same write as the entity change and cleared once added, so a crash between the two is
    repaired by the redelivery instead of losing the increments."""
    target = projection.entity_of(envelope)
    if target is None:
        return False
    collection, key = target
    event_id = str(envelope.event_id)
    outcome: dict[str, Any] = {"fx": None, "doc": None}

    def decide(doc: dict[str, Any] | None) -> dict[str, Any] | None:
        result = projection.apply(doc, envelope)
        if result is None:
            parked = ((doc or {}).get("pending") or {}).get(event_id)
            outcome["fx"] = Effects.from_doc(parked) if parked else None
            return None
        new, fx = result
        if fx:
            new["pending"] = {**(new.get("pending") or {}), event_id: fx.to_doc()}
        outcome["fx"], outcome["doc"] = fx, new
        return new

    for attempt in range(1, CONTENTION_RETRIES + 1):
        outcome.update(fx=None, doc=None)
        try:
            # The entity, its buckets and the clean-up, stored together with the handlers running at once.
            async with models.batch():
                await models.update_entity(collection, key, decide)
                fx: Effects | None = outcome["fx"]
                if fx:
                    await models.apply(fx)
                    await models.clear_pending(collection, key, event_id)
                created = outcome["doc"]
                if created is not None and envelope.type == "ticket.created" and created.get("asset_tag"):
                    await _count_repeat(created, ticket_id=key, models=models)
            break
        except Contention:
            # Another replica wrote an entity of the round (MongoDB): read again and decide again.
            if attempt == CONTENTION_RETRIES:
                raise
    if fx and live is not None:
        live.add(fx)
    return outcome["doc"] is not None


async def _count_repeat(ticket: dict[str, Any], *, ticket_id: str, models: ReadModels) -> None:
    """The contract says most problems have happened before: count incidents on an asset seen in the last 90 days."""
    reported = ticket["reported_at"]
    repeats: list[datetime] = []

    def decide(doc: dict[str, Any] | None) -> dict[str, Any] | None:
        result = projection.asset_step(doc, ticket_id=ticket_id, reported_at=reported)
        if result is None:
            return None
        new, found = result
        repeats[:] = found  # decide may run again when the store re-reads
        return new

    await models.update_entity("assets", ticket["asset_tag"], decide)
    if repeats:
        fx = Effects()
        for at in repeats:
            fx.inc(projection.month_bucket(at), "created.repeat_asset")
        await models.apply(fx)


async def replay(source: EventSource, *, models: ReadModels, after: int, upto: int, workers: int = 8,
                 on_progress: Callable[[int], Awaitable[None]] | None = None) -> int:
    """Apply the stream's events with sequence in (after, upto] to `models`; returns how many were read.

    Events are spread over `workers` queues by the entity they belong to, so one entity's events keep their stream
    order while the database round trips of different entities overlap."""
    queues: list[asyncio.Queue[Envelope | None]] = [asyncio.Queue(maxsize=256) for _ in range(max(1, workers))]

    async def work(queue: asyncio.Queue[Envelope | None]) -> None:
        while (envelope := await queue.get()) is not None:
            try:
                await project(envelope, models=models)
            except Exception:
                log.exception("replay: event not projected", extra={"fields": {"type": envelope.type, "event_id": str(envelope.event_id)}})

    tasks = [asyncio.create_task(work(q)) for q in queues]
    n = 0
    try:
        async for _seq, envelope in source.replay(after=after, upto=upto):
            target = projection.entity_of(envelope) or ("", str(envelope.event_id))
            await queues[zlib.crc32(target[1].encode()) % len(queues)].put(envelope)
            n += 1
            if on_progress is not None and n % 1000 == 0:
                await on_progress(n)
    finally:
        for q in queues:
            await q.put(None)
        await asyncio.gather(*tasks)
    return n
