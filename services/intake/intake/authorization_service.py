"""Use cases of the agency's authorization of work (authorization.py decides): the agency's decision on a ticket, the
desk's acknowledgement of a waiting one, standing authorizations (kept by the agency), and finding the one that
covers a ticket being recorded."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from . import authorization
from .access import Forbidden
from .authorization import Decision, StandingAuthorization, StandingIn
from .domain import Actor, Ticket
from .lifecycle import Changed
from .service import Desk, act
from .texts import Said


class StandingStore(Protocol):
    """Standing authorizations (adapters/standing.py)."""

    async def add(self, standing: StandingAuthorization) -> None: ...
    async def get(self, standing_id: str) -> StandingAuthorization | None: ...
    async def list(self, *, service_code: str | None = None) -> list[StandingAuthorization]: ...
    async def replace(self, standing: StandingAuthorization, *, expected_version: int) -> None: ...
    async def remove(self, standing_id: str) -> bool: ...


AssetTypeOf = Callable[[str], Awaitable[str | None]]


class StandingNotFound(LookupError):
    """No standing authorization with that id (404)."""


async def decide(
    ticket_id: str, *, decision: Decision, note: str | None, desk: Desk, actor: Actor, now: datetime, correlation_id: str,
) -> Ticket:
    """The agency approves (the ticket goes to dispatch at once) or declines (cancelled with the note) a ticket."""
    authorization.require_agency(actor)  # before loading: the team learns nothing by trying
    return await act(
        ticket_id,
        lambda t: authorization.decide(
            t, actor=actor, decision=decision, note=note, now=now, service=desk.catalog.get(t.service_code)
        ),
        desk=desk, actor=actor, now=now, correlation_id=correlation_id,
    )


async def acknowledge(
    ticket_id: str, *, desk: Desk, actor: Actor, now: datetime, correlation_id: str
) -> tuple[Ticket, bool]:
    """The desk tells the requester their request waits for the agency: the response clock stops. Once: the flag is
    False when it had been acknowledged before (nothing changed; the caller is told so, not shown a new act)."""
    fresh: list[bool] = []

    def decide(t: Ticket) -> Changed:
        changed = authorization.acknowledge(t, actor=actor, now=now)
        fresh.append(bool(changed[1]))  # the store may retry the decision: its last run is the one stored
        return changed

    ticket = await act(ticket_id, decide, desk=desk, actor=actor, now=now, correlation_id=correlation_id)
    return ticket, fresh[-1]


def _store(desk: Desk) -> StandingStore:
    if desk.standing is None:
        raise RuntimeError("standing authorizations are not wired")
    return desk.standing


def _readable(actor: Actor) -> None:
    if not authorization.may_read_standing(actor):
        raise Forbidden(Said("err.standing_readers"))


async def list_standing(*, desk: Desk, actor: Actor, service_code: str | None = None) -> list[StandingAuthorization]:
    _readable(actor)
    return await _store(desk).list(service_code=service_code)


async def get_standing(standing_id: str, *, desk: Desk, actor: Actor) -> StandingAuthorization:
    _readable(actor)
    found = await _store(desk).get(standing_id)
    if found is None:
        raise StandingNotFound(standing_id)
    return found


async def create_standing(body: StandingIn, *, desk: Desk, actor: Actor, now: datetime) -> StandingAuthorization:
    standing = authorization.new_standing(body, actor=actor, now=now, service=desk.catalog.get(body.service_code))
    await _store(desk).add(standing)
    return standing


async def change_standing(
    standing_id: str, body: StandingIn, *, desk: Desk, actor: Actor, now: datetime, expected_version: int | None = None,
) -> StandingAuthorization:
    authorization.require_agency(actor, "err.standing_agency_only")
    current = await get_standing(standing_id, desk=desk, actor=actor)
    changed = authorization.changed_standing(current, body, actor=actor, now=now, service=desk.catalog.get(body.service_code))
    await _store(desk).replace(changed, expected_version=expected_version if expected_version is not None else current.version)
    return changed


async def remove_standing(standing_id: str, *, desk: Desk, actor: Actor) -> None:
    authorization.require_agency(actor, "err.standing_agency_only")
    if not await _store(desk).remove(standing_id):
        raise StandingNotFound(standing_id)
