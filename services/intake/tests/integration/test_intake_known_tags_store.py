"""The asset tags assets announced (item 9), on both backends: the memory projection and the real database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from intake import known_tags, service
from intake.adapters.memory import MemoryKnownTags, MemoryTicketStore
from intake.adapters.mongo import MongoKnownTags, MongoTicketStore
from intake.domain import Actor, InvalidField, NewTicket
from intake.service import Desk
from opsdesk_shared.contracts import Requester
from opsdesk_shared.outbox import MemoryOutbox

AGENT = Actor(subject="agent1", role="agent", source="10.1.2.3")
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


@pytest.fixture
async def desk(backend: Any) -> Desk:
    if backend is None:
        memory = Desk.on(MemoryTicketStore(), MemoryOutbox())
        memory.tags = MemoryKnownTags()
        return memory
    store = MongoTicketStore(backend)
    await store.ensure_indexes()
    desk = Desk.on(store, MemoryOutbox())
    desk.tags = MongoKnownTags(backend)
    return desk


def _cmd(tag: str | None) -> NewTicket:
    return NewTicket(title="三楼打印机卡纸", description="HP M406", requester=Requester(name="王小明", department="办公室"),
                     channel="hotline", service_code="RS-REPAIR", asset_tag=tag)


async def test_the_projection_remembers_each_tag_once_and_refuses_the_rest(desk: Desk) -> None:
    assert desk.tags is not None
    assert not await desk.tags.any()
    # Empty: any tag goes (the desk takes reports before assets has announced anything).
    early, _ = await service.open_ticket(_cmd("GZ-2026-999999"), desk=desk, now=NOW, correlation_id="c", actor=AGENT)
    assert early.asset_tag == "GZ-2026-999999"

    part = [f"GZ-2026-{n:06d}" for n in range(1, 1001)]  # one part of an import: 1,000 tags
    assert await known_tags.record(part, desk.tags) == 1000
    assert await known_tags.record([*part[:10], "", "  ", "GZ-2026-001001"], desk.tags) == 1  # a redelivery adds nothing
    assert await desk.tags.any() and await desk.tags.has("GZ-2026-000500") and await desk.tags.has("GZ-2026-001001")
    assert not await desk.tags.has("GZ-2026-999999")

    with pytest.raises(InvalidField) as refused:
        await service.open_ticket(_cmd("GZ-2026-999999"), desk=desk, now=NOW, correlation_id="c", actor=AGENT)
    assert refused.value.loc == ("body", "asset_tag")
    known, _ = await service.open_ticket(_cmd("GZ-2026-000500"), desk=desk, now=NOW, correlation_id="c", actor=AGENT)
    assert known.asset_tag == "GZ-2026-000500"
    untagged, _ = await service.open_ticket(_cmd(None), desk=desk, now=NOW, correlation_id="c", actor=AGENT)
    assert untagged.asset_tag is None
