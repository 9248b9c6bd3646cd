"""A task that runs one coroutine function on an interval until stopped, logging (never dying of) its errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self, step: Callable[[], Awaitable[object]], *, interval_s: float, name: str, delay_first: bool = False) -> None:
        self._step = step
        self._interval_s = interval_s
        self._name = name
        self._delay_first = delay_first
        self._task: asyncio.Task[None] | None = None

    async def _loop(self) -> None:
        if self._delay_first:
            await asyncio.sleep(self._interval_s)
        while True:
            try:
                await self._step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("periodic step failed", extra={"fields": {"task": self._name}})
            await asyncio.sleep(self._interval_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=self._name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
