"""What every route needs: the wired adapters and the caller, as the domain's Actor."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, Response, status

from opsdesk_shared.errors import language
from opsdesk_shared.logs import correlation_id

from ..domain import Actor
from ..wiring import Adapters, PrincipalLike


def adapters(request: Request) -> Adapters:
    return request.app.state.adapters  # type: ignore[no-any-return]


async def actor(request: Request) -> Actor:
    return actor_of(await adapters(request).authenticator.principal(request), request)


def actor_of(principal: PrincipalLike, request: Request) -> Actor:
    """The domain's Actor for an authenticated principal (a bearer credential, or an event stream ticket)."""
    source = request.client.host if request.client else "unknown"
    return Actor(
        subject=principal.subject, name=principal.name, role=principal.role, department=principal.department,
        engineer_id=principal.engineer_id, source=source, language=language(request),
        asked_language=language(request) if request.headers.get("accept-language") else None,
    )


def now() -> datetime:
    return datetime.now(UTC)


def correlation() -> str:
    return correlation_id.get() or str(uuid.uuid4())


def expected_version(if_match: Annotated[str | None, Header(max_length=100, description='The ETag you read, e.g. "3"')] = None) -> int | None:
    """If-Match: the version the client edits; a stale one gets 412. Absent or * means last write wins."""
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise HTTPException(status.HTTP_412_PRECONDITION_FAILED, f"If-Match {if_match!r} is not an ETag this API issued")
    return int(tag)


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


Wired = Annotated[Adapters, Depends(adapters)]
Caller = Annotated[Actor, Depends(actor)]
IfMatch = Annotated[int | None, Depends(expected_version)]
