"""What both HTTP routers share: the verified caller as the domain's Actor, and errors to status codes.

The caller comes only from the internal token the gateway signed for this service (`VerifiedCaller`); no header or
body field names who acts. The author of an article, a version, a log entry or a problem step is `caller.subject`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Request, status

from opsdesk_shared.internal_auth import VerifiedCaller
from opsdesk_shared.logs import correlation_id

from ..domain import ROLES, SERVICE, Actor, Forbidden, IllegalTransition, NotFound
from ..ports import ConcurrentUpdate
from ..service import TooLarge

T = TypeVar("T")


def _adapters(request: Request) -> Any:
    return request.app.state.adapters


Wired = Annotated[Any, Depends(_adapters)]


def _actor(caller: VerifiedCaller) -> Actor:
    # A role the knowledge base has no rules for gets nothing, rather than a requester's view by default.
    if caller.role not in ROLES and caller.role != SERVICE:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {caller.role} has no access to the knowledge base")
    return Actor(user=caller.subject, role=caller.role, department=caller.department)


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
