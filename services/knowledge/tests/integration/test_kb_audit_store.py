"""The tamper-evident trail at knowledge's storage edge (issue 16), on the memory store and the real database: an
article's log (an array in its document) and its versions (one document each) are sealed in chain as they are written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from knowledge import domain
from knowledge.adapters import memory, mongo
from knowledge.domain import Actor, ArticleContent
from opsdesk_shared import audit_chain

pytestmark = pytest.mark.integration


def _articles(backend: Any) -> Any:
    return memory.MemoryArticleStore() if backend is None else mongo.MongoArticleStore(backend)


async def _two_versions(articles: Any, content: Callable[..., ArticleContent], curator: Actor, now: datetime) -> str:
    article, v1 = domain.create_article(content(), actor=curator, now=now)
    await articles.add(article, v1, [])
    edited, v2, _ = domain.edit_article(article, content(title="新標題"), actor=curator, now=now + timedelta(minutes=1))
    await articles.save(edited, v2, [])
    return article.id


async def test_versions_and_log_are_sealed_in_chain_and_verify(
    backend: Any, content: Callable[..., ArticleContent], curator: Actor, now: datetime,
) -> None:
    articles = _articles(backend)
    article_id = await _two_versions(articles, content, curator, now)

    if backend is None:
        versions = articles.sealed[article_id]
    else:
        versions = [await backend["article_versions"].find_one({"_id": f"{article_id}:{n}"}) for n in (1, 2)]
    assert versions[0][audit_chain.PREV] == audit_chain.GENESIS
    assert versions[1][audit_chain.PREV] == versions[0][audit_chain.HASH]
    verdict = await articles.audit_verify()
    assert verdict.ok and verdict.checked >= 2, verdict
    assert [v.version for v in await articles.versions(article_id)] == [1, 2]  # the domain never sees a seal


async def test_a_version_changed_in_the_database_is_named(
    backend: Any, content: Callable[..., ArticleContent], curator: Actor, now: datetime,
) -> None:
    articles = _articles(backend)
    article_id = await _two_versions(articles, content, curator, now)
    if backend is None:
        articles.sealed[article_id][0] = {**articles.sealed[article_id][0], "edited_by": "mallory"}
    else:
        await backend["article_versions"].update_one({"_id": f"{article_id}:1"}, {"$set": {"edited_by": "mallory"}})

    verdict = await articles.audit_verify()
    assert verdict.first_broken == f"article-versions/{article_id}#0: hash does not match the record (the record was changed)"
