"""The report calendar: after each period closes, generate its reports; alert when one is not submitted to the agency by
its due time (missing). A late submission is alerted when it happens (signing.submit)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from opsdesk_shared.periodic import Periodic

from . import generation, periods, reports, signing
from .ports import Delivery, Publisher, ReadModels, ReportStore

log = logging.getLogger(__name__)


@dataclass
class ReportScheduler:
    """`step` is one pass over the calendar at `clock()`; the Periodic loop calls it every `interval_s`."""

    models: Callable[[], ReadModels]
    store: ReportStore
    publisher: Publisher
    delivery: Delivery | None = None
    langs: tuple[str, ...] = ("zh-CN",)
    # Wait this long after a period closes, so events of its last minutes are in.
    settle: timedelta = timedelta(hours=1)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    interval_s: float = 300.0
    parties: reports.Parties = field(default_factory=reports.Parties)
    _periodic: Periodic | None = None

    async def step(self) -> list[str]:
        """Generate what is due now; returns the report ids generated in this pass."""
        now = self.clock()
        since = await self.store.schedule_since(now)
        done: list[str] = []
        for kind in reports.SCHEDULED:
            period = periods.previous(kind.cadence, now)
            due = reports.due_at(kind, period)
            if now < periods.end_of(period) + self.settle or due < since:
                continue
            # The deadline is met by submission to the agency: at the due time, a report none of whose versions (in
            # any language) was submitted is missing, however long ago it was generated.
            if now >= due and not await signing.submitted_any([reports.report_id(kind.name, period, lang) for lang in self.langs],
                                                              store=self.store):
                await generation.raise_overdue(kind.name, period, due=due, reason="missing", store=self.store,
                                               publisher=self.publisher, now=now)
            for lang in self.langs:
                if await self.store.get(reports.report_id(kind.name, period, lang)) is not None:
                    continue
                try:
                    await generation.generate(kind, period, models=self.models(), store=self.store, publisher=self.publisher,
                                              delivery=self.delivery, lang=lang, now=now, parties=self.parties)
                    done.append(reports.report_id(kind.name, period, lang))
                except Exception:
                    log.exception("report generation failed", extra={"fields": {"kind": kind.name, "period": period}})
                    if now >= due:
                        await generation.raise_overdue(kind.name, period, due=due, reason="missing", store=self.store,
                                                       publisher=self.publisher, now=now)
        return done

    def start(self) -> None:
        self._periodic = Periodic(self.step, interval_s=self.interval_s, name="report-scheduler")
        self._periodic.start()

    async def stop(self) -> None:
        if self._periodic is not None:
            await self._periodic.stop()
