"""The gateway's live event stream (issue 15): `GET /api/v1/events/stream`, server-sent events fed from the bus and
filtered by what each caller may see.

- `domain.py`: pure rules: which bus events are shown and how (staff and requester views), who sees what (access.py's
  rules), the ring buffer that lets a reconnect resume, the caps on open streams;
- `hub.py`: events in (in stream order, each ticket read once), listeners out;
- `nats.py`: the feed, an ordered ephemeral JetStream consumer (never a core subscription that could answer a
  JetStream publish);
- `http.py`: the route.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any

from faststream.nats import NatsBroker

from . import metrics
from .domain import Limiter, Ring
from .http import router
from .hub import LiveHub, TicketReader
from .nats import JetStreamFeed
from .settings import LiveSettings

__all__ = ["LiveHub", "LiveSettings", "build_hub", "router", "running"]

log = logging.getLogger(__name__)


def build_hub(tickets: TicketReader, settings: LiveSettings | None = None) -> LiveHub:
    settings = settings or LiveSettings()
    return LiveHub(
        tickets=tickets, ring=Ring(capacity=settings.ring_size), limiter=Limiter(per_user=settings.per_user, total=settings.total),
        queue_size=settings.queue_size, heartbeat_s=settings.heartbeat_s, retry_ms=settings.retry_ms,
        observe=metrics.observe_publish,
    )


def _end_streams_on_exit(hub: LiveHub) -> Callable[[], None]:
    """A stream never ends by itself, and the server waits for open responses before it stops: on SIGTERM/SIGINT the
    streams are ended first, then the server's own handler runs. Returns what puts the handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    previous: dict[int, Any] = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        before = signal.getsignal(sig)
        if not callable(before):
            continue

        def handler(signum: int, frame: FrameType | None, before: Callable[[int, FrameType | None], Any] = before) -> None:
            loop.call_soon_threadsafe(hub.end_streams)
            before(signum, frame)

        previous[sig] = before
        signal.signal(sig, handler)

    def restore() -> None:
        for sig, before in previous.items():
            signal.signal(sig, before)

    return restore


@asynccontextmanager
async def running(broker: NatsBroker, tickets: TicketReader, settings: LiveSettings | None = None) -> AsyncIterator[LiveHub | None]:
    """The hub fed from the bus for the app's lifetime. A feed that cannot start (NATS refuses the consumer) leaves
    the desk running without its live stream (the route answers 503 and the log says why)."""
    settings = settings or LiveSettings()
    hub = build_hub(tickets, settings)
    feed = JetStreamFeed(broker, hub, backfill=settings.backfill, backfill_wait_s=settings.backfill_wait_s)
    try:
        await feed.start()
    except Exception:
        log.exception("live event stream not started: GET /api/v1/events/stream answers 503")
        yield None
        return
    restore = _end_streams_on_exit(hub)
    try:
        yield hub
    finally:
        restore()
        await feed.stop()
        await hub.stop()
