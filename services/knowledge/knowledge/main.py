"""Wiring for knowledge."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from opsdesk_shared.app import build_service_app
from opsdesk_shared.audit_http import audit_router
from opsdesk_shared.outbox import MemoryOutbox, OutboxRelay
from opsdesk_shared.periodic import Periodic
from opsdesk_shared.readiness import StartupPhases
from opsdesk_shared.runtime import Infra

from . import metrics, problem_service
from .adapters import memory
from .adapters.mongo import (
    MongoArticleStore,
    MongoAttachmentStore,
    MongoCandidateStore,
    MongoIncidentStore,
    MongoProblemStore,
    MongoSuggestionStore,
)
from .entrypoints import bus
from .entrypoints.http import router as kb_router
from .entrypoints.http_problems import router as problems_router
from .indexing import IndexSync
from .ports import (
    ArticleStore,
    AttachmentStore,
    CandidateStore,
    EventOutbox,
    IncidentStore,
    ProblemStore,
    SuggestionStore,
)
from .search import SearchIndex
from .seed import seed
from .settings import KnowledgeSettings
from .text import Analyzer

log = logging.getLogger(__name__)


@dataclass
class Adapters:
    settings: KnowledgeSettings
    index: IndexSync
    articles: ArticleStore
    attachments: AttachmentStore
    suggestions: SuggestionStore
    incidents: IncidentStore
    candidates: CandidateStore
    problems: ProblemStore
    article_outbox: EventOutbox
    suggestion_outbox: EventOutbox
    problem_outbox: EventOutbox


def memory_adapters(settings: KnowledgeSettings, *, analyzer: Analyzer | None = None) -> Adapters:
    """The whole service on dicts, for tests; one MemoryOutbox records every event."""
    articles = memory.MemoryArticleStore()
    outbox = MemoryOutbox()
    return Adapters(
        settings=settings, index=IndexSync(SearchIndex(analyzer or Analyzer()), articles), articles=articles,
        attachments=memory.MemoryAttachmentStore(), suggestions=memory.MemorySuggestionStore(),
        incidents=memory.MemoryIncidentStore(), candidates=memory.MemoryCandidateStore(),
        problems=memory.MemoryProblemStore(), article_outbox=outbox, suggestion_outbox=outbox, problem_outbox=outbox,
    )


def create_app(settings: KnowledgeSettings, adapters: Adapters | None = None) -> FastAPI:
    @asynccontextmanager
    async def wire(infra: Infra) -> AsyncIterator[Adapters]:
        phases = StartupPhases()
        analyzer = Analyzer(cache_dir=settings.jieba_cache_dir or None)
        await asyncio.to_thread(analyzer.initialize)  # jieba loads its dictionary once, about a second
        phases("jieba")
        articles = MongoArticleStore(infra.db, audit_key=settings.audit_key_bytes)
        suggestions = MongoSuggestionStore(infra.db)
        problems = MongoProblemStore(infra.db)
        relays = [
            OutboxRelay(articles.collection, infra.publisher, interval_s=settings.relay_interval_s, markers=True),
            OutboxRelay(suggestions.collection, infra.publisher, interval_s=settings.relay_interval_s, markers=True),
            OutboxRelay(problems.collection, infra.publisher, interval_s=settings.relay_interval_s),
        ]
        wired = Adapters(
            settings=settings, index=IndexSync(SearchIndex(analyzer), articles), articles=articles,
            attachments=MongoAttachmentStore(infra.db), suggestions=suggestions,
            incidents=MongoIncidentStore(infra.db), candidates=MongoCandidateStore(infra.db), problems=problems,
            article_outbox=relays[0], suggestion_outbox=relays[1], problem_outbox=relays[2],
        )
        if settings.seed_demo:
            await seed(articles, now=datetime.now(UTC))
        phases("seed")
        await wired.index.rebuild()
        phases("index")
        bus.register(infra.broker, wired=wired)

        async def escalate() -> None:
            await problem_service.escalate_overdue(
                after=timedelta(days=settings.escalate_after_days), notify=settings.escalation_notify,
                problems_=problems, outbox=relays[2], now=datetime.now(UTC),
            )

        tasks: list[OutboxRelay | Periodic] = [
            *relays,
            Periodic(wired.index.refresh, interval_s=settings.index_refresh_s, name="kb-index-refresh"),
            Periodic(escalate, interval_s=settings.escalation_check_s, name="problem-escalation"),
        ]
        for task in tasks:
            task.start()
        phases("rest")
        phases.log(log)
        try:
            yield wired
        finally:
            for task in reversed(tasks):
                await task.stop()

    return build_service_app(
        settings,
        title="Opsdesk knowledge",
        description="Knowledge base with Chinese and English search, suggestions at intake, problems and known errors.",
        registry=metrics.registry,
        routers=[kb_router, problems_router, audit_router(lambda wired: [wired.articles])],
        wire=wire,
        adapters=adapters,
        max_body_bytes=settings.attachment_max_bytes + 256 * 1024,
    )
