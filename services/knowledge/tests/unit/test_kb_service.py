"""Article, suggestion and deflection use cases on memory adapters."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime

import pytest

from knowledge import service
from knowledge.domain import Actor, ArticleContent, Forbidden, NotFound
from knowledge.indexing import IndexSync
from knowledge.main import Adapters, memory_adapters
from knowledge.search import SearchIndex
from knowledge.settings import KnowledgeSettings
from knowledge.text import Analyzer
from opsdesk_shared.contracts import TicketCreatedV1, TicketResolvedV1
from opsdesk_shared.contracts.knowledge import KbSuggestedV1


@pytest.fixture
def wired(analyzer: Analyzer) -> Adapters:
    return memory_adapters(KnowledgeSettings(environment="test"), analyzer=analyzer)


async def _published(wired: Adapters, content: ArticleContent, curator: Actor, now: datetime) -> str:
    article = await service.create_article(content, actor=curator, articles=wired.articles, index=wired.index, now=now)
    for action in ("submit", "publish"):
        await service.change_state(
            article.id, action, actor=curator, articles=wired.articles, outbox=wired.article_outbox,
            index=wired.index, now=now, correlation_id="c",
        )
    return article.id


def _resolved(ticket: TicketCreatedV1, *, article_id: str | None, at_desk: bool = True) -> TicketResolvedV1:
    return TicketResolvedV1(
        ticket_id=ticket.ticket_id, number=ticket.number, service_code=ticket.service_code, priority="P3",
        channel="hotline", resolved_at_desk=at_desk, article_id=article_id, resolution="guided the user",
        reported_at=ticket.reported_at, resolved_at=ticket.reported_at, by="desk-lin",
    )


async def test_published_article_is_searchable_at_once_and_announced(
    wired: Adapters, content: Callable[..., ArticleContent], curator: Actor, requester: Actor, now: datetime
) -> None:
    article_id = await _published(wired, content(), curator, now)
    hits = service.search(wired.index.index, "卡纸", actor=requester).hits
    assert [h.key for h in hits] == [article_id]
    assert [e.type for e in wired.article_outbox.published] == ["kb.article_published"]  # type: ignore[attr-defined]


async def test_requester_search_skips_drafts_and_desk_only_articles(
    wired: Adapters, content: Callable[..., ArticleContent], curator: Actor, requester: Actor, now: datetime
) -> None:
    await service.create_article(content(), actor=curator, articles=wired.articles, index=wired.index, now=now)
    desk_only = await _published(wired, content(audience="desk"), curator, now)
    assert service.search(wired.index.index, "卡纸", actor=requester).hits == []
    agent_hits = service.search(wired.index.index, "卡纸", actor=curator).hits
    assert [h.key for h in agent_hits] == [desk_only]


async def test_filters_narrow_by_category_tag_and_service(
    wired: Adapters, content: Callable[..., ArticleContent], curator: Actor, now: datetime
) -> None:
    a = await _published(wired, content(tags=["卡纸", "hp"], service_codes=["RS-REPAIR"]), curator, now)
    b = await _published(wired, content(category="复印机", tags=["卡纸"], service_codes=["RS-COPIER"]), curator, now)
    index = wired.index.index
    assert [h.key for h in service.search(index, "卡纸", actor=curator, filters=service.Filters(category="复印机")).hits] == [b]
    assert [h.key for h in service.search(index, "卡纸", actor=curator, filters=service.Filters(tags=("hp",))).hits] == [a]
    assert {h.key for h in service.search(index, "卡纸", actor=curator, filters=service.Filters(service_code="RS-REPAIR")).hits} == {a}


async def test_retired_article_leaves_the_published_search(
    wired: Adapters, content: Callable[..., ArticleContent], curator: Actor, requester: Actor, now: datetime
) -> None:
    article_id = await _published(wired, content(), curator, now)
    await service.change_state(
        article_id, "retire", actor=curator, articles=wired.articles, outbox=wired.article_outbox, index=wired.index,
        now=now, correlation_id="c",
    )
    assert service.search(wired.index.index, "卡纸", actor=requester).hits == []


async def test_hidden_article_reads_as_not_found(
    wired: Adapters, content: Callable[..., ArticleContent], curator: Actor, requester: Actor, now: datetime
) -> None:
    article = await service.create_article(content(), actor=curator, articles=wired.articles, index=wired.index, now=now)
    with pytest.raises(NotFound):
        await service.read_article(article.id, actor=requester, articles=wired.articles)


async def test_edit_keeps_every_version(
    wired: Adapters, content: Callable[..., ArticleContent], curator: Actor, now: datetime
) -> None:
    article_id = await _published(wired, content(), curator, now)
    await service.edit_article(
        article_id, content(body="新的步驟：先關機，再取紙。"), actor=curator, articles=wired.articles,
        outbox=wired.article_outbox, index=wired.index, now=now, correlation_id="c",
    )
    versions = await service.article_history(article_id, actor=curator, articles=wired.articles)
    assert [v.version for v in versions] == [1, 2]
    assert versions[1].content.body.startswith("新的步驟")


async def test_ticket_gets_top_articles_suggested_once(
    wired: Adapters, content: Callable[..., ArticleContent], curator: Actor, ticket: Callable[..., TicketCreatedV1], now: datetime
) -> None:
    jam = await _published(wired, content(), curator, now)
    await _published(wired, content(title="VPN 連接失敗", body="錯誤809", category="網絡", tags=["VPN"]), curator, now)
    new = ticket(title="三樓打印機又卡紙了")
    suggestion = await service.suggest_for_ticket(
        new, index=wired.index.index, suggestions=wired.suggestions, outbox=wired.suggestion_outbox, now=now,
        correlation_id="corr", causation_id="cause",
    )
    assert suggestion is not None and [a.article_id for a in suggestion.articles] == [jam]
    again = await service.suggest_for_ticket(
        new, index=wired.index.index, suggestions=wired.suggestions, outbox=wired.suggestion_outbox, now=now,
        correlation_id="corr", causation_id="cause",
    )
    assert again is None
    sent = [e for e in wired.suggestion_outbox.published if e.type == "kb.suggested"]  # type: ignore[attr-defined]
    assert len(sent) == 1 and sent[0].causation_id == "cause" and sent[0].subject_id == new.ticket_id
    assert KbSuggestedV1.model_validate(sent[0].data).articles[0].article_id == jam


async def test_engineer_only_articles_are_not_suggested_to_the_desk(
    wired: Adapters, content: Callable[..., ArticleContent], curator: Actor, ticket: Callable[..., TicketCreatedV1], now: datetime
) -> None:
    await _published(wired, content(audience="engineers"), curator, now)
    suggestion = await service.suggest_for_ticket(
        ticket(), index=wired.index.index, suggestions=wired.suggestions, outbox=wired.suggestion_outbox, now=now,
        correlation_id="c", causation_id=None,
    )
    assert suggestion is not None and suggestion.articles == []


async def test_deflection_counts_only_suggested_articles_once(
    wired: Adapters, content: Callable[..., ArticleContent], curator: Actor, ticket: Callable[..., TicketCreatedV1], now: datetime
) -> None:
    jam = await _published(wired, content(), curator, now)
    helped, other = ticket(), ticket()
    for t in (helped, other):
        await service.suggest_for_ticket(
            t, index=wired.index.index, suggestions=wired.suggestions, outbox=wired.suggestion_outbox, now=now,
            correlation_id="c", causation_id=None,
        )
    assert (await service.record_resolution(_resolved(helped, article_id=jam), suggestions=wired.suggestions)).deflected  # type: ignore[union-attr]
    assert await service.record_resolution(_resolved(helped, article_id=jam), suggestions=wired.suggestions) is None
    await service.record_resolution(_resolved(other, article_id="some-other-article", at_desk=False), suggestions=wired.suggestions)
    stats = await service.deflection_stats(suggestions=wired.suggestions)
    assert stats["resolved"] == 2 and stats["deflected"] == 1 and stats["deflection_rate"] == 0.5
    assert stats["resolved_at_desk"] == 1 and stats["deflections_by_article"] == {jam: 1}


async def _pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def test_attachment_is_stored_in_chunks_and_read_back(
    wired: Adapters, content: Callable[..., ArticleContent], curator: Actor, now: datetime
) -> None:
    article = await service.create_article(content(), actor=curator, articles=wired.articles, index=wired.index, now=now)
    data = bytes(range(256)) * 3000  # 768,000 bytes: two full 255 KiB chunks and a rest
    attachment = await service.upload_attachment(
        article.id, filename="手冊.pdf", content_type="application/pdf", data=_pieces(data, 10_000), actor=curator,
        articles=wired.articles, attachments=wired.attachments, index=wired.index, max_bytes=1_000_000, now=now,
    )
    assert attachment.size == len(data) and attachment.chunks == 3
    assert all(len(c) <= service.CHUNK_BYTES for c in wired.attachments.chunks.values())  # type: ignore[attr-defined]
    _, chunks = await service.open_attachment(article.id, attachment.id, actor=curator, articles=wired.articles, attachments=wired.attachments)
    got = b"".join([c async for c in chunks])
    assert got == data


async def test_attachment_over_the_limit_is_refused_and_leaves_nothing(
    wired: Adapters, content: Callable[..., ArticleContent], curator: Actor, now: datetime
) -> None:
    article = await service.create_article(content(), actor=curator, articles=wired.articles, index=wired.index, now=now)
    with pytest.raises(service.TooLarge):
        await service.upload_attachment(
            article.id, filename="big.bin", content_type="application/octet-stream", data=_pieces(b"x" * 600_000, 50_000),
            actor=curator, articles=wired.articles, attachments=wired.attachments, index=wired.index, max_bytes=500_000, now=now,
        )
    assert wired.attachments.chunks == {}  # type: ignore[attr-defined]
    assert (await wired.articles.get(article.id)).attachments == []  # type: ignore[union-attr]


async def test_requester_cannot_attach(
    wired: Adapters, content: Callable[..., ArticleContent], curator: Actor, requester: Actor, now: datetime
) -> None:
    article_id = await _published(wired, content(), curator, now)
    with pytest.raises(Forbidden):
        await service.upload_attachment(
            article_id, filename="a.txt", content_type="text/plain", data=_pieces(b"hi", 2), actor=requester,
            articles=wired.articles, attachments=wired.attachments, index=wired.index, max_bytes=100, now=now,
        )


async def test_second_instance_picks_up_changes_through_the_change_log(
    wired: Adapters, analyzer: Analyzer, content: Callable[..., ArticleContent], curator: Actor, requester: Actor, now: datetime
) -> None:
    other = IndexSync(SearchIndex(analyzer), wired.articles)
    await other.rebuild()
    article_id = await _published(wired, content(), curator, now)
    assert service.search(other.index, "卡纸", actor=requester).hits == []
    assert await other.refresh() == 1
    assert [h.key for h in service.search(other.index, "卡纸", actor=requester).hits] == [article_id]


async def test_an_engineers_question_is_answered_on_the_ticket_once(
    wired: Adapters, content: Callable[..., ArticleContent], curator: Actor, now: datetime
) -> None:
    from opsdesk_shared.contracts import HelpRequestedV1

    engineers_only = await _published(wired, content(audience="engineers"), curator, now)
    await _published(wired, content(title="VPN 連接失敗", body="錯誤809", category="網絡", tags=["VPN"]), curator, now)
    question = HelpRequestedV1(ticket_id="t-9", assignment_id="a-9", engineer_id="eng-1", question="打印機卡紙怎麼處理", requested_at=now)

    first = await service.answer_help_request(question, help_event_id="help-1", index=wired.index.index, outbox=wired.suggestion_outbox, now=now, correlation_id="c")
    again = await service.answer_help_request(question, help_event_id="help-1", index=wired.index.index, outbox=wired.suggestion_outbox, now=now, correlation_id="c")

    assert [a.article_id for a in first][:1] == [engineers_only]  # engineers see engineer-only articles
    sent = [e for e in wired.suggestion_outbox.published if e.type == "kb.suggested"]  # type: ignore[attr-defined]
    assert len({e.event_id for e in sent}) == 1 and len(sent) == 2  # same event id: JetStream keeps one
    assert [a.article_id for a in again] == [a.article_id for a in first]
    assert sent[0].subject_id == "t-9"


async def test_a_reopened_ticket_stops_counting_as_deflected(
    wired: Adapters, content: Callable[..., ArticleContent], curator: Actor, ticket: Callable[..., TicketCreatedV1], now: datetime
) -> None:
    jam = await _published(wired, content(), curator, now)
    t = ticket()
    await service.suggest_for_ticket(t, index=wired.index.index, suggestions=wired.suggestions, outbox=wired.suggestion_outbox,
                                     now=now, correlation_id="c", causation_id=None)
    await service.record_resolution(_resolved(t, article_id=jam), suggestions=wired.suggestions)
    assert (await service.deflection_stats(suggestions=wired.suggestions))["deflected"] == 1

    assert await service.record_reopen(t.ticket_id, suggestions=wired.suggestions) is not None
    assert await service.record_reopen(t.ticket_id, suggestions=wired.suggestions) is None  # a redelivery changes nothing

    stats = await service.deflection_stats(suggestions=wired.suggestions)
    assert (stats["resolved"], stats["deflected"], stats["deflections_by_article"].get(jam, 0)) == (0, 0, 0)
    again = await service.record_resolution(_resolved(t, article_id=jam), suggestions=wired.suggestions)  # resolved once more
    assert again is not None and (await service.deflection_stats(suggestions=wired.suggestions))["deflected"] == 1


async def test_a_late_read_of_an_older_article_never_overwrites_a_newer_indexed_one(
    wired: Adapters, content: Callable[..., ArticleContent], curator: Actor, now: datetime
) -> None:
    """Issue 14, defect 2 (the same race as the desk's index): refresh() reads an article, this instance's own
    publish is applied meanwhile, and the read that comes back last must not put the draft back."""
    article_id = await _published(wired, content(title="打印機卡紙怎麼辦"), curator, now)
    published = await wired.articles.get(article_id)
    assert published is not None and published.state == "published"
    draft = published.model_copy(update={"state": "draft", "rev": published.rev - 2})

    class LateReads:
        """The store as another instance's change log shows it: the article changed, and reading it is slow."""

        async def changed_since(self, seq: int, *, limit: int) -> tuple[list[str], int]:
            return [article_id], seq + 1

        async def get(self, _: str) -> object:
            return draft  # read before the publish landed, returned after it was applied

    sync = IndexSync(wired.index.index, LateReads())  # type: ignore[arg-type]
    sync.apply(published)
    await sync.refresh()

    hits = service.search(sync.index, "打印機", actor=Actor(user="req", role="requester"), filters=service.Filters(), limit=5)
    assert [h.key for h in hits.hits] == [article_id]  # still published, so the requester still finds it
