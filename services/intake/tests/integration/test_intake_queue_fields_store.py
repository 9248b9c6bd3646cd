"""The desk's queue fields survive a full index reload from each store (memory and the real database): the hold at
the desk, who last handled a ticket (from its stored audit trail) and the counts a restarted replica answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from intake import handover, service
from intake.adapters.memory import MemoryPendingHandovers
from intake.catalog_cache import Catalog
from intake.domain import Actor, NewTicket
from intake.search import Query, TicketIndex
from intake.service import Desk
from opsdesk_shared.contracts import Requester
from opsdesk_shared.outbox import MemoryOutbox

CREATED = datetime(2026, 11, 30, 1, 0, 0, tzinfo=UTC)
AGENT = Actor(subject="zhou", name="周敏", role="agent")
OTHER = Actor(subject="li", name="李静", role="agent")
DESK_VIEW = Actor(subject="manager1", role="manager")


def _cmd(*, desk_first: bool) -> NewTicket:
    return NewTicket(title="VPN 无法连接", description="在家连不上 VPN", channel="hotline", service_code="RS-REPAIR",
                     requester=Requester(name="王小明", department="办公室"), desk_first=desk_first)


async def test_a_reloaded_index_keeps_holds_and_handlers(store: Any) -> None:  # the store fixture runs on both stores
    desk = Desk(store=store, outbox=MemoryOutbox(), catalog=Catalog.preloaded(), index=TicketIndex(),
                handovers=MemoryPendingHandovers(), guidance_window=timedelta(minutes=5))
    held, _ = await service.open_ticket(_cmd(desk_first=True), desk=desk, now=CREATED, correlation_id="c-1", actor=AGENT)
    sent, _ = await service.open_ticket(_cmd(desk_first=True), desk=desk, now=CREATED, correlation_id="c-2", actor=AGENT)
    await handover.send_on(sent.id, desk=desk, actor=OTHER, now=CREATED + timedelta(minutes=1), correlation_id="c-3")

    restarted = TicketIndex()
    restarted.replace_all([t async for t in store.scan()])

    def ids(**filters: str) -> set[str]:
        found, _ = restarted.search(Query(filters={k: frozenset({v}) for k, v in filters.items()}), actor=DESK_VIEW)
        return set(found)

    assert ids(held="true") == {held.id}
    assert ids(handled_by="zhou") == {held.id} and ids(handled_by="li") == {sent.id}
    summary = {s["id"]: s for s in restarted.summaries([held.id, sent.id])}
    assert summary[held.id]["held_since"] == CREATED and summary[sent.id]["held_since"] is None
    assert (summary[sent.id]["handled_by"], summary[sent.id]["handled_by_name"]) == ("li", "李静")
    assert restarted.count(Query(filters={"unassigned": frozenset({"true"})}), actor=DESK_VIEW) == 2
