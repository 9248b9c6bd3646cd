"""The agency's authorization of work on both stores (memory and the real database): tickets waiting for the agency
and its decision stored and read back, and standing authorizations kept, matched and changed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from intake import authorization, authorization_service, service, timeline
from intake.adapters.standing import MemoryStandingAuthorizations, MongoStandingAuthorizations
from intake.authorization import StandingIn
from intake.catalog import SEED_BY_CODE
from intake.catalog_cache import Catalog
from intake.domain import Actor, NewTicket
from intake.ports import ConcurrentUpdate, TicketStore
from intake.search import TicketIndex
from intake.service import Desk
from opsdesk_shared.contracts import Requester, subjects
from opsdesk_shared.outbox import MemoryOutbox

NOW = datetime(2026, 11, 30, 2, 0, 0, tzinfo=UTC)
AGENCY = Actor(subject="zhou", name="周主任", role="agency")
AGENT = Actor(subject="agent1", name="李坐席", role="agent")


def _desk(store: TicketStore, backend: Any) -> tuple[Desk, MemoryOutbox]:
    guarded = SEED_BY_CODE["RS-ONSITE"].model_copy(update={"requires_authorization": True})
    catalog = Catalog.preloaded(tuple(s for s in SEED_BY_CODE.values() if s.code != guarded.code) + (guarded,))
    standing = MemoryStandingAuthorizations() if backend is None else MongoStandingAuthorizations(backend)
    outbox = MemoryOutbox()

    async def asset_type(tag: str) -> str | None:
        return {"PC-1": "desktop", "PR-1": "printer"}.get(tag)

    desk = Desk(store=store, outbox=outbox, catalog=catalog, index=TicketIndex(), standing=standing, asset_type_of=asset_type)
    return desk, outbox


def _cmd(department: str = "办公室", **extra: Any) -> NewTicket:
    return NewTicket(title="服务器内存扩容", description="机房", channel="web", service_code="RS-ONSITE",
                     requester=Requester(name="王小明", department=department), **extra)


async def test_a_waiting_ticket_and_the_agencys_approval_are_stored_and_announced(backend, store) -> None:  # type: ignore[no-untyped-def]
    desk, outbox = _desk(store, backend)
    ticket, _ = await service.open_ticket(_cmd(), desk=desk, now=NOW, correlation_id="c-1", actor=AGENT)
    stored = await store.get(ticket.id)
    assert stored is not None and stored.status == "awaiting_authorization" and stored.authorization is not None

    await authorization_service.acknowledge(ticket.id, desk=desk, actor=AGENT, now=NOW + timedelta(minutes=5), correlation_id="c-2")
    decided = await authorization_service.decide(
        ticket.id, decision="approve", note="同意", desk=desk, actor=AGENCY, now=NOW + timedelta(hours=1), correlation_id="c-3",
    )

    again = await store.get(ticket.id)
    assert again == decided
    assert again.status == "new" and again.acknowledged_at == NOW + timedelta(minutes=5)
    assert again.authorization is not None and again.authorization.decided_by == "zhou" and again.authorization.note == "同意"
    assert again.history[-1].by == "zhou" and again.audit[-1].by_name == "周主任"
    [authorized] = [e for e in outbox.published if e.type == subjects.TICKET_AUTHORIZED]
    assert authorized.data["dispatch"] is True and authorized.data["authorized_at"].startswith("2026-11-30T03:00")


async def test_a_declined_ticket_keeps_the_decline_in_the_steps_its_requester_reads(backend, store) -> None:  # type: ignore[no-untyped-def]
    """Issue 16: the requester's timeline of a ticket the agency declined was empty; the decline and its note are a
    step of the stored ticket, shown to its requester (timeline.steps_for) as to the desk."""
    desk, _ = _desk(store, backend)
    ticket, _ = await service.open_ticket(_cmd(), desk=desk, now=NOW, correlation_id="c-1", actor=AGENT)
    await authorization_service.decide(
        ticket.id, decision="decline", note="本月统一升级", desk=desk, actor=AGENCY, now=NOW + timedelta(hours=1), correlation_id="c-2",
    )
    stored = await store.get(ticket.id)
    assert stored is not None and stored.status == "cancelled"

    requester = Actor(subject="req-1", name="王小明", role="requester")
    steps = timeline.steps_for(stored, requester)

    [decline] = [e for e in steps if e.action == "authorization:declined"]
    assert (decline.by_name, decline.changes["reason"]["new"], decline.changes["status"]["new"]) == ("周主任", "本月统一升级", "cancelled")
    assert decline.at == NOW + timedelta(hours=1) and decline.source == ""
    assert [e.action for e in timeline.steps_for(stored, AGENT)] == [e.action for e in steps]


async def test_standing_authorizations_are_kept_and_cover_matching_tickets(backend, store) -> None:  # type: ignore[no-untyped-def]
    desk, outbox = _desk(store, backend)
    body = StandingIn(service_code="RS-ONSITE", departments=["財務科"], asset_types=["desktop"], valid_until=date(2026, 12, 31))
    made = await authorization_service.create_standing(body, desk=desk, actor=AGENCY, now=NOW)
    assert await authorization_service.get_standing(made.id, desk=desk, actor=AGENT) == made

    covered, _ = await service.open_ticket(_cmd("财务科", asset_tag="PC-1"), desk=desk, now=NOW, correlation_id="c-1", actor=AGENT)
    printer, _ = await service.open_ticket(_cmd("财务科", asset_tag="PR-1"), desk=desk, now=NOW, correlation_id="c-2", actor=AGENT)
    later, _ = await service.open_ticket(_cmd("财务科", asset_tag="PC-1"), desk=desk, now=datetime(2027, 1, 1, 1, tzinfo=UTC),
                                         correlation_id="c-3", actor=AGENT)

    assert covered.status == "new" and covered.authorization is not None
    assert covered.authorization.standing_authorization_id == made.id
    assert printer.status == "awaiting_authorization" and later.status == "awaiting_authorization"
    [authorized] = [e for e in outbox.published if e.type == subjects.TICKET_AUTHORIZED]
    assert authorized.subject_id == covered.id and authorized.data["standing_authorization_id"] == made.id

    changed = await authorization_service.change_standing(
        made.id, body.model_copy(update={"asset_types": []}), desk=desk, actor=AGENCY, now=NOW, expected_version=1,
    )
    assert changed.version == 2 and await authorization_service.get_standing(made.id, desk=desk, actor=AGENT) == changed
    with pytest.raises(ConcurrentUpdate):
        await authorization_service.change_standing(made.id, body, desk=desk, actor=AGENCY, now=NOW, expected_version=1)
    await authorization_service.remove_standing(made.id, desk=desk, actor=AGENCY)
    assert await authorization_service.list_standing(desk=desk, actor=AGENCY) == []


def test_the_longest_valid_standing_authorization_is_the_one_recorded() -> None:
    def make(sid: str, until: date, **kw: Any) -> authorization.StandingAuthorization:
        return authorization.StandingAuthorization(
            id=sid, service_code="RS-ONSITE", valid_until=until, created_by="zhou", created_at=NOW, updated_at=NOW, **kw,
        )

    items = [make("a", date(2026, 12, 5)), make("b", date(2027, 3, 1), departments=("财务科",)), make("c", date(2026, 11, 29))]
    found = authorization.covering(items, service_code="RS-ONSITE", department="財務科", asset_type=None, today=date(2026, 11, 30))
    assert found is not None and found.id == "b"
    assert authorization.covering(items, service_code="RS-ONSITE", department="办公室", asset_type=None, today=date(2026, 12, 6)) is None
