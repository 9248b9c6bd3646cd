"""The same store behaviour on the memory adapters and on the real database (FerretDB or MongoDB)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from knowledge import domain, service
from knowledge.adapters import memory, mongo
from knowledge.domain import Actor, ArticleContent
from knowledge.indexing import IndexSync
from knowledge.ports import ConcurrentUpdate, Suggestion
from knowledge.problems import Candidate, Incident, open_problem
from knowledge.search import SearchIndex
from knowledge.text import Analyzer
from opsdesk_shared.contracts import Envelope
from opsdesk_shared.contracts.knowledge import SuggestedArticle

pytestmark = pytest.mark.integration


def _stores(backend: Any) -> dict[str, Any]:
    if backend is None:
        return {
            "articles": memory.MemoryArticleStore(), "attachments": memory.MemoryAttachmentStore(),
            "suggestions": memory.MemorySuggestionStore(), "incidents": memory.MemoryIncidentStore(),
            "candidates": memory.MemoryCandidateStore(), "problems": memory.MemoryProblemStore(),
        }
    return {
        "articles": mongo.MongoArticleStore(backend), "attachments": mongo.MongoAttachmentStore(backend),
        "suggestions": mongo.MongoSuggestionStore(backend), "incidents": mongo.MongoIncidentStore(backend),
        "candidates": mongo.MongoCandidateStore(backend), "problems": mongo.MongoProblemStore(backend),
    }


@pytest.fixture
def stores(backend: Any) -> dict[str, Any]:
    return _stores(backend)


async def test_article_round_trip_with_versions_and_optimistic_save(
    stores: dict[str, Any], content: Callable[..., ArticleContent], curator: Actor, now: datetime
) -> None:
    articles = stores["articles"]
    article, v1 = domain.create_article(content(), actor=curator, now=now)
    await articles.add(article, v1, [])
    loaded = await articles.get(article.id)
    assert loaded == article
    edited, v2, _ = domain.edit_article(loaded, content(title="新標題"), actor=curator, now=now + timedelta(minutes=1))
    stored = await articles.save(edited, v2, [])
    assert stored.rev == 1 and (await articles.get(article.id)).content.title == "新標題"
    with pytest.raises(ConcurrentUpdate):
        await articles.save(edited, None, [])  # still at rev 0: someone saved in between
    assert [v.version for v in await articles.versions(article.id)] == [1, 2]
    assert [a.id for a in await articles.all()] == [article.id]


async def test_change_log_lets_another_instance_catch_up(
    stores: dict[str, Any], analyzer: Analyzer, content: Callable[..., ArticleContent], curator: Actor, now: datetime
) -> None:
    articles = stores["articles"]
    reader = IndexSync(SearchIndex(analyzer), articles)
    await reader.rebuild()
    article, v1 = domain.create_article(content(), actor=curator, now=now)
    await articles.add(article, v1, [])
    published, _ = domain.transition(article.model_copy(update={"state": "in_review"}), "publish", actor=curator, now=now)
    await articles.save(published, None, [])
    assert await reader.refresh() == 1
    hit = reader.index.search("卡纸", where=lambda a: a.state == "published").hits
    assert [h.key for h in hit] == [article.id]
    assert await reader.refresh() == 0


async def test_attachment_chunks_round_trip(stores: dict[str, Any]) -> None:
    attachments = stores["attachments"]
    chunks = [b"a" * service.CHUNK_BYTES, b"b" * service.CHUNK_BYTES, b"tail"]
    for n, data in enumerate(chunks):
        await attachments.write_chunk("file-1", n, data)
    assert [c async for c in attachments.read_chunks("file-1", 3)] == chunks
    await attachments.delete("file-1", 3)
    if not isinstance(attachments, memory.MemoryAttachmentStore):
        with pytest.raises(LookupError):
            _ = [c async for c in attachments.read_chunks("file-1", 1)]


async def test_suggestion_is_stored_once_and_resolved_once(stores: dict[str, Any], now: datetime) -> None:
    suggestions = stores["suggestions"]
    s = Suggestion(ticket_id="t-1", articles=[SuggestedArticle(article_id="a-1", title="x", score=3.5, version=1)], suggested_at=now)
    assert await suggestions.add(s, [])
    assert not await suggestions.add(s, [])
    resolved = await suggestions.resolve("t-1", article_id="a-1", at_desk=True, at=now)
    assert resolved is not None and resolved.deflected
    assert await suggestions.resolve("t-1", article_id="a-1", at_desk=True, at=now) is None
    assert await suggestions.resolve("t-unknown", article_id=None, at_desk=False, at=now) is None
    await suggestions.count({"resolved": 1, "deflected": 1}, article_id="a-1")
    await suggestions.count({"resolved": 1, "deflected": 0})
    totals, by_article = await suggestions.totals()
    assert totals["resolved"] == 2 and totals["deflected"] == 1 and by_article == {"a-1": 1}


async def test_a_reopen_undoes_the_resolution_once(stores: dict[str, Any], now: datetime) -> None:
    suggestions = stores["suggestions"]
    await suggestions.add(Suggestion(ticket_id="t-2", articles=[SuggestedArticle(article_id="a-2", title="x", score=1.0, version=1)], suggested_at=now), [])
    await suggestions.resolve("t-2", article_id="a-2", at_desk=True, at=now)

    before = await suggestions.reopen("t-2")

    assert before is not None and before.deflected and before.resolved_article_id == "a-2"
    assert await suggestions.reopen("t-2") is None
    assert (await suggestions.get("t-2")).resolved_at is None
    assert (await suggestions.resolve("t-2", article_id=None, at_desk=False, at=now)) is not None


async def test_recent_incidents_by_service_or_asset_within_the_window(stores: dict[str, Any], now: datetime) -> None:
    incidents = stores["incidents"]

    def inc(tid: str, svc: str, tag: str | None, days: int) -> Incident:
        return Incident(ticket_id=tid, number=tid, title="t", terms=["打印机", "卡纸"], service_code=svc, asset_tag=tag,
                        reported_at=now + timedelta(days=days))

    for i in (inc("a", "RS-REPAIR", "P1", 0), inc("b", "RS-COPIER", "P1", 5), inc("c", "RS-REPAIR", None, 10),
              inc("d", "RS-EMAIL", None, 10), inc("old", "RS-REPAIR", "P1", -60)):
        assert await incidents.add(i)
    assert not await incidents.add(inc("a", "RS-REPAIR", "P1", 0))
    found = await incidents.recent(service_code="RS-REPAIR", asset_tag="P1", since=now - timedelta(days=30))
    assert sorted(i.ticket_id for i in found) == ["a", "b", "c"]
    await incidents.link(["a", "b"], group_id="g-1")
    assert (await incidents.get("a")).group_id == "g-1"  # type: ignore[union-attr]


async def test_problems_and_candidates_round_trip_with_numbers(stores: dict[str, Any], now: datetime) -> None:
    problems, candidates = stores["problems"], stores["candidates"]
    assert await problems.next_number(2026) == "PRB-2026-0001"
    assert await problems.next_number(2026) == "PRB-2026-0002"
    problem, event = open_problem(number="PRB-2026-0002", title="丟包", by="desk-lin", now=now, incident_ids=["a", "b"])
    envelope = Envelope.wrap(event, producer="knowledge", correlation_id="c", subject_id=problem.id)
    assert await problems.add(problem, [envelope])
    assert not await problems.add(problem, [envelope])
    saved = await problems.save(problem.model_copy(update={"root_cause": "光模塊"}), [])
    assert saved.rev == 1 and (await problems.get(problem.id)).root_cause == "光模塊"  # type: ignore[union-attr]
    assert [p.id for p in await problems.list(state="open")] == [problem.id]
    c = Candidate(id="c-1", title="卡紙", service_code="RS-REPAIR", incident_ids=["a", "b"], score=0.5, created_at=now, updated_at=now)
    await candidates.add(c)
    await candidates.save(c.model_copy(update={"status": "dismissed"}))
    assert [x.id for x in await candidates.list(status="dismissed")] == ["c-1"]
    assert await candidates.list(status="pending") == []


async def test_concurrent_joins_of_one_candidate_all_land_without_conflict(stores: dict[str, Any], now: datetime) -> None:
    """Issue 14, defect 1: joins are one atomic merge each, so 40 at once all land and none raises."""
    import asyncio

    candidates = stores["candidates"]
    c = Candidate(id="c-burst", title="卡紙", service_code="RS-REPAIR", incident_ids=["a", "b"], score=0.5,
                  created_at=now, updated_at=now)
    assert await candidates.add(c)
    assert not await candidates.add(c)  # a redelivered new group finds it and adds nothing
    joined = await asyncio.gather(*(
        candidates.join("c-burst", f"t-{n}", score=0.5 + n / 100, now=now + timedelta(seconds=n)) for n in range(40)
    ))
    assert all(j is not None for j in joined)
    stored = await candidates.get("c-burst")
    assert stored is not None
    assert sorted(stored.incident_ids) == sorted(["a", "b", *(f"t-{n}" for n in range(40))])
    assert stored.score == pytest.approx(0.89) and stored.status == "pending"
    again = await candidates.join("c-burst", "t-3", score=0.1, now=now)  # a redelivery: no second entry
    assert again is not None and again.incident_ids.count("t-3") == 1
    await candidates.save(stored.model_copy(update={"status": "confirmed"}))
    assert await candidates.join("c-burst", "t-late", score=0.9, now=now) is None  # confirmed meanwhile: placed again
    assert await candidates.join("no-such", "t-x", score=0.9, now=now) is None


async def test_concurrent_recurrences_of_one_problem_all_land_once(stores: dict[str, Any], now: datetime) -> None:
    import asyncio

    problems = stores["problems"]
    problem, _ = open_problem(number="PRB-2026-0009", title="丟包", by="desk-lin", now=now, incident_ids=["a", "b"])
    assert await problems.add(problem, [])
    added = await asyncio.gather(*(problems.add_recurrence(problem.id, f"r-{n}", now=now) for n in range(30)))
    assert all(added)
    assert not await problems.add_recurrence(problem.id, "r-1", now=now)  # already linked
    assert not await problems.add_recurrence(problem.id, "a", now=now)  # one of its own incidents is no recurrence
    stored = await problems.get(problem.id)
    assert stored is not None
    assert sorted(stored.recurrence_ids) == sorted(f"r-{n}" for n in range(30))
    assert sorted(stored.incident_ids) == sorted(["a", "b", *(f"r-{n}" for n in range(30))])
