"""`/events`: the gateway's event stream relayed to the browser under the session cookie (the token stays here).

The browser's EventSource reconnects by itself and sends Last-Event-ID, which is passed on so the gateway resumes
from the next event. A gateway without the stream (404) or a lost connection ends the response with a `retry:`
hint; the page then reconnects later.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response, StreamingResponse

from ..api import ApiError
from ..web import Ctx, signed_in

router = APIRouter()


@router.get("/events")
async def events(ctx: Annotated[Ctx, Depends(signed_in)]) -> Response:
    last = ctx.request.headers.get("last-event-id")

    async def relay() -> AsyncIterator[bytes]:
        try:
            async with ctx.api.stream(ctx.token, lang=ctx.lang, last_event_id=last) as upstream:
                async for chunk in upstream.aiter_raw():
                    if await ctx.request.is_disconnected():
                        return
                    yield chunk
        except ApiError as exc:
            # 401: the session's token ran out; the page reloads to sign in. Else try again in a while.
            if exc.status == 401:
                yield b"event: signed_out\ndata: {}\n\n"
            yield b"retry: 15000\n\n"
        except Exception:
            yield b"retry: 5000\n\n"

    return StreamingResponse(relay(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
