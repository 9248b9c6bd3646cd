"""`/`: each role's home. The desk's queue; minimal pages for the engineer, the requester and the manager that the
engineer's phone and the requester's portal replace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ..api import ApiError, Json
from ..web import Ctx, signed_in
from .desk import desk_home

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
        items, error = await _tickets(ctx, [("status", s) for s in ("assigned", "in_progress", "pending")] + [("limit", "100")])
        return ctx.render("home/engineer.html", items=items, error=error)
    if role == "requester":
        items, error = await _tickets(ctx, [("limit", "100")])
        return ctx.render("home/requester.html", items=items, error=error)
    # manager and auditor: the dashboard (counts by state; the full dashboard comes with the manager's pages)
    counts: dict[str, int] = {}
    error = None
    for state in ("new", "assigned", "in_progress", "pending", "resolved"):
        items, error = await _tickets(ctx, [("status", state), ("limit", "200")])
        counts[state] = len(items)
    return ctx.render("home/manager.html", counts=counts, error=error)
