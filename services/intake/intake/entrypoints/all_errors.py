"""Every field error of a new ticket in one 422 (issue 13, H1 item 6): a body whose schema fails (a too-long title)
and whose values break the desk's rules (an unknown catalog code, an asset tag assets never announced, a requester
setting the priority) hears about all of them at once, in the one error shape, instead of one batch per attempt.

FastAPI validates the schema before the route runs, so the route class below catches that failure, checks the raw
body against the same rules the use case applies (domain.new_ticket_problems, known_tags), and raises one
RequestValidationError with both; the route itself does the same check before the use case when the schema passes.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from .. import domain, known_tags
from ..domain import Actor, InvalidField
from ..texts import Said
from ..wiring import Adapters
from . import deps


def _error(problem: InvalidField) -> dict[str, Any]:
    return {"loc": problem.loc, "msg": problem.msg, "type": "value_error"}


async def ticket_problems(fields: Any, *, actor: Actor, wired: Adapters) -> list[dict[str, Any]]:
    """The desk's rules broken by a new ticket's fields (raw or validated), as field errors."""
    if not isinstance(fields, Mapping):
        return []
    code = fields.get("service_code")
    service = wired.catalog.get(code) if isinstance(code, str) else None
    found = [_error(p) for p in domain.new_ticket_problems(fields, actor=actor, service=service, now=deps.now())]
    tag = fields.get("asset_tag")
    if isinstance(tag, str) and tag:
        try:
            await known_tags.require_known(tag, wired.tags)
        except InvalidField as problem:
            found.append(_error(problem))
    if actor.role != "requester" and fields.get("requester") is None:
        found.append({"loc": ("body", "requester"), "msg": Said("err.say_requester"), "type": "missing"})
    return found


def refuse(problems: list[dict[str, Any]], body: Any) -> None:
    """One 422 with every problem; nothing when there is none."""
    if problems:
        raise RequestValidationError(problems, body=body)


class AllFieldErrors(APIRoute):
    """A route whose schema errors come together with the desk's own field errors in one 422."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def collecting(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                actor = await deps.actor(request)  # signed in already: authentication runs before the body is read
                more = await ticket_problems(exc.body, actor=actor, wired=deps.adapters(request))
                seen = {tuple(e.get("loc", ())) for e in exc.errors()}
                extra = [p for p in more if tuple(p["loc"]) not in seen and p["loc"][:2] not in {loc[:2] for loc in seen}]
                if not extra:
                    raise
                raise RequestValidationError([*exc.errors(), *extra], body=exc.body) from None

        return collecting
