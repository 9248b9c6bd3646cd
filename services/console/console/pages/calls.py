"""A phone call: the new-ticket form, requester look-up, knowledge suggestions, resolve at the desk or dispatch."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from opsdesk_shared.hanzi import in_both_scripts

from .. import i18n, problems
from ..api import ApiError, Json
from ..web import Ctx, cached, checked, remember, signed_in

router = APIRouter()
FAMILIES = ("responsive", "proactive", "management", "reporting")
LEVELS = ("high", "medium", "low")
FIELDS = ("requester_name", "requester_phone", "requester_department", "requester_id", "title", "description", "service_code",
          "impact", "urgency", "reported_at", "asset_tag", "site", "article_id", "resolution", "guidance_minutes", "started",
          "emergency")


async def catalog(ctx: Ctx) -> list[Json]:
    key = ("catalog", ctx.lang)
    hit = cached(ctx.console, key, 60.0)
    if hit is None:
        hit = [s for s in await ctx.api.catalog(ctx.token, lang=ctx.lang) if s.get("active", True)]
        remember(ctx.console, key, hit, 60.0)
    return hit  # type: ignore[no-any-return]


async def service_names(ctx: Ctx) -> dict[str, str]:
    """Catalog code -> the service's name in the reader's language (people read names, not codes)."""
    try:
        return {str(s.get("code")): str(s.get("name") or s.get("code")) for s in await catalog(ctx)}
    except ApiError:
        return {}


async def priority_preview_of(ctx: Ctx, impact: str | None, urgency: str | None) -> str | None:
    """The priority a ticket with this impact and urgency gets, read from the API's matrix (intake owns the rule;
    the console keeps no copy). None when either is missing (the service's default applies) or the API is away."""
    if not impact or not urgency:
        return None
    matrix = cached(ctx.console, ("priority-matrix",), 300.0)
    if matrix is None:
        try:
            body = await ctx.api.priority_matrix(ctx.token, lang=ctx.lang)
        except ApiError:
            return None
        matrix = {(str(c.get("impact")), str(c.get("urgency"))): str(c.get("priority")) for c in body.get("cells", [])}
        remember(ctx.console, ("priority-matrix",), matrix, 300.0)
    found = matrix.get((impact, urgency))
    return str(found) if found else None


def search_text(service: Json, said: list[Any]) -> str:
    """What the call form's service filter matches as the agent types: code, names in every language, the common
    problems that lead to the service, each in simplified and traditional script (打印機 finds 打印机, walk 15)."""
    names = " ".join(str(n) for n in ((service.get("labels") or {}).get("name") or {}).values())
    return in_both_scripts(f"{service.get('code', '')} {service.get('name', '')} {names} {problems.search_words(service, said)}")


def by_family(services: list[Json]) -> list[tuple[str, list[Json]]]:
    return [(f, [s for s in services if s.get("family") == f]) for f in FAMILIES if any(s.get("family") == f for s in services)]


def local_input(ctx: Ctx, when: datetime) -> str:
    """A datetime-local input's value in the site's zone."""
    return when.astimezone(ctx.console.zone).strftime("%Y-%m-%dT%H:%M")


async def _form(ctx: Ctx, values: dict[str, str], errors: list[str], status_code: int = 200) -> Response:
    try:
        services = await catalog(ctx)
    except ApiError as exc:
        if exc.status == 401:
            return ctx.redirect("/login")
        services, errors = [], [*errors, exc.message]
    defaults = {k: "" for k in FIELDS}
    defaults["reported_at"] = local_input(ctx, ctx.now())
    defaults["started"] = str(int(ctx.now().timestamp()))
    defaults.update({k: v for k, v in values.items() if v})
    said = [i18n.translations(lang).gettext for lang in i18n.LANGUAGES]
    services = [{**s, "search": search_text(s, said)} for s in services]
    return ctx.render(
        "call/page.html", status_code=status_code, families=by_family(services), levels=LEVELS, v=defaults, errors=errors,
        preview=await priority_preview_of(ctx, defaults.get("impact"), defaults.get("urgency")),
    )


@router.get("/calls/new")
async def new_call(ctx: Annotated[Ctx, Depends(signed_in)]) -> Response:
    return await _form(ctx, {}, [])


@router.get("/calls/requesters")
async def requesters(ctx: Annotated[Ctx, Depends(signed_in)], requester_name: str = "") -> Response:
    """The caller found in the desk's directory (GET /people) by name, phone or department as the agent types."""
    who = requester_name.strip()[:100]
    found: list[dict[str, Any]] = []
    if who:
        try:
            found = await ctx.api.people(ctx.token, who, lang=ctx.lang, limit=8)
        except ApiError:
            found = []
    return ctx.render("call/requesters.html", found=found, who=who)


@router.get("/calls/suggestions")
async def suggestions(ctx: Annotated[Ctx, Depends(signed_in)], title: str = "", description: str = "", article_id: str = "") -> Response:
    text = f"{title} {description}".strip()[:500]
    hits: list[Json] = []
    if text:
        try:
            hits = (await ctx.api.kb_search(ctx.token, text, lang=ctx.lang, limit=5)).get("results", [])
        except ApiError:
            hits = []
    return ctx.render("call/suggestions.html", hits=hits, chosen=article_id)


@router.get("/calls/priority")
async def priority_preview(ctx: Annotated[Ctx, Depends(signed_in)], impact: str = "", urgency: str = "") -> Response:
    return ctx.render("call/priority.html", preview=await priority_preview_of(ctx, impact or None, urgency or None))


def ticket_body(values: dict[str, str], *, reported_at: str | None, desk_first: bool) -> Json:
    requester: Json = {"name": values.get("requester_name", "")}
    for key, field in (("requester_phone", "phone"), ("requester_department", "department")):
        if values.get(key):
            requester[field] = values[key]
    body: Json = {
        "title": values.get("title", ""), "description": values.get("description", ""), "requester": requester,
        "channel": "hotline", "service_code": values.get("service_code", ""), "desk_first": desk_first,
    }
    for key in ("asset_tag", "site", "impact", "urgency", "requester_id"):
        if values.get(key):
            body[key] = values[key]
    if reported_at:
        body["reported_at"] = reported_at
    if values.get("emergency") and not desk_first:
        # Emergency work goes on before the agency's authorization, on its authorization clock (the API ignores the
        # flag for a service that needs no authorization).
        body["emergency"] = True
    return body


def reported_instant(ctx: Ctx, value: str) -> str | None:
    """The form's local wall-clock time as an instant with the site's offset."""
    if not value:
        return None
    try:
        local = datetime.fromisoformat(value)
    except ValueError:
        return None
    return local.replace(tzinfo=ctx.console.zone).isoformat() if local.tzinfo is None else local.isoformat()


@router.post("/calls")
async def record_call(ctx: Annotated[Ctx, Depends(checked)]) -> Response:
    form = await ctx.request.form()
    values = {k: str(form.get(k) or "").strip() for k in FIELDS}
    outcome = str(form.get("outcome") or "dispatch")
    at_desk = outcome == "resolve"
    body = ticket_body(values, reported_at=reported_instant(ctx, values["reported_at"]), desk_first=at_desk)
    try:
        created = (await ctx.api.create_ticket(ctx.token, body, lang=ctx.lang)).body
    except ApiError as exc:
        if exc.status == 401:
            return ctx.redirect("/login")
        return await _form(ctx, values, exc.field_messages(), status_code=200)
    number = created["number"]
    if at_desk:
        resolve: Json = {"resolution": values["resolution"] or values["title"], "at_desk": True}
        if values["article_id"]:
            resolve["article_id"] = values["article_id"]
        try:
            minutes = float(values["guidance_minutes"]) if values["guidance_minutes"] else None
        except ValueError:
            minutes = None
        if minutes is not None:
            resolve["guidance_minutes"] = min(max(minutes, 0.0), 5.0)
        try:
            await ctx.api.act(ctx.token, created["id"], "resolve", resolve, lang=ctx.lang)
        except ApiError as exc:
            # The ticket exists: show it with the refusal rather than lose the call.
            from .tickets import render_ticket

            return await render_ticket(ctx, number, template="ticket/page.html", errors=exc.field_messages())
    return ctx.redirect(f"/tickets/{number}")
