"""What every assets route needs: the adapters, who is asking (the verified caller), and a context for writes.

Identity comes only from the internal token the gateway signed (`current_caller`); no header, body field or missing
credential ever names the actor. Who may do what is decided here, once, for every route.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status

from opsdesk_shared.internal_auth import Caller, VerifiedCaller
from opsdesk_shared.logs import correlation_id
from opsdesk_shared.roles import STAFF_ROLES

from ..service import Ctx
from ..texts import Said

# The operations team reads the register; requesters work through their tickets at the desk and see none of it
# (serials, owners and the tickets on an asset are the team's data).
READERS = STAFF_ROLES  # the team and the agency (信息中心), opsdesk_shared.roles
# Auditors read everything and change nothing; everyone else who reads may keep the register.
WRITERS = frozenset({"agent", "engineer", "manager", "admin"})


def _adapters(request: Request) -> Any:
    return request.app.state.adapters


Wired = Annotated[Any, Depends(_adapters)]


def may_read(caller: Caller) -> bool:
    return caller.role in READERS or caller.is_service


def may_write(caller: Caller) -> bool:
    return caller.role in WRITERS or caller.is_service


def require_reader(caller: VerifiedCaller) -> Caller:
    """Every assets route starts here (a router-wide dependency): requesters and unknown roles get 403."""
    if not may_read(caller):
        raise HTTPException(status.HTTP_403_FORBIDDEN, Said("err.read_role", role=caller.role))
    return caller


def ticket_filter(caller: Caller) -> Callable[..., bool] | None:
    """Which tickets this reader may see on an asset: an engineer only those they hold, the rest of the team all
    (None). An engineer is known by the roster id the gateway's token links (`engineer_id`); a user of role engineer
    with no roster link holds nothing, rather than being matched by a name that merely looks like an engineer id."""
    if caller.role != "engineer":
        return None
    me = caller.engineer_id

    def held(*, engineer_id: str | None) -> bool:
        return me is not None and engineer_id == me

    return held


def _ctx(caller: Caller) -> Ctx:
    if not caller.subject.strip():
        # An author is always someone: never fall back to an anonymous or "system" name.
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, Said("err.no_subject"))
    return Ctx(by=caller.subject, now=datetime.now(UTC), correlation_id=correlation_id.get() or str(uuid.uuid4()),
               role=caller.role)


def _reader(caller: VerifiedCaller) -> Ctx:
    return _ctx(require_reader(caller))


def _writer(caller: VerifiedCaller) -> Ctx:
    """Writes are for the roles that keep the register; the author recorded is the verified subject."""
    if not may_write(caller):
        raise HTTPException(status.HTTP_403_FORBIDDEN, Said("err.write_role", role=caller.role))
    return _ctx(caller)


Reader = Annotated[Ctx, Depends(_reader)]
Writer = Annotated[Ctx, Depends(_writer)]
# The router-wide guard: `APIRouter(dependencies=READ_GUARD)` so no route can forget it.
READ_GUARD = [Depends(require_reader)]


def not_found(said: str) -> HTTPException:
    """404 with what is not there (a `Said`, rendered in the caller's language by errors.py)."""
    return HTTPException(status.HTTP_404_NOT_FOUND, said)


def unprocessable(errors: list[tuple[str, str]]) -> HTTPException:
    """422 naming each field with its reason (a `Said` where we have one, rendered in the caller's language)."""
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        [{"loc": ["body", *field.split(".")], "msg": message, "type": "value_error"} for field, message in errors],
    )
