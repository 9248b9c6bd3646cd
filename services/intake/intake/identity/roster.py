"""Is this a roster engineer? Asked of dispatch, which owns the roster, before a user is linked to one.

Intake asks as itself (`service:intake`), with an internal token addressed to dispatch: a user's identity is never
borrowed for a check the system makes.
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import quote

import httpx

from opsdesk_shared.internal_auth import TokenMinter, service_caller

DISPATCH = "dispatch"


class RosterUnavailable(Exception):
    """Dispatch did not answer (or is not configured), so the link cannot be checked."""


class Roster(Protocol):
    async def has_engineer(self, engineer_id: str) -> bool:
        """True when dispatch's roster has this engineer; RosterUnavailable when it cannot tell."""
        ...


class HttpRoster:
    """`GET /api/v1/engineers/{id}` on dispatch: 200 yes, 404 no, anything else unavailable."""

    def __init__(self, *, client: httpx.AsyncClient, base_url: str, minter: TokenMinter, caller: str = "intake") -> None:
        self._client = client
        self._base_url = base_url.rstrip("/")
        self._minter = minter
        self._caller = service_caller(caller)

    async def has_engineer(self, engineer_id: str) -> bool:
        token = self._minter.mint(self._caller, audience=DISPATCH)
        url = f"{self._base_url}/api/v1/engineers/{quote(engineer_id, safe='')}"
        try:
            reply = await self._client.get(url, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            raise RosterUnavailable(f"dispatch did not answer: {type(exc).__name__}") from None
        if reply.status_code == 200:
            return True
        if reply.status_code == 404:
            return False
        raise RosterUnavailable(f"dispatch answered {reply.status_code}")


class NoRoster:
    """Dispatch is not configured: every check is unavailable, so no engineer can be linked (nothing is guessed)."""

    async def has_engineer(self, engineer_id: str) -> bool:
        raise RosterUnavailable("the dispatch service is not configured (INTAKE_DISPATCH_URL)")


class MemoryRoster:
    """A fixed set of engineer ids; for tests."""

    def __init__(self, engineer_ids: set[str] | None = None, *, available: bool = True) -> None:
        self.engineer_ids = set(engineer_ids or ())
        self.available = available

    async def has_engineer(self, engineer_id: str) -> bool:
        if not self.available:
            raise RosterUnavailable("dispatch did not answer")
        return engineer_id in self.engineer_ids
