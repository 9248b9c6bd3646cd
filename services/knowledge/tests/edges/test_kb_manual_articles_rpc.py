"""rpc.kb.articles on FastStream's in-memory broker: what reporting's maintenance manual reads from the owner of articles."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from faststream.nats import NatsBroker, TestNatsBroker

from knowledge import service
from knowledge.domain import Actor, ArticleContent
from knowledge.entrypoints import bus
from knowledge.main import Adapters
from opsdesk_shared.bus import make_broker
from opsdesk_shared.contracts import subjects
from opsdesk_shared.contracts.knowledge import ArticlesReply

CURATOR = Actor(user="desk-lin", role="agent")


async def _article(adapters: Adapters, *, publish: bool = True, **overrides: object) -> str:
    fields: dict[str, object] = {"title": "打印机卡纸的处理方法", "body": "关闭电源，取出卡住的纸张。", "category": "打印机"}
    fields.update(overrides)
    article = await service.create_article(
        ArticleContent(**fields), actor=CURATOR, articles=adapters.articles, index=adapters.index, now=datetime.now(UTC)  # type: ignore[arg-type]
    )
    for action in ("submit", "publish") if publish else ():
        await service.change_state(
            article.id, action, actor=CURATOR, articles=adapters.articles, outbox=adapters.article_outbox,
            index=adapters.index, now=datetime.now(UTC), correlation_id="seed",
        )
    return article.id


def _broker(adapters: Adapters) -> NatsBroker:
    b = make_broker("nats://127.0.0.1:4222", name="knowledge-manual-test")
    bus.register(b, wired=adapters)
    return b


async def _ask(adapters: Adapters, payload: bytes) -> ArticlesReply:
    async with TestNatsBroker(_broker(adapters)) as br:
        return ArticlesReply.model_validate_json((await br.request(payload, subjects.RPC_KB_ARTICLES)).body)


async def test_articles_by_id_keep_the_order_given_and_name_drafts_and_unknown_ids_missing(adapters: Adapters) -> None:
    first = await _article(adapters, title="VPN 连接失败")
    second = await _article(adapters, title="打印机卡纸", body="第一步：关闭电源。\n第二步：取出纸张。")
    draft = await _article(adapters, title="草稿", publish=False)
    reply = await _ask(adapters, json.dumps({"article_ids": [second, first, draft, "nope"]}).encode())
    assert reply.status == 200
    assert [a.article_id for a in reply.articles] == [second, first]
    assert reply.articles[0].body == "第一步：关闭电源。\n第二步：取出纸张。" and reply.articles[0].version == 1
    assert reply.missing == [draft, "nope"]


async def test_articles_of_a_category_are_the_published_ones_by_title(adapters: Adapters) -> None:
    b = await _article(adapters, title="2 硒鼓更换", category="打印机")
    a = await _article(adapters, title="1 卡纸", category="打印机")
    await _article(adapters, title="VPN", category="网络")
    await _article(adapters, title="0 草稿", category="打印机", publish=False)
    reply = await _ask(adapters, json.dumps({"category": "打印机"}).encode())
    assert [x.article_id for x in reply.articles] == [a, b]


@pytest.mark.parametrize("payload", [b"not json", b"{}", b'{"article_ids": ["a"], "category": "x"}', b'{"article_ids": 5}'])
async def test_a_bad_query_is_answered_422(adapters: Adapters, payload: bytes) -> None:
    reply = await _ask(adapters, payload)
    assert reply.status == 422 and reply.error
