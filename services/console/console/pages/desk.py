"""The desk's workspace: the queues with their counts, filters and search."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from .. import queues
from ..api import ApiError, Json
from ..web import Ctx, cached, remember, signed_in

router = APIRouter()
PAGE = 200
MAX_PAGES = 5
DETAIL_TTL_S = 20.0
PRIORITIES = ("P1", "P2", "P3", "P4")
CHANNELS = ("hotline", "email", "web", "api", "remote_desktop", "walk_in")


@dataclass
class Filters:
    q: str = ""
    priority: list[str] = field(default_factory=list)
    channel: list[str] = field(default_factory=list)

    def params(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = [("q", self.q)] if self.q else []
        out += [("priority", p) for p in self.priority if p in PRIORITIES]
        out += [("channel", c) for c in self.channel]
        return out

    def query(self) -> str:
        from urllib.parse import urlencode

        return urlencode(self.params())


@dataclass
class Row:
    summary: Json
    detail: Json | None

    @property
    def clock(self) -> Json | None:
        return queues.most_urgent_clock(self.detail) if self.detail else None


@dataclass
class Workspace:
    key: str
    rows: list[Row]
    counts: dict[str, int]
    capped: set[str]
    error: str | None = None


async def list_all(
    ctx: Ctx, statuses: tuple[str, ...], filters: Filters, *, pages: int = MAX_PAGES, limit: int = PAGE,
) -> tuple[list[Json], bool]:
    """Every ticket in these states (newest first), up to pages x limit; True when more were left."""
    items: list[Json] = []
    cursor: str | None = None
    for _ in range(pages):
        params = [("status", s) for s in statuses] + filters.params() + [("limit", str(limit))]
        if cursor:
            params.append(("cursor", cursor))
        page = await ctx.api.tickets(ctx.token, lang=ctx.lang, params=params)
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return items, False
    return items, True


async def details(ctx: Ctx, summaries: list[Json]) -> dict[str, Json]:
    """Each ticket's detail (SLA clocks included), cached per (ticket, version) for a few seconds."""
    out: dict[str, Json] = {}
    gate = asyncio.Semaphore(8)

    async def one(summary: Json) -> None:
        key = ("detail", ctx.session.role if ctx.session else "", summary["id"], str(summary["version"]))
        hit = cached(ctx.console, key, DETAIL_TTL_S)
        if hit is not None:
            out[summary["id"]] = hit
            return
        async with gate:
            try:
                reply = await ctx.api.ticket(ctx.token, summary["id"], lang=ctx.lang)
            except ApiError:
                return
        remember(ctx.console, key, reply.body, DETAIL_TTL_S)
        out[summary["id"]] = reply.body

    await asyncio.gather(*(one(s) for s in summaries))
    return out


async def workspace(ctx: Ctx, key: str, filters: Filters) -> Workspace:
    """Listed queues and their counts straight from the API (one page, one count call); at risk and breached from
    the SLA clocks in the details of the newest open tickets, up to the window (the list carries no clocks yet)."""
    window = ctx.console.settings.detail_window
    current = queues.queue(key)
    counts_call = ctx.api.ticket_counts(ctx.token, lang=ctx.lang, params=filters.params())
    if current.derived:
        counts, (open_items, open_more) = await asyncio.gather(counts_call, list_all(ctx, queues.OPEN_STATES, filters, pages=1, limit=window))
        shown: list[Json] = []
    else:
        listing = ctx.api.tickets(ctx.token, lang=ctx.lang, params=[*current.params, *filters.params(), ("limit", str(PAGE))])
        counts, page, (open_items, open_more) = await asyncio.gather(
            counts_call, listing, list_all(ctx, queues.OPEN_STATES, filters, pages=1, limit=window),
        )
        shown = page["items"]
    # Details: the open tickets the clock queues are decided on, and the rows shown (their clocks), at most a window.
    known = await details(ctx, open_items + [s for s in shown[:window] if s["id"] not in {o["id"] for o in open_items}])
    now = ctx.now()
    capped: set[str] = set()
    for q in queues.QUEUES:
        if q.derived:
            members = [s for s in open_items if s["id"] in known and queues.in_derived(q.key, known[s["id"]], now)]
            counts[q.key] = len(members)
            if open_more:
                capped.add(q.key)
            if q.key == key:
                shown = members
    rows = [Row(s, known.get(s["id"])) for s in shown]
    if key in ("at_risk", "breached"):
        rows.sort(key=lambda r: (r.clock or {}).get("due_at") or "")
    return Workspace(key, rows, counts, capped)


def _filters(q: str, priority: list[str] | None, channel: list[str] | None) -> Filters:
    return Filters(q=q.strip()[:200], priority=[p for p in priority or [] if p in PRIORITIES], channel=[c for c in channel or [] if c in CHANNELS])


async def _page(ctx: Ctx, template: str, queue: str | None, filters: Filters) -> Response:
    key = queues.queue(queue).key
    try:
        ws = await workspace(ctx, key, filters)
    except ApiError as exc:
        if exc.status == 401:
            return ctx.redirect("/login")
        ws = Workspace(key, [], {}, set(), error=exc.message)
    return ctx.render(template, ws=ws, queues=queues.QUEUES, filters=filters, priorities=PRIORITIES, channels=CHANNELS)


async def desk_home(ctx: Ctx, queue: str | None = None, filters: Filters | None = None) -> Response:
    return await _page(ctx, "queue/page.html", queue, filters or Filters())


@router.get("/queue")
async def queue_page(
    ctx: Annotated[Ctx, Depends(signed_in)], queue: str | None = None, q: str = "",
    priority: Annotated[list[str] | None, Query()] = None, channel: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """The full page, or the workspace alone when htmx asks (search, filters, live refresh)."""
    filters = _filters(q, priority, channel)
    template = "queue/workspace.html" if ctx.request.headers.get("hx-request") else "queue/page.html"
    return await _page(ctx, template, queue, filters)
