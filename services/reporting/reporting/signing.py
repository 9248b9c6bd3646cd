"""Sign-off use cases: submit a stored report to the agency, the agency acknowledges it or returns it with comments.
Each loads the report and its versions through the store, asks `signoff` for the step, writes it with a compare-and-set
on the report's storage revision (a concurrent step makes the loser decide again on what the winner wrote), then
announces the step. A returned report is submitted again as a new version, regenerated first.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opsdesk_shared.contracts import Envelope

from . import generation, manual, reports, signoff
from .ports import ArticleSource, Delivery, Publisher, ReadModels, ReportStore
from .signoff import Document

ATTEMPTS = 5


class UnknownReport(Exception):
    """No stored report with this id (or not one the caller may see): 404."""


class Changed(Exception):
    """The report kept changing under us; read it again (409)."""


class CannotRegenerate(Exception):
    """A returned report whose source is gone (a major incident no longer in the read models): 409."""


@dataclass(frozen=True)
class Actor:
    """The verified caller: `by` is the token's subject, written as the one who acted."""

    by: str
    role: str


@dataclass
class Sources:
    """What regenerating a returned report needs: the read models, the articles, delivery and the cover's parties."""

    models: ReadModels
    articles: ArticleSource | None = None
    delivery: Delivery | None = None
    parties: reports.Parties | None = None


async def _load(report_id: str, store: ReportStore) -> tuple[Document, int]:
    meta = await store.get(report_id)
    if meta is None:
        raise UnknownReport(report_id)
    last = signoff.latest(await store.versions(signoff.series_of(meta)))
    return meta, signoff.revision_of(last or meta)


async def _announce(event: Any, *, report_id: str, publisher: Publisher, now: datetime) -> None:
    await publisher.publish(Envelope.wrap(event, producer=generation.PRODUCER, correlation_id=str(uuid.uuid4()),
                                          subject_id=report_id, occurred_at=now))


async def _step(report_id: str, decide: Callable[[Document, int], signoff.Step], *, store: ReportStore,
                publisher: Publisher, now: datetime) -> tuple[Document, signoff.Step]:
    for _ in range(ATTEMPTS):
        meta, latest_revision = await _load(report_id, store)
        step = decide(meta, latest_revision)
        if await store.change(report_id, expected_rev=int(meta.get("rev") or 0), changes=step.changes):
            await _announce(step.event, report_id=report_id, publisher=publisher, now=now)
            return {**meta, **step.changes, "rev": int(meta.get("rev") or 0) + 1}, step
    raise Changed(report_id)


async def regenerate(meta: Document, *, sources: Sources, store: ReportStore, publisher: Publisher, now: datetime) -> Document:
    """A returned report built again from today's data, stored as version n+1 (a draft)."""
    kind, period, lang = meta["kind"], str(meta["period"]), str(meta.get("lang") or "zh-CN")
    if kind == manual.KIND.name:
        if sources.articles is None:
            raise CannotRegenerate("no article source is configured")
        return await generation.generate_manual(manual.query_of(meta.get("selection") or {}), articles=sources.articles, store=store,
                                                publisher=publisher, delivery=sources.delivery, lang=lang, now=now, parties=sources.parties)
    if kind == reports.INCIDENT_KIND.name:
        ticket = await sources.models.entity("tickets", period)
        if ticket is None:
            raise CannotRegenerate(f"ticket {period} is no longer in reporting's read models")
        return await generation.generate_major_incident(ticket, store=store, publisher=publisher, delivery=sources.delivery,
                                                        lang=lang, now=now, parties=sources.parties)
    return await generation.generate(reports.KINDS[kind], period, models=sources.models, store=store, publisher=publisher,
                                     delivery=sources.delivery, lang=lang, now=now, parties=sources.parties)


async def submit(report_id: str, *, actor: Actor, store: ReportStore, publisher: Publisher, sources: Sources,
                 now: datetime) -> Document:
    """Submit a draft to the agency; a returned one is regenerated as version n+1 and that is submitted. The first
    submission of a report after its deadline raises report.overdue (late) once."""
    meta, latest_revision = await _load(report_id, store)
    previous: str | None = None
    if signoff.check_submit(meta, role=actor.role, latest_revision=latest_revision):
        previous = report_id
        report_id = str((await regenerate(meta, sources=sources, store=store, publisher=publisher, now=now))["_id"])
    submitted, step = await _step(
        report_id,
        lambda m, latest: signoff.submit(m, by=actor.by, role=actor.role, now=now, latest_revision=latest,
                                         previous_report_id=previous or m.get("previous")),
        store=store, publisher=publisher, now=now,
    )
    if signoff.on_time(submitted) is False:
        earlier = [v for v in await store.versions(signoff.series_of(submitted))
                   if v["_id"] != submitted["_id"] and v.get("submitted_at") is not None]
        if not earlier:
            await generation.raise_overdue(submitted["kind"], str(submitted["period"]), due=submitted["due_at"], reason="late",
                                           store=store, publisher=publisher, now=now)
    return submitted


async def acknowledge(report_id: str, *, actor: Actor, note: str | None, store: ReportStore, publisher: Publisher,
                      now: datetime) -> Document:
    done, _ = await _step(
        report_id,
        lambda m, latest: signoff.acknowledge(m, by=actor.by, role=actor.role, now=now, latest_revision=latest, note=note),
        store=store, publisher=publisher, now=now,
    )
    return done


async def return_report(report_id: str, *, actor: Actor, comments: str, store: ReportStore, publisher: Publisher,
                        now: datetime) -> Document:
    done, _ = await _step(
        report_id,
        lambda m, latest: signoff.return_(m, by=actor.by, role=actor.role, now=now, latest_revision=latest, comments=comments),
        store=store, publisher=publisher, now=now,
    )
    return done


async def submitted_any(series_ids: list[str], *, store: ReportStore) -> bool:
    """Has any version of these reports (one per language) been submitted to the agency?"""
    for series in series_ids:
        if any(v.get("submitted_at") is not None for v in await store.versions(series)):
            return True
    return False

