"""The desk's workspace: the queues with their counts, filters and search."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from .. import queues
from ..api import ApiError, Json
from ..web import Ctx, cached, remember, signed_in

router = APIRouter()
PAGE = 200
MAX_PAGES = 5
CLOCK_TTL_S = 20.0
# A row's clocks are kept between 1 and 3 times CLOCK_TTL_S (keyed by the ticket's version, so a change is read at
# once; the SLA monitor starts and stops clocks a moment after the change, hence the expiry): kept spread out, the
# window's rows do not all expire in the same second.
CLOCK_SPREAD = 3.0
CLOCK_CHUNK = 100  # GET /timers takes up to 100 tickets at once
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


async def open_among(ctx: Ctx, ids: list[str], filters: Filters) -> tuple[list[Json], bool]:
    """The list summaries of those of these tickets (the derived queues' members, known from the SLA monitor's clocks)
    that are open and match the search and filters: asked by id, up to MAX_PAGES calls of PAGE ids at once; True when
    some were not asked. Reading every open match instead (up to 1,000 summaries) made a filtered queue 300 ms at
    100,000 tickets."""
    asked = ids[: PAGE * MAX_PAGES]
    chunks = [asked[i : i + PAGE] for i in range(0, len(asked), PAGE)]
    open_states = [("status", s) for s in queues.OPEN_STATES]
    pages = await asyncio.gather(*(
        ctx.api.tickets(ctx.token, lang=ctx.lang, params=[*(("id", i) for i in chunk), *open_states, *filters.params(), ("limit", str(PAGE))])
        for chunk in chunks
    ))
    return [item for page in pages for item in page["items"]], len(ids) > len(asked)


def _clock_key(summary: Json) -> tuple[str, str, str]:
    return ("clocks", summary["id"], str(summary["version"]))


async def row_clocks(ctx: Ctx, summaries: list[Json]) -> dict[str, Json]:
    """Each row's running clocks, as a detail's `sla` (`{"sla": [...]}`), from GET /timers?ticket=... (100 tickets a
    call) and kept per (ticket, version) for a few seconds. One call instead of a ticket detail per row: the first
    view of a queue read 60 details (0.6-0.9 s at 100,000 tickets) whenever the cache had run out. A row whose
    clocks cannot be read now shows none."""
    out: dict[str, Json] = {}
    missing: list[Json] = []
    for summary in summaries:
        hit = cached(ctx.console, _clock_key(summary), CLOCK_TTL_S)
        if hit is not None:
            out[summary["id"]] = hit
        else:
            missing.append(summary)
    chunks = [missing[i : i + CLOCK_CHUNK] for i in range(0, len(missing), CLOCK_CHUNK)]
    replies = await asyncio.gather(*(
        ctx.api.timers(ctx.token, lang=ctx.lang, params=[("ticket", s["id"]) for s in chunk], pages=1) for chunk in chunks
    ), return_exceptions=True)
    for chunk, reply in zip(chunks, replies, strict=True):
        if isinstance(reply, BaseException):
            if not isinstance(reply, ApiError):
                raise reply
            continue
        by_ticket: dict[str, list[Json]] = {s["id"]: [] for s in chunk}
        for timer in reply[0]:
            by_ticket.get(str(timer.get("ticket_id")), []).append(timer)
        for summary in chunk:
            value = {"sla": by_ticket[summary["id"]]}
            remember(ctx.console, _clock_key(summary), value, CLOCK_TTL_S * random.uniform(1.0, CLOCK_SPREAD))
            out[summary["id"]] = value
    return out


async def clocks(ctx: Ctx) -> tuple[dict[str, list[Json]], bool]:
    """The SLA monitor's running clocks due within 15 minutes or past their warning, by ticket; True when capped."""
    lists = await asyncio.gather(*(
        ctx.api.timers(ctx.token, lang=ctx.lang, params=params) for params in queues.clock_queries(ctx.now())
    ))
    return queues.clocks_by_ticket([t for items, _ in lists for t in items]), any(more for _, more in lists)


async def workspace(ctx: Ctx, key: str, filters: Filters) -> Workspace:
    """Listed queues and their counts straight from the API (one page, one count call); at risk and breached from
    the SLA monitor's list of running clocks (exact counts). With a search or filter, the derived queues keep those of
    their tickets the ticket list finds open and matching (asked by id). Rows show their most urgent clock from the
    details of at most the window's rows."""
    window = ctx.console.settings.detail_window
    current = queues.queue(key)
    counts_call = ctx.api.ticket_counts(ctx.token, lang=ctx.lang, params=filters.params())
    scoped = bool(filters.params())
    if current.derived:
        counts, (by_ticket, clocks_more) = await asyncio.gather(counts_call, clocks(ctx))
        shown: list[Json] = []
    else:
        listing = ctx.api.tickets(ctx.token, lang=ctx.lang, params=[*current.params, *filters.params(), ("limit", str(PAGE))])
        counts, page, (by_ticket, clocks_more) = await asyncio.gather(counts_call, listing, clocks(ctx))
        shown = page["items"]
    now = ctx.now()
    members = {q.key: queues.derived_members(q.key, by_ticket, now) for q in queues.QUEUES if q.derived}
    scope_more = False
    capped: set[str] = set()
    allowed: dict[str, Json] = {}
    if scoped:
        # most urgent first, so a cap leaves out the least urgent
        wanted = list(dict.fromkeys(i for ids in zip_longest(*members.values()) for i in ids if i is not None))
        scope, scope_more = await open_among(ctx, wanted, filters) if wanted else ([], False)
        allowed = {s["id"]: s for s in scope}
        members = {k: [i for i in ids if i in allowed] for k, ids in members.items()}
    for k, ids in members.items():
        counts[k] = len(ids)
        if clocks_more or scope_more:
            capped.add(k)
    if current.derived:
        ids = members[key][:window]
        # the window (CONSOLE_DETAIL_WINDOW, at most 500) is within open_among's 1,000: never capped here
        found = allowed if scoped else {s["id"]: s for s in (await open_among(ctx, ids, Filters()))[0]}
        # the listed clocks hold each member's most urgent one (any earlier clock is due within 15 minutes too)
        rows = [Row(found[i], {"sla": by_ticket.get(i, [])}) for i in ids if i in found]
        rows.sort(key=lambda r: (r.clock or {}).get("due_at") or "")
    else:
        known = await row_clocks(ctx, shown[:window])
        rows = [Row(s, known.get(s["id"])) for s in shown]
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
