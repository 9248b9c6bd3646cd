"""No request leaves the prefix it was routed by: a dot segment in the path is a 404 before any routing.

`rest:path` would carry `..` to the service behind (and the HTTP client would fold it away), so
`/api/v1/kb/../metrics` reached knowledge's /metrics. Checked on the decoded path and on the raw one, so `%2e%2e`,
`%2E.` and a doubly encoded `%252e` are caught as well as plain dots; an encoded slash or backslash (`%2f`, `%5c`)
would split a segment differently here and behind, so it is refused too.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from ..entrypoints.errors import error_response

DOT_SEGMENTS = frozenset({".", ".."})
# After one decoding, anything still percent-encoded that means a dot, a slash or a backslash.
ENCODED_SEPARATORS = re.compile(r"%(2e|2f|5c)", re.IGNORECASE)
ENCODED_SLASH = re.compile(r"%(2f|5c)", re.IGNORECASE)


def walks_out(path: str, raw_path: bytes | None) -> bool:
    """True when the path has a dot segment in any spelling, or an encoded separator."""
    decoded = [path]
    if raw_path is not None:
        raw = raw_path.decode("latin-1")
        if ENCODED_SLASH.search(raw):
            return True
        decoded.append(unquote(raw))
    for candidate in decoded:
        # Still encoded after one decoding: a doubly encoded dot or slash that a later decoding would turn back.
        if "\\" in candidate or ENCODED_SEPARATORS.search(candidate):
            return True
        if any(segment in DOT_SEGMENTS for segment in candidate.split("/")):
            return True
    return False


class DotSegmentGuard:
    """Outermost middleware of the gateway: 404 in the gateway's error shape for a path that walks out."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and walks_out(scope.get("path", ""), scope.get("raw_path")):
            response = error_response(Request(scope), 404, detail="no such path")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
