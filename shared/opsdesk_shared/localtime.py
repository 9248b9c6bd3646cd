"""The site's local time, in one place: what zone people live in, how times leave and how they come in.

- Out: every JSON response of every service shows instants with the site's offset (`2026-11-30T15:00:00+08:00`),
  rewritten once by `LocalTimeMiddleware`, which `build_service_app` installs. Stores and events stay UTC (the
  event contracts say so); only what a person or an outside system reads over HTTP is local.
- In: an instant without an offset is ambiguous (a desk in Shanghai and a server in UTC read "15:00" eight hours
  apart), so request models and query parameters use `AwareDatetime`, which refuses it with a 422 naming the field.
  Date-only filters (`created_from=2026-11-30`) are local dates: `LocalDateFrom` starts at 00:00 local and
  `LocalDateTo` is the next local midnight, so with the usual exclusive comparison (`moment < to`) the named day
  is included whole.

The zone is `OPSDESK_TIMEZONE` (default Asia/Shanghai), read through ServiceSettings; `configure` sets it for the
process when an app is built.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BeforeValidator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_TIMEZONE = "Asia/Shanghai"
_configured: str | None = None


@lru_cache(maxsize=8)
def zone(name: str) -> ZoneInfo:
    """A zone by IANA name; ValueError (not ZoneInfoNotFoundError) so settings validation reports it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as Asia/Shanghai") from None


def configure(name: str) -> None:
    """Set the site's zone for this process (build_service_app calls it with the service's setting)."""
    global _configured
    zone(name)
    _configured = name


def site_zone() -> ZoneInfo:
    """The site's zone: the configured one, else OPSDESK_TIMEZONE, else Asia/Shanghai."""
    return zone(_configured or os.environ.get("OPSDESK_TIMEZONE") or DEFAULT_TIMEZONE)


def to_local(value: datetime) -> datetime:
    """An aware instant shown in the site's zone (same instant, local offset)."""
    if value.tzinfo is None:
        raise ValueError("a time without an offset has no place on the time line")
    return value.astimezone(site_zone())


# --- in: request values -------------------------------------------------------------------------------------------

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _local_day(value: Any, *, end: bool) -> Any:
    """`2026-11-30` (a string or a date) becomes the start, or the exclusive end, of that day in the site's zone;
    anything else passes on to AwareDatetime, which parses it and refuses a time without an offset."""
    day: date | None = None
    if isinstance(value, str) and _DATE_ONLY.match(value.strip()):
        day = date.fromisoformat(value.strip())
    elif isinstance(value, date) and not isinstance(value, datetime):
        day = value
    if day is None:
        return value
    # `_to` bounds are exclusive instants (`moment < to`), so the whole named day is in: its end is the next local midnight.
    return datetime.combine(day + timedelta(days=1) if end else day, time.min, tzinfo=site_zone())


def local_day_start(value: Any) -> Any:
    return _local_day(value, end=False)


def local_day_end(value: Any) -> Any:
    return _local_day(value, end=True)


# A date-only value means the start of that local day; a date-time must carry its offset.
LocalDateFrom = Annotated[AwareDatetime, BeforeValidator(local_day_start)]
# A date-only value means through the end of that local day (the next local midnight, an exclusive bound); a
# date-time must carry its offset.
LocalDateTo = Annotated[AwareDatetime, BeforeValidator(local_day_end)]

# Descriptions for the OpenAPI document, so every list says the same about its date filters.
FROM_HELP = "From this instant (ISO 8601 with offset), or from 00:00 local time of a date (2026-11-30)"
TO_HELP = "Before this instant (ISO 8601 with offset), or through the end of a local date (2026-11-30)"

__all__ = [
    "FROM_HELP", "TO_HELP", "AwareDatetime", "DEFAULT_TIMEZONE", "LocalDateFrom", "LocalDateTo", "LocalTimeMiddleware", "configure",
    "localize_json", "site_zone", "to_local", "zone",
]


# --- out: responses -----------------------------------------------------------------------------------------------

# A whole JSON string token holding an ISO 8601 instant with an offset, in a value position (after `:`, `[` or `,`)
# and followed by the end of that value. In valid JSON a quote inside a string is always escaped, so an unescaped
# quote right after a structural character starts a token: text that merely contains a date is never touched.
_INSTANT = re.compile(
    rb'([:\[,]\s*)"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|z|[+-]\d{2}:?\d{2}))"(?=\s*[,}\]])'
)


def _localize(match: re.Match[bytes]) -> bytes:
    text = match.group(2).decode("ascii")
    try:
        local = datetime.fromisoformat(text).astimezone(site_zone())
    except (ValueError, OverflowError):
        return match.group(0)  # not a real instant, or one at the very edge of the calendar: leave it as written
    return match.group(1) + b'"' + local.isoformat().encode("ascii") + b'"'


def localize_json(body: bytes) -> bytes:
    """Every instant in a JSON document shown with the site's offset; anything else byte for byte as it was."""
    return _INSTANT.sub(_localize, body)


class LocalTimeMiddleware:
    """Rewrites instants in JSON responses to the site's offset, whatever serialised them (a response model on
    pydantic's fast path, jsonable_encoder, or a handler's own JSONResponse): one rule for every route.

    Machine documents that describe UTC contracts (AsyncAPI, OpenAPI) pass untouched; non-JSON bodies stream as they are.
    """

    SKIP_SUFFIXES = ("openapi.json", "asyncapi.json")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").endswith(self.SKIP_SUFFIXES):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def rewriting_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                content_type = dict(message.get("headers") or []).get(b"content-type", b"").split(b";")[0].strip().lower()
                if content_type == b"application/json" or content_type.endswith(b"+json"):
                    start = message
                    return
                await send(message)
                return
            if message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = localize_json(b"".join(chunks))
                kept = [(k, v) for k, v in start.get("headers") or [] if k.lower() != b"content-length"]
                kept.append((b"content-length", str(len(body)).encode("ascii")))
                await send({**start, "headers": kept})
                await send({"type": "http.response.body", "body": body, "more_body": False})
                return
            await send(message)

        await self.app(scope, receive, rewriting_send)
