"""The bus edge on FastStream's in-memory broker: ticket.created -> suggestion and detection, ticket.resolved ->
deflection, rpc.kb.search answered from the index."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from faststream.nats import NatsBroker, TestNatsBroker

from knowledge import service
from knowledge.domain import Actor, ArticleContent
from knowledge.entrypoints import bus
from knowledge.main import Adapters
from opsdesk_shared.bus import EVENTS_STREAM, make_broker
from opsdesk_shared.contracts import Envelope, Requester, TicketCreatedV1, TicketResolvedV1, subjects
from opsdesk_shared.contracts.knowledge import KbSuggestedV1

CURATOR = Actor(user="desk-lin", role="agent")


def _js_reply(durable: str, delivered: int = 1) -> str:
    return f"$JS.ACK.{EVENTS_STREAM}.{durable}.{delivered}.7.7.1767225600000000000.0"


async def _article(adapters: Adapters, **overrides: object) -> str:
    fields: dict[str, object] = {"title": "打印機卡紙的處理方法", "body": "關閉電源，取出卡住的紙張。", "category": "打印機", "audience": "all"}
    fields.update(overrides)
    article = await service.create_article(
        ArticleContent(**fields), actor=CURATOR, articles=adapters.articles, index=adapters.index, now=datetime.now(UTC)  # type: ignore[arg-type]
    )
    for action in ("submit", "publish"):
        await service.change_state(
            article.id, action, actor=CURATOR, articles=adapters.articles, outbox=adapters.article_outbox,
            index=adapters.index, now=datetime.now(UTC), correlation_id="seed",
        )
    return article.id


def _broker(adapters: Adapters) -> NatsBroker:
    b = make_broker("nats://127.0.0.1:4222", name="knowledge-edge-test")
    bus.register(b, wired=adapters)
    return b


def _created(title: str = "三樓打印機又卡紙了", asset_tag: str | None = "GZ-PRN-0301") -> Envelope:
    ticket_id = str(uuid.uuid4())
    event = TicketCreatedV1(
        ticket_id=ticket_id, number="INC-2026-000001", title=title, channel="hotline", service_code="RS-REPAIR",
        requester=Requester(name="王小明"), reported_at=datetime.now(UTC), asset_tag=asset_tag,
    )
    return Envelope.wrap(event, producer="intake", correlation_id=f"corr-{ticket_id}", subject_id=ticket_id)


async def test_ticket_created_gets_suggestions_announced(adapters: Adapters) -> None:
    article_id = await _article(adapters)
    created = _created()
    async with TestNatsBroker(_broker(adapters)) as br:
        await br.publish(created.to_wire(), subject=subjects.TICKET_CREATED, stream=EVENTS_STREAM, reply_to=_js_reply(bus.DURABLE_CREATED))

    sent = [e for e in adapters.suggestion_outbox.published if e.type == subjects.KB_SUGGESTED]  # type: ignore[attr-defined]
    assert len(sent) == 1
    assert sent[0].correlation_id == created.correlation_id and sent[0].causation_id == str(created.event_id)
    assert [a.article_id for a in KbSuggestedV1.model_validate(sent[0].data).articles] == [article_id]
    assert await adapters.incidents.get(created.subject_id) is not None


async def test_redelivered_ticket_created_is_suggested_once(adapters: Adapters) -> None:
    await _article(adapters)
    created = _created()
    async with TestNatsBroker(_broker(adapters)) as br:
        for n in (1, 2):
            await br.publish(created.to_wire(), subject=subjects.TICKET_CREATED, stream=EVENTS_STREAM, reply_to=_js_reply(bus.DURABLE_CREATED, n))
    assert [e.type for e in adapters.suggestion_outbox.published].count(subjects.KB_SUGGESTED) == 1  # type: ignore[attr-defined]


async def test_ticket_resolved_with_the_suggested_article_counts_a_deflection(adapters: Adapters) -> None:
    article_id = await _article(adapters)
    created = _created()
    ticket = TicketCreatedV1.model_validate(created.data)
    resolved = TicketResolvedV1(
        ticket_id=ticket.ticket_id, number=ticket.number, service_code=ticket.service_code, priority="P3",
        channel="hotline", resolved_at_desk=True, article_id=article_id, resolution="按文章指導取出卡紙",
        reported_at=ticket.reported_at, resolved_at=datetime.now(UTC), by="desk-lin",
    )
    envelope = Envelope.wrap(resolved, producer="intake", correlation_id=created.correlation_id, subject_id=ticket.ticket_id)
    async with TestNatsBroker(_broker(adapters)) as br:
        await br.publish(created.to_wire(), subject=subjects.TICKET_CREATED, stream=EVENTS_STREAM, reply_to=_js_reply(bus.DURABLE_CREATED))
        await br.publish(envelope.to_wire(), subject=subjects.TICKET_RESOLVED, stream=EVENTS_STREAM, reply_to=_js_reply(bus.DURABLE_RESOLVED))
    stats = await service.deflection_stats(suggestions=adapters.suggestions)
    assert stats["deflected"] == 1 and stats["deflection_rate"] == 1.0


async def test_rpc_search_answers_by_role(adapters: Adapters) -> None:
    await _article(adapters)
    desk_only = await _article(adapters, audience="desk", title="打印機卡紙：服務台內部說明")
    async with TestNatsBroker(_broker(adapters)) as br:
        requester = json.loads((await br.request(json.dumps({"query": "卡纸", "role": "requester", "limit": 5}).encode(), subjects.RPC_KB_SEARCH)).body)
        agent = json.loads((await br.request(json.dumps({"query": "卡纸", "role": "agent", "limit": 5, "filters": {"audience": "desk"}}).encode(), subjects.RPC_KB_SEARCH)).body)
    assert requester["total"] == 1 and desk_only not in [r["article_id"] for r in requester["results"]]
    assert [r["article_id"] for r in agent["results"]] == [desk_only]


@pytest.mark.parametrize("payload", [b"not json", b"[]", b'{"query": "x"}', b'{"query": 5, "role": "agent"}', b'{"query": "x", "role": "agent", "limit": 0}'])
async def test_malformed_rpc_search_answers_an_error(adapters: Adapters, payload: bytes) -> None:
    async with TestNatsBroker(_broker(adapters)) as br:
        body = json.loads((await br.request(payload, subjects.RPC_KB_SEARCH)).body)
    assert body["error"].startswith("bad request")
