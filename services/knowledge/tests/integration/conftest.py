"""Knowledge stores, memory and Mongo, behind one fixture; Mongo runs on the real server from the devstack plugin."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from knowledge import seed
from knowledge.adapters.mongo import (
    MongoArticleStore,
    MongoAttachmentStore,
    MongoCandidateStore,
    MongoIncidentStore,
    MongoProblemStore,
    MongoSuggestionStore,
)
from knowledge.entrypoints import bus
from knowledge.indexing import IndexSync
from knowledge.main import Adapters
from knowledge.search import SearchIndex
from knowledge.settings import KnowledgeSettings
from knowledge.text import Analyzer
from opsdesk_shared.bus import JetStreamPublisher
from opsdesk_shared.outbox import OutboxRelay


@pytest.fixture(params=["memory", "mongo"])
def backend(request: pytest.FixtureRequest) -> Any:
    """None for the memory stores, else a fresh database (only then is the server started)."""
    return request.getfixturevalue("mongo_db") if request.param == "mongo" else None


@pytest.fixture
async def knowledge_on_bus(broker: Any, mongo_db: Any, analyzer: Analyzer) -> Adapters:
    """The bus edge wired as in production, on the test's broker and database, with the demo articles."""
    articles = MongoArticleStore(mongo_db)
    suggestions = MongoSuggestionStore(mongo_db)
    problems = MongoProblemStore(mongo_db)
    publisher = JetStreamPublisher(broker)
    wired = Adapters(
        settings=KnowledgeSettings(environment="test"), index=IndexSync(SearchIndex(analyzer), articles),
        articles=articles, attachments=MongoAttachmentStore(mongo_db), suggestions=suggestions,
        incidents=MongoIncidentStore(mongo_db), candidates=MongoCandidateStore(mongo_db), problems=problems,
        article_outbox=OutboxRelay(articles.collection, publisher, markers=True),
        suggestion_outbox=OutboxRelay(suggestions.collection, publisher, markers=True),
        problem_outbox=OutboxRelay(problems.collection, publisher),
    )
    await seed.seed(articles, now=datetime.now(UTC))
    await wired.index.rebuild()
    bus.register(broker, wired=wired)
    await broker.start()
    return wired
