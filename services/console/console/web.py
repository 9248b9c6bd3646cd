"""What every page shares: the person's session, language and CSRF token, the templates, and rendering.

Pages are edges: a handler reads through the API client, renders a template and holds no rules. A fragment htmx
swaps is the same template the full page includes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from . import clock, i18n
from .api import Gateway
from .session import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    LANG_COOKIE,
    SESSION_COOKIE,
    Session,
    SessionSealer,
    csrf_matches,
    new_csrf_token,
)
from .settings import ConsoleSettings

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


@dataclass
class Console:
    """The app's parts, built once in main and kept on app.state."""

    settings: ConsoleSettings
    gateway: Gateway
    sealer: SessionSealer
    zone: ZoneInfo
    env: Environment
    cache: dict[tuple[str, ...], tuple[float, Any]] = field(default_factory=dict)


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["urlquote"] = lambda v: quote(str(v), safe="")
    return env


@dataclass
class Ctx:
    """One request as the pages see it."""

    request: Request
    console: Console
    session: Session | None
    lang: str
    csrf: str
    new_csrf: bool

    @property
    def api(self) -> Gateway:
        return self.console.gateway

    @property
    def token(self) -> str:
        assert self.session is not None
        return self.session.token

    def gettext(self, message: str) -> str:
        return i18n.translations(self.lang).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return i18n.translations(self.lang).ngettext(singular, plural, n)

    def named(self, kind: str, value: Any) -> str:
        """A code the API sends (a calendar, an engineer's role, a duty mode, a channel's kind) as a person says it:
        the catalogue's `kind.value`, or the code itself when the catalogue has no name for it (one added later)."""
        key = f"{kind}.{value}"
        said = self.gettext(key)
        return str(value) if said == key else said

    def now(self) -> datetime:
        return datetime.now(UTC)

    def local(self, value: Any, with_date: bool = True) -> str:
        return clock.local_time(value, self.console.zone, with_date=with_date)

    def clock(self, timer: dict[str, Any]) -> clock.ClockView:
        return clock.clock_view(timer, self.now(), self.gettext, self.ngettext)

    def relative(self, value: Any) -> str:
        instant = clock.parse_instant(value)
        return clock.relative(instant, self.now(), self.gettext, self.ngettext) if instant else ""

    def render(self, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
        page = self.console.env.get_template(template).render(
            ctx=self, session=self.session, lang=self.lang, languages=i18n.LANGUAGES, csrf=self.csrf, csrf_field=CSRF_FIELD,
            _=self.gettext, ngettext=self.ngettext, named=self.named, local=self.local, relative=self.relative, clock=self.clock,
            path=self.request.url.path, **values,
        )
        response = HTMLResponse(page, status_code=status_code)
        self.finish(response)
        return response

    def finish(self, response: Response) -> Response:
        if self.new_csrf:
            response.set_cookie(CSRF_COOKIE, self.csrf, httponly=True, samesite="strict", secure=secure(self.request, self.console), path="/")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    def redirect(self, url: str) -> Response:
        """A redirect that htmx follows as a full navigation (HX-Redirect) and a browser as a 303."""
        if self.request.headers.get("hx-request"):
            response: Response = Response(status_code=204, headers={"HX-Redirect": url})
        else:
            response = RedirectResponse(url, status_code=303)
        return self.finish(response)


def secure(request: Request, console: Console) -> bool:
    mode = console.settings.secure_cookies
    if mode != "auto":
        return mode == "always"
    return request.headers.get("x-forwarded-proto", request.url.scheme) == "https"


def context(request: Request) -> Ctx:
    console: Console = request.app.state.console
    session = console.sealer.open(request.cookies.get(SESSION_COOKIE))
    chosen = request.cookies.get(LANG_COOKIE)
    lang = i18n.negotiate(request.headers.get("accept-language"), chosen)
    csrf = request.cookies.get(CSRF_COOKIE) or ""
    return Ctx(request, console, session, lang, csrf or new_csrf_token(), new_csrf=not csrf)


class SignInRequired(Exception):
    """Raised by a page that needs a session; answered with a redirect to /login."""


def signed_in(request: Request) -> Ctx:
    ctx = context(request)
    if ctx.session is None:
        raise SignInRequired()
    return ctx


async def checked(request: Request) -> Ctx:
    """For state-changing requests: signed in, and the CSRF token sent back matches the cookie."""
    ctx = signed_in(request)
    await require_csrf(request, ctx)
    return ctx


async def require_csrf(request: Request, ctx: Ctx) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if ctx.new_csrf or not csrf_matches(request.cookies.get(CSRF_COOKIE), sent):
        raise HTTPException(403, "CSRF token missing or wrong; reload the page")


def cached(console: Console, key: tuple[str, ...], ttl: float) -> Any:
    hit = console.cache.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    return None


def remember(console: Console, key: tuple[str, ...], value: Any, ttl: float) -> None:
    if len(console.cache) > 5000:
        now = time.monotonic()
        for stale in [k for k, (exp, _) in console.cache.items() if exp <= now]:
            console.cache.pop(stale, None)
        if len(console.cache) > 5000:
            console.cache.clear()
    console.cache[key] = (time.monotonic() + ttl, value)
