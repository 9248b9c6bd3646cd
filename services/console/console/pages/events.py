"""`/events`: the gateway's event stream relayed to the browser under the session cookie (the token stays here).

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
from fastapi import APIRouter, Depends
from fastapi.responses import Response, StreamingResponse

from ..api import ApiError
from ..web import Ctx, signed_in

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
