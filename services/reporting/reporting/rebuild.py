"""Rebuild the read models from the event stream into a fresh generation, then switch to it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from . import metrics, service
from .ports import EventSource, ReadModels
from .service import LiveState
from .staging import StagedReadModels

log = logging.getLogger(__name__)


class Generations(Protocol):
    def models(self, generation: int) -> ReadModels: ...

    async def drop(self, generation: int) -> None: ...

    async def switch(self, generation: int) -> None: ...


@dataclass
class Projection:
    """The live generation of the read models; bus handlers and reports always go through it."""

    models: ReadModels
    generation: int
    live: LiveState = field(default_factory=LiveState)
    rebuilding: dict[str, Any] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


async def rebuild(
    holder: Projection, *, source: EventSource, generations: Generations,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    on_progress: Callable[[int], Awaitable[None]] | None = None,
) -> dict[str, Any]:
    """Replay the whole stream into generation N+1, switch, replay what arrived meanwhile, drop generation N.

    Live handlers keep writing to generation N until the switch; everything they wrote is in the stream, and the tail
    replay after the switch (up to a sequence read after it) covers it. Entities ignore events they have seen, so the
    overlap between the tail replay and live handlers counts once."""
    async with holder.lock:
        started = time.perf_counter()
        old, new_gen = holder.generation, holder.generation + 1
        await generations.drop(new_gen)  # leftovers of an interrupted rebuild
        fresh = generations.models(new_gen)
        upto = await source.last_sequence()
        holder.rebuilding = {"generation": new_gen, "upto": upto, "started_at": clock()}
        staged = StagedReadModels()
        n = await service.replay(source, models=staged, after=0, upto=upto, on_progress=on_progress, workers=1)
        await fresh.load(staged)
        del staged
        holder.models, holder.generation = fresh, new_gen
        await generations.switch(new_gen)
        tail_upto = await source.last_sequence()
        n += await service.replay(source, models=fresh, after=upto, upto=tail_upto)
        holder.live = await service.load_live(fresh, now=clock())
        await generations.drop(old)
        holder.rebuilding = None
        seconds = time.perf_counter() - started
        metrics.rebuild_seconds.observe(seconds)
        log.info("projection rebuilt", extra={"fields": {"generation": new_gen, "events": n, "seconds": round(seconds, 2)}})
        return {"generation": new_gen, "events": n, "upto": tail_upto, "seconds": round(seconds, 3)}
