"""Blocking work (PDF, label sheets, spreadsheets, file parsing) off the event loop, within a time budget.

A service answers every request, `/healthz` included, from one event loop: a render that runs on it for ten
seconds stops the whole service for ten seconds. So CPU-bound work runs in a worker thread, and the request waits
for it at most `budget` seconds; past that it gets a 503 (`build_service_app` maps `BudgetExceeded`) rather than
holding a connection open for as long as the work takes.

A thread cannot be stopped from outside. Work that overran keeps its worker until it ends, which is why each kind
of work gets its own small pool: a flood of slow renders fills that pool and queues, the queued calls time out
(and are dropped before they start, as their futures are cancelled), and nothing else in the service waits for it.
A pool of one worker also serialises work on process-wide state (matplotlib's pyplot) even when a caller gave up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class BudgetExceeded(Exception):
    """Blocking work that did not finish within its time budget; answered 503 by every service app."""

    def __init__(self, what: str, budget: float) -> None:
        super().__init__(f"{what} did not finish within {budget:g} s; the service is busy, try again later or ask for less")
        self.what = what
        self.budget = budget


class BlockingPool:
    """A few worker threads for one kind of blocking work; `run` waits for one call at most its budget."""

    def __init__(self, name: str, *, workers: int = 2) -> None:
        self.name = name
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"opsdesk-{name}")

    async def run(self, fn: Callable[[], T], *, budget: float, what: str) -> T:
        """`fn()` in a worker thread; `BudgetExceeded` if it has not returned within `budget` seconds.

        `fn` takes no arguments: bind them with `functools.partial`, so the budget can never be mistaken for one.
        """
        future = asyncio.get_running_loop().run_in_executor(self._executor, fn)
        try:
            done, _ = await asyncio.wait({future}, timeout=budget)
        except asyncio.CancelledError:
            future.cancel()  # the caller went away: do not start the work if it is still queued
            raise
        if not done:
            future.cancel()
            log.warning("blocking work over budget", extra={"fields": {"pool": self.name, "what": what, "budget_s": budget}})
            raise BudgetExceeded(what, budget)
        return future.result()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


_default = BlockingPool("blocking", workers=2)


async def run_blocking(fn: Callable[[], T], *, budget: float, what: str) -> T:
    """`BlockingPool.run` on the process's shared pool, for work that needs no pool of its own."""
    return await _default.run(fn, budget=budget, what=what)
