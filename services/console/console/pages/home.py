"""`/`: each role's home. The desk's queue, the engineer's phone (my assignments), the requester's portal (my
tickets), a minimal dashboard for managers and auditors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ..api import ApiError, Json
from ..web import Ctx, signed_in
from .desk import desk_home
from .engineer import engineer_home
from .portal import requester_home

router = APIRouter()


async def _tickets(ctx: Ctx, params: list[tuple[str, str]]) -> tuple[list[Json], str | None]:
    try:
        return (await ctx.api.tickets(ctx.token, lang=ctx.lang, params=params))["items"], None
    except ApiError as exc:
        return [], exc.message


@router.get("/")
async def home(ctx: Annotated[Ctx, Depends(signed_in)]) -> Response:
    assert ctx.session is not None
    role = ctx.session.role
    if role in ("agent", "admin"):
        return await desk_home(ctx)
    if role == "engineer":
        return await engineer_home(ctx)
    if role == "requester":
        return await requester_home(ctx)
    # manager and auditor: the dashboard (counts by state; the full dashboard comes with the manager's pages)
    counts: dict[str, int] = {}
    error = None
    for state in ("new", "assigned", "in_progress", "pending", "resolved"):
        items, error = await _tickets(ctx, [("status", state), ("limit", "200")])
        counts[state] = len(items)
    return ctx.render("home/manager.html", counts=counts, error=error)
