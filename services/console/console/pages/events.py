"""Live events for the page: `/events/ticket`.

`GET /events/ticket` (the session cookie; JSON) asks the gateway for an event stream ticket with the session's token
(`POST /api/v1/events/tickets`) and gives the page only the ticket: the page opens the gateway's own
`/api/v1/events/stream?ticket=...` with EventSource, so no frame passes through this process (issue 15's 200-console
bar). The token never leaves the server; the ticket opens that person's stream for a minute and does nothing else.
Signed out (no session, or the gateway refuses the session's token): 401, and the page reloads to sign in.

The console used to relay the gateway's stream itself (`/events`); it cost the 200-console bar (p99 1,975 ms at 10
events/s) and no page used it after the stream tickets, so it is gone: every client reads the gateway's stream.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ..api import ApiError
from ..web import context

router = APIRouter()


def retry_ms(exc: ApiError) -> int:
    """When the browser should come back: the gateway's Retry-After (429: this person has too many streams open,
    503: the gateway is full), else 15 s."""
    try:
        seconds = float(dict((k.lower(), v) for k, v in exc.headers.items()).get("retry-after", ""))
    except ValueError:
        return 15_000
    return int(min(max(seconds, 1.0), 60.0) * 1000)


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
