"""Generate a report: figures from the aggregates, files rendered, stored, announced on the bus, delivered."""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import UTC, datetime
from functools import partial
from typing import Any

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.contracts.knowledge import ArticlesQuery
from opsdesk_shared.contracts.reports import ReportGeneratedV1, ReportOverdueV1
from opsdesk_shared.offload import BlockingPool

from . import figures, manual, metrics, reports, signoff
from .ports import ArticleSource, Delivery, Publisher, ReadModels, ReportStore
from .render import charts, forms, pdf, xlsx
from .render import manual as manual_pdf

log = logging.getLogger(__name__)
PRODUCER = "reporting"
FORMATS = ("json", "xlsx", "pdf")
# A request waits this long for a file, then gets a 503 (opsdesk_shared.offload); a report made in the background
# (periodic, or when a major incident is resolved) has no one waiting on a connection, so it may take longer.
REQUEST_BUDGET_SECONDS = 10.0  # under the gateway's 15 s upstream timeout
BACKGROUND_BUDGET_SECONDS = 120.0
# matplotlib's pyplot state is process-wide: one report render at a time, off the event loop. One worker keeps
# that true even when a request gave up waiting, as its render holds the worker until it ends. Forms (reportlab
# only) have their own worker, so a slow report never makes a form wait.
_reports = BlockingPool("reporting-reports", workers=1)
_forms = BlockingPool("reporting-forms", workers=1)


async def warm_up() -> None:
    """Draw one small chart in the report worker at start: the first matplotlib figure in a process (font cache,
    the CJK font parsed) took 14 s on a loaded machine, beyond a request's budget, so no person should pay for it."""
    try:
        await _reports.run(partial(charts.render, {"type": "bar", "labels": ["预热"], "values": [1]}),
                           budget=BACKGROUND_BUDGET_SECONDS, what="warming up the chart renderer")
    except Exception:  # a missing font is reported when a report is asked for, with its real reason
        log.warning("report renderer warm-up failed", exc_info=True)


def to_json(report: dict[str, Any]) -> bytes:
    return json.dumps(report, ensure_ascii=False, default=_default, indent=1).encode()


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    raise TypeError(type(value).__name__)


async def render(report: dict[str, Any], fmt: str, *, budget: float | None = None) -> bytes:
    """The report as one file; PDF and XLSX are drawn off the event loop within `budget` (default: a request's)."""
    if fmt == "json":
        return to_json(report)
    renderer = {"xlsx": xlsx.render, "pdf": manual_pdf.render if report["kind"] == manual.KIND.name else pdf.render}[fmt]
    return await _reports.run(partial(renderer, report), budget=budget or REQUEST_BUDGET_SECONDS,
                              what=f"drawing the {fmt.upper()} report")


async def render_form(form: str, doc: dict[str, Any], *, lang: str, ticket: dict[str, Any] | None) -> bytes:
    """A printable form (PDF), drawn off the event loop within a request's budget."""
    return await _forms.run(partial(forms.render, form, doc, lang=lang, ticket=ticket), budget=REQUEST_BUDGET_SECONDS,
                            what=f"drawing the {form} form")


async def compose(kind: reports.ReportKind, period: str, *, models: ReadModels, lang: str, now: datetime,
                  parties: reports.Parties | None = None) -> dict[str, Any]:
    """The report as JSON-ready data, computed from the period's buckets (no ticket is read), beside the period
    before it (its buckets too), so the reader sees the change."""
    reports.check_period(kind, period)
    started = time.perf_counter()
    data = figures.compute(await figures.gather(models, period))
    before = figures.compute(await figures.gather(models, reports.previous_period(period)))
    report = reports.build(kind, data, lang=lang, generated_at=now, previous=before, parties=parties)
    metrics.report_compute_seconds.labels(kind.name).observe(time.perf_counter() - started)
    return report


async def place(report: dict[str, Any], *, store: ReportStore, reopen_acknowledged: bool = False) -> dict[str, Any]:
    """The freshly built report as the version it will be stored as (signoff.placement): over a draft, as n+1 after a
    return (the cover says so), or refused (IllegalStep) while the agency has it."""
    placed = signoff.placement(report, await store.versions(str(report["_id"])), reopen_acknowledged=reopen_acknowledged)
    placed["version"] = signoff.cover_version(str(report.get("version") or "1.0"), placed["revision"])
    return placed


async def _publish_report(
    report: dict[str, Any], *, kind: str, period: str, store: ReportStore, publisher: Publisher, delivery: Delivery | None,
    lang: str, now: datetime, late: bool, event_key: str, formats: tuple[str, ...] = FORMATS, reopen_acknowledged: bool = False,
) -> dict[str, Any]:
    """Place the version, render every format, deliver, store, announce report.generated (its id derived from
    `event_key`); returns the report as stored (its id is the version's)."""
    report = await place(report, store=store, reopen_acknowledged=reopen_acknowledged)
    files = {fmt: await render(report, fmt, budget=BACKGROUND_BUDGET_SECONDS) for fmt in formats}
    delivered: list[str] = []
    if delivery is not None:
        try:
            delivered = await delivery.deliver(report=report, files=files)
        except Exception:
            log.exception("report delivery failed", extra={"fields": {"report_id": report["_id"]}})
    meta = {k: v for k, v in report.items() if k != "sections"}
    # `generated_late` is a fact about generation; the contract's deadline is met by submission (signoff.on_time).
    await store.put({**meta, "generated_late": late, "delivered": delivered, "formats": list(formats)}, files)
    event = ReportGeneratedV1(report_id=report["_id"], kind=kind, period=period, lang=lang, formats=list(formats),
                              due_at=report["due_at"], late=late, generated_at=now)
    await publisher.publish(Envelope.wrap(event, producer=PRODUCER, correlation_id=str(uuid.uuid4()), subject_id=report["_id"],
                                          occurred_at=now, event_id=uuid.uuid5(uuid.NAMESPACE_URL, event_key)))
    metrics.reports_generated.labels(kind).inc()
    return report


async def generate(
    kind: reports.ReportKind, period: str, *, models: ReadModels, store: ReportStore, publisher: Publisher,
    delivery: Delivery | None, lang: str, now: datetime, parties: reports.Parties | None = None,
) -> dict[str, Any]:
    """Build, render every format, store (as the version signoff.placement says), publish report.generated and deliver.
    Whether it is on time is decided when it is submitted to the agency (service.submit), not here."""
    started = time.perf_counter()
    report = await compose(kind, period, models=models, lang=lang, now=now, parties=parties)
    due = report["due_at"]
    late = due is not None and now > due
    stored = await _publish_report(report, kind=kind.name, period=period, store=store, publisher=publisher, delivery=delivery,
                                   lang=lang, now=now, late=late, event_key=f"opsdesk:report:{report['_id']}:{now.isoformat()}")
    metrics.report_generation_seconds.labels(kind.name).observe(time.perf_counter() - started)
    return {**report, **{k: stored[k] for k in ("_id", "series", "revision", "state", "version")}}


async def generate_major_incident(
    ticket: dict[str, Any], *, store: ReportStore, publisher: Publisher, delivery: Delivery | None, lang: str, now: datetime,
    parties: reports.Parties | None = None,
) -> dict[str, Any]:
    """The per-incident report, made when a major incident is resolved: stored, announced and delivered like the
    periodic ones. One report id per incident and language, so a redelivered resolution replaces it and announces
    nothing new."""
    report = reports.major_incident(ticket, lang=lang, generated_at=now, parties=parties)
    try:
        stored = await _publish_report(report, kind=reports.INCIDENT_KIND.name, period=str(report["period"]), store=store,
                                       publisher=publisher, delivery=delivery, lang=lang, now=now, late=False,
                                       event_key=f"opsdesk:report:{report['_id']}")
    except signoff.IllegalStep:
        # Already with the agency (submitted or acknowledged): a redelivered resolution changes nothing of it.
        log.info("major incident report already signed off; not replaced", extra={"fields": {"report_id": report["_id"]}})
        return report
    return {**report, **{k: stored[k] for k in ("_id", "series", "revision", "state", "version")}}


async def generate_manual(
    query: ArticlesQuery, *, articles: ArticleSource, store: ReportStore, publisher: Publisher, delivery: Delivery | None,
    lang: str, now: datetime, parties: reports.Parties | None = None,
) -> dict[str, Any]:
    """The maintenance manual from the published articles knowledge gives for `query`, stored as the manual's next
    version (each publication is one; a draft not yet submitted is replaced) and announced like every report."""
    reply = await articles.published(query)
    if reply.status != 200:
        raise manual.NoArticles("article_ids" if query.article_ids else "category", reply.error or "bad selection")
    if reply.missing:
        raise manual.NoArticles("article_ids", "not published or unknown: " + ", ".join(reply.missing), missing=reply.missing)
    if not reply.articles:
        raise manual.NoArticles("category", f"no published article in category {query.category}")
    report = manual.build(reply.articles, selection=manual.selection_of(query), lang=lang, generated_at=now, parties=parties)
    stored = await _publish_report(report, kind=manual.KIND.name, period=manual.PERIOD, store=store, publisher=publisher,
                                   delivery=delivery, lang=lang, now=now, late=False, formats=manual.FORMATS,
                                   reopen_acknowledged=True, event_key=f"opsdesk:report:{report['_id']}:{now.isoformat()}")
    return {**report, **{k: stored[k] for k in ("_id", "series", "revision", "state", "version")}}


async def raise_overdue(kind: str, period: str, *, due: datetime, reason: str, store: ReportStore, publisher: Publisher,
                        now: datetime) -> bool:
    """Publish report.overdue once per (kind, period, reason); True when raised now."""
    alert_id = f"{reason}:{kind}:{period}"
    if not await store.mark_alert(alert_id):
        return False
    event = ReportOverdueV1(kind=kind, period=period, due_at=due, reason=reason, detected_at=now)  # type: ignore[arg-type]
    await publisher.publish(Envelope.wrap(event, producer=PRODUCER, correlation_id=str(uuid.uuid4()), subject_id=f"{kind}:{period}",
                                          occurred_at=now, event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"opsdesk:report-alert:{alert_id}")))
    metrics.reports_overdue.labels(kind, reason).inc()
    log.warning("report overdue", extra={"fields": {"kind": kind, "period": period, "reason": reason}})
    return True
