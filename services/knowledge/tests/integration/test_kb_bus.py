"""Knowledge on the real NATS and database: ticket.created in, one kb.suggested out, relayed from the outbox."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from knowledge.main import Adapters
from opsdesk_shared.bus import EVENTS_STREAM, JetStreamPublisher
from opsdesk_shared.contracts import Envelope, Requester, TicketCreatedV1, subjects
from opsdesk_shared.contracts.knowledge import KbSuggestedV1

pytestmark = pytest.mark.integration


def _created(title: str) -> Envelope:
    ticket_id = str(uuid.uuid4())
    event = TicketCreatedV1(
        ticket_id=ticket_id, number="INC-2026-000001", title=title, channel="hotline", service_code="RS-REPAIR",
        requester=Requester(name="王小明"), reported_at=datetime.now(UTC), asset_tag="GZ-PRN-0301",
        description="打印的時候紙卡在裡面拿不出來",
    )
    return Envelope.wrap(event, producer="intake", correlation_id=f"corr-{ticket_id}", subject_id=ticket_id)


async def test_ticket_created_on_the_bus_gets_one_kb_suggested_event(broker: Any, knowledge_on_bus: Adapters) -> None:
    js = broker.config.connection_state.stream
    sub = await js.subscribe(subjects.KB_SUGGESTED, stream=EVENTS_STREAM)
    created = _created("打印機卡紙")

    await JetStreamPublisher(broker).publish(created)

    msg = await sub.next_msg(timeout=10)
    envelope = Envelope.model_validate_json(msg.data)
    suggested = KbSuggestedV1.model_validate(envelope.data)
    assert envelope.subject_id == created.subject_id and envelope.correlation_id == created.correlation_id
    assert suggested.articles and suggested.articles[0].article_id == "kb-demo-printer-jam"
    assert len(suggested.articles) <= 3
    stored = await knowledge_on_bus.suggestions.get(created.subject_id)
    assert stored is not None and [a.article_id for a in stored.articles] == [a.article_id for a in suggested.articles]
    await sub.unsubscribe()


async def test_rpc_kb_search_answers_on_the_real_server_and_is_not_persisted(broker: Any, knowledge_on_bus: Adapters) -> None:
    reply = await broker.request(json.dumps({"query": "VPN 809", "role": "requester", "limit": 3}).encode(), subjects.RPC_KB_SEARCH, timeout=3)
    body = json.loads(reply.body)
    assert body["results"][0]["article_id"] == "kb-demo-vpn"
    js = broker.config.connection_state.stream
    info = await js.stream_info(EVENTS_STREAM)
    assert info.state.messages == 0


async def test_redelivered_ticket_created_relays_the_suggestion_its_first_delivery_left_stored(mongo_db: Any, analyzer: Any) -> None:
    """Issue 14, defect 3: the suggestion stored by a delivery that died before publishing goes out on redelivery."""
    from knowledge import service
    from knowledge.adapters.mongo import MongoArticleStore, MongoSuggestionStore
    from knowledge.indexing import IndexSync
    from knowledge.search import SearchIndex
    from opsdesk_shared.outbox import EventsNotSent, OutboxRelay, pending_collection

    class Publisher:
        def __init__(self) -> None:
            self.up = False
            self.sent: list[Envelope] = []

        async def publish(self, envelope: Envelope) -> None:
            if not self.up:
                raise ConnectionError("nats is away")
            self.sent.append(envelope)

    publisher = Publisher()
    suggestions = MongoSuggestionStore(mongo_db)
    relay = OutboxRelay(suggestions.collection, publisher, markers=True)
    index = IndexSync(SearchIndex(analyzer), MongoArticleStore(mongo_db))
    created = _created("打印機卡紙")
    ticket = TicketCreatedV1.model_validate(created.data)

    async def deliver() -> None:
        await service.suggest_for_ticket(ticket, index=index.index, suggestions=suggestions, outbox=relay,
                                         now=datetime.now(UTC), correlation_id="c", causation_id=str(created.event_id), limit=3)

    with pytest.raises(EventsNotSent):  # stored with its kb.suggested; the publish failed: the message is not acked
        await deliver()
    assert publisher.sent == []
    # Written without a pending marker (issue 17); the failed publish noted one, so a crash now is swept at start-up.
    assert await pending_collection(suggestions.collection).find_one({"_id": ticket.ticket_id}) is not None
    publisher.up = True
    await deliver()  # redelivered
    assert [(e.type, e.subject_id) for e in publisher.sent] == [("kb.suggested", ticket.ticket_id)]
