"""What `/readyz` means beyond "the database and NATS answer": the service's durable consumers exist on the server
(so its handlers are bound and nothing it should hear is missed) and its local views are loaded.

Views: every service loads its per-process views (search index, catalog, graph, due-queue horizon, tally, knowledge
index) inside its wiring, before the lifespan yields; `Started` turns true only after that and after the broker
started its subscribers. Consumers: `ConsumersBound` asks JetStream for each durable the broker subscribed to,
remembering a positive answer for a few seconds so that a probe every second costs no bus traffic."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from faststream.nats import NatsBroker
from nats.errors import Error as NatsError
from nats.js.errors import Error as JetStreamError


def durable_consumers(broker: NatsBroker) -> list[tuple[str, str]]:
    """(stream, durable) of every durable pull consumer the broker subscribed to."""
    found: list[tuple[str, str]] = []
    for sub in broker.subscribers:
        options = getattr(sub, "extra_options", None) or {}
        stream, durable = options.get("stream"), options.get("durable")
        if stream and durable:
            found.append((str(stream), str(durable)))
    return found


class StartupPhases:
    """Seconds per start-up phase, logged once as 'views loaded' (bench/start_to_ready.py prints that line): where a
    start-up's time goes, measured in every run rather than guessed. Call with each phase's name as it ends."""

    def __init__(self) -> None:
        self._mark = time.perf_counter()
        self.seconds: dict[str, float] = {}

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(self.seconds.get(name, 0.0) + now - self._mark, 3)
        self._mark = now

    @property
    def total(self) -> float:
        return round(sum(self.seconds.values()), 3)

    def log(self, logger: logging.Logger, **fields: Any) -> None:
        logger.info("views loaded", extra={"fields": {"seconds": self.seconds, "total_s": self.total, **fields}})


@dataclass
class Started:
    """True once the lifespan finished loading views and starting the broker's subscribers."""

    done: bool = False

    async def __call__(self) -> bool:
        return self.done


@dataclass
class ConsumersBound:
    broker: NatsBroker | None = None
    remember_s: float = 5.0
    _ok_until: float = field(default=0.0, repr=False)

    async def __call__(self) -> bool:
        if self.broker is None:
            return False
        if time.monotonic() < self._ok_until:
            return True
        js = self.broker.config.connection_state.stream
        try:
            for stream, durable in durable_consumers(self.broker):
                await js.consumer_info(stream, durable, timeout=2.0)
        except (NatsError, JetStreamError, TimeoutError):
            return False
        self._ok_until = time.monotonic() + self.remember_s
        return True
