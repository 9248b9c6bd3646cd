"""What both HTTP routers share: the caller's identity from the gateway's headers, and errors to status codes."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, HTTPException, Request, status

from opsdesk_shared.logs import correlation_id

from ..domain import ROLES, Actor, Forbidden, IllegalTransition, NotFound
from ..ports import ConcurrentUpdate
from ..service import TooLarge

T = TypeVar("T")


def _adapters(request: Request) -> Any:
    return request.app.state.adapters


Wired = Annotated[Any, Depends(_adapters)]


def _actor(
    x_opsdesk_role: Annotated[str | None, Header(description="Caller's role, forwarded by the gateway")] = None,
    x_opsdesk_user: Annotated[str | None, Header(description="Caller's user id")] = None,
    x_opsdesk_department: Annotated[str | None, Header(description="Caller's department")] = None,
) -> Actor:
    if not x_opsdesk_role:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing X-Opsdesk-Role")
    if x_opsdesk_role not in ROLES:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"unknown role {x_opsdesk_role}")
    return Actor(user=x_opsdesk_user or x_opsdesk_role, role=x_opsdesk_role, department=x_opsdesk_department)


Caller = Annotated[Actor, Depends(_actor)]


def now() -> datetime:
    return datetime.now(UTC)


def cid() -> str:
    return correlation_id.get() or "knowledge-http"


async def run(call: Awaitable[T]) -> T:
    """Await a use case, turning domain refusals into status codes."""
    try:
        return await call
    except NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except Forbidden as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None
    except (IllegalTransition, ConcurrentUpdate) as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc) or "changed concurrently, reload and retry") from None
    except TooLarge as exc:
        raise HTTPException(413, str(exc)) from None


def require(actor: Actor, roles: frozenset[str], what: str) -> None:
    if actor.role not in roles:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {actor.role} may not {what}")
