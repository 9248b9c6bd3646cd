"""Live events for the page: `/events/ticket`, and the older `/events` relay.

`GET /events/ticket` (the session cookie; JSON) asks the gateway for an event stream ticket with the session's token
(`POST /api/v1/events/tickets`) and gives the page only the ticket: the page opens the gateway's own
`/api/v1/events/stream?ticket=...` with EventSource, so no frame passes through this process (issue 15's 200-console
bar). The token never leaves the server; the ticket opens that person's stream for a minute and does nothing else.
Signed out (no session, or the gateway refuses the session's token): 401, and the page reloads to sign in.

`/events`: the gateway's event stream relayed to the browser under the session cookie (the token stays here); the
console's pages no longer use it, other clients of the console may.

The browser's EventSource reconnects by itself and sends Last-Event-ID, which is passed on so the gateway resumes
from the next event. A keepalive comment every 2 s lets a browser that navigated away be noticed at once. A gateway without the stream (404) or a lost connection ends the response with a `retry:`
hint; the page then reconnects later.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from ..api import ApiError
from ..web import Ctx, context, signed_in

router = APIRouter()


KEEPALIVE_S = 2.0


def retry_ms(exc: ApiError) -> int:
    """When the browser should come back: the gateway's Retry-After (429: this person has too many streams open,
    503: the gateway is full), else 15 s."""
    try:
        seconds = float(dict((k.lower(), v) for k, v in exc.headers.items()).get("retry-after", ""))
    except ValueError:
        return 15_000
    return int(min(max(seconds, 1.0), 60.0) * 1000)
KEEPALIVE = b": keepalive\n\n"


@router.get("/events/ticket")
async def events_ticket(request: Request) -> Response:
    """`{"ticket", "expires_at"}` for this session's person; 401 `{"signed_in": false}` when there is no session or
    its token is no longer good; the gateway's other refusals (429, 503) pass with their Retry-After."""
    ctx = context(request)
    if ctx.session is None:
        return ctx.finish(JSONResponse({"signed_in": False}, status_code=401))
    try:
        reply = await ctx.api.call("POST", "/events/tickets", token=ctx.token, lang=ctx.lang)
    except ApiError as exc:
        if exc.status == 401:
            return ctx.finish(JSONResponse({"signed_in": False}, status_code=401))
        status_code = exc.status if exc.status in (429, 503) else 503
        return ctx.finish(JSONResponse({"error": exc.code or "unavailable"}, status_code=status_code,
                                       headers={"Retry-After": str(retry_ms(exc) // 1000)}))
    body = reply.body if isinstance(reply.body, dict) else {}
    return ctx.finish(JSONResponse({"ticket": body.get("ticket"), "expires_at": body.get("expires_at")}))


@router.get("/events")
async def events(ctx: Annotated[Ctx, Depends(signed_in)]) -> Response:
    last = ctx.request.headers.get("last-event-id")

    async def upstream_chunks(queue: asyncio.Queue[bytes | BaseException | None]) -> None:
        try:
            async with ctx.api.stream(ctx.token, lang=ctx.lang, last_event_id=last) as upstream:
                async for chunk in upstream.aiter_raw():
                    await queue.put(chunk)
            await queue.put(None)
        except (ApiError, Exception) as exc:  # handed to the relay, which answers for it
            await queue.put(exc)

    async def relay() -> AsyncIterator[bytes]:
        # A comment every few seconds between frames: a browser that left (a click to the next page) is noticed at
        # the next write, here and at the gateway's proxy in front, so its stream (a few per user at the gateway)
        # is given back at once rather than at the upstream's next heartbeat.
        queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue(maxsize=64)
        reader = asyncio.create_task(upstream_chunks(queue))
        at_boundary = True
        try:
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_S)
                except TimeoutError:
                    if at_boundary:
                        yield KEEPALIVE
                    continue
                if item is None:
                    return
                if isinstance(item, ApiError):
                    # 401: the session's token ran out; the page reloads to sign in. Else try again in a while.
                    if item.status == 401:
                        yield b"event: signed_out\ndata: {}\n\n"
                    yield f"retry: {retry_ms(item)}\n\n".encode()
                    return
                if isinstance(item, BaseException):
                    yield b"retry: 5000\n\n"
                    return
                at_boundary = item.endswith(b"\n\n") or item.endswith(b"\r\n\r\n")
                yield item
        finally:
            # Shielded: Starlette cancels this generator through an anyio scope, which cancels every await in it
            # again; without the shield the reader's close of the upstream response never ran and the person's
            # stream at the gateway stayed open (a few per user, then 429 for every new page).
            reader.cancel()
            with anyio.CancelScope(shield=True), contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(reader, timeout=5)

    return StreamingResponse(relay(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
