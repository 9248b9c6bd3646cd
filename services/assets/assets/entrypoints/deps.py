"""What every assets route needs: the adapters, who is asking (gateway headers), and a context for writes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request, status

from opsdesk_shared.logs import correlation_id

from ..service import Ctx

READ_ONLY_ROLES = frozenset({"auditor", "requester"})


def _adapters(request: Request) -> Any:
    return request.app.state.adapters


Wired = Annotated[Any, Depends(_adapters)]


def _reader(
    x_opsdesk_user: Annotated[str | None, Header()] = None,
    x_opsdesk_role: Annotated[str | None, Header()] = None,
) -> Ctx:
    return Ctx(by=x_opsdesk_user or "system", now=datetime.now(UTC), correlation_id=correlation_id.get() or str(uuid.uuid4()))


def _writer(
    x_opsdesk_user: Annotated[str | None, Header()] = None,
    x_opsdesk_role: Annotated[str | None, Header()] = None,
) -> Ctx:
    """Writes are refused to the read-only roles the gateway names; without the header (internal calls) they pass."""
    if x_opsdesk_role is not None and x_opsdesk_role.strip().lower() in READ_ONLY_ROLES:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {x_opsdesk_role} may not change the register")
    return _reader(x_opsdesk_user, x_opsdesk_role)


Reader = Annotated[Ctx, Depends(_reader)]
Writer = Annotated[Ctx, Depends(_writer)]


def not_found(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"{what} not found")


def unprocessable(errors: list[tuple[str, str]]) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        [{"loc": ["body", *field.split(".")], "msg": message, "type": "value_error"} for field, message in errors],
    )
