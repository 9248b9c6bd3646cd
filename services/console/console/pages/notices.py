"""Notices (the in-app channel) and my notification preferences, for every signed-in person.

- `/notices`: my notices, latest first, in my language (`GET /api/v1/notifications/mine`), each ticket's number a
  link to /tickets/{number}; mark one or all read (`POST .../mine/{id}/read`, `POST .../mine/read`).
- `/notices/count`: the header's unread count (htmx loads it after the page, so no page waits for it).
- `/notices/preferences`: which events reach me on which channels, and quiet hours
  (`GET|PUT /api/v1/notifications/preferences`); until I save, what reaches me is my role's choice.
The form's reading and writing is shared with the administrator's role editor (admin /channels).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, Response

from ..api import ApiError, Json
from ..labels import N_
from ..web import Ctx, checked, signed_in

router = APIRouter(prefix="/notices")
# The SLA monitor's event kinds (notifications/templates.py), as a person reads them.
EVENTS: tuple[tuple[str, str], ...] = (
    ("assigned", N_("A ticket is assigned to me")), ("needs_answer", N_("Someone needs an answer")),
    ("resolved", N_("A ticket is resolved")), ("breach", N_("An SLA clock is breached")),
    ("escalation", N_("Something is escalated")), ("authorization_waiting", N_("Work awaits authorization")),
    ("report_submitted", N_("A report is submitted")), ("report_returned", N_("A report is returned")),
    ("incident_raised", N_("A security incident is raised")),
    ("replacement_requested", N_("The agency asks to replace an engineer")),
    ("replacement_answered", N_("The project manager answers a replacement request")), ("test", N_("Test message")),
)
EVENT_NAMES = dict(EVENTS)
CHOOSABLE = tuple(e for e in EVENTS if e[0] != "test")
LANGS = (("zh-CN", "简体中文"), ("zh-TW", "繁體中文"), ("en", "English"))
DONE = {"read": N_("Marked read."), "all": N_("All notices marked read."), "saved": N_("Your preferences are saved.")}


async def mine(ctx: Ctx, limit: int = 50) -> Json:
    return (await ctx.api.call("GET", "/notifications/mine", token=ctx.token, lang=ctx.lang, params={"limit": limit})).body  # type: ignore[no-any-return]


@router.get("")
async def notices(ctx: Annotated[Ctx, Depends(signed_in)]) -> Response:
    error = None
    try:
        listed = await mine(ctx)
    except ApiError as exc:
        listed, error = {"items": [], "unread": 0}, "; ".join(exc.field_messages())
    done = DONE.get(ctx.request.query_params.get("done", ""))
    return ctx.render("notices/list.html", items=listed["items"], unread=listed["unread"], error=error,
                      notice=ctx.gettext(done) if done else None, event_names=EVENT_NAMES)


@router.get("/count")
async def count(ctx: Annotated[Ctx, Depends(signed_in)]) -> Response:
    """The header's badge: how many notices I have not read (nothing when none, or when it cannot be read)."""
    try:
        unread = int((await mine(ctx, limit=1))["unread"])
    except ApiError:
        unread = 0
    return ctx.render("notices/count.html", unread=unread)


@router.post("/read")
async def read_all(ctx: Annotated[Ctx, Depends(checked)]) -> Response:
    await ctx.api.call("POST", "/notifications/mine/read", token=ctx.token, lang=ctx.lang)
    return ctx.redirect("/notices?done=all")


@router.post("/{notice_id}/read")
async def read_one(notice_id: str, ctx: Annotated[Ctx, Depends(checked)]) -> Response:
    try:
        await ctx.api.call("POST", f"/notifications/mine/{quote(notice_id, safe='')}/read", token=ctx.token, lang=ctx.lang)
    except ApiError as exc:
        if exc.status != 404:
            raise
    return ctx.redirect("/notices?done=read")


# --- preferences (mine here; a role's on the administrator's channels page) -------------------------------------------

def preference_body(form: Any, channels: list[Json]) -> Json:
    """The PUT body from the form: the ticked events and channels (with their addresses), language, quiet hours."""
    events = [e for e, _ in CHOOSABLE if form.get(f"event.{e}")]
    chosen = []
    for c in channels:
        if form.get(f"channel.{c['id']}"):
            address = str(form.get(f"address.{c['id']}") or "").strip()
            chosen.append({"channel": c["id"], **({"address": address} if address else {})})
    language = str(form.get("language") or "zh-CN")
    return {"events": events, "channels": chosen, "language": language, "quiet_outside_duty": bool(form.get("quiet"))}


def form_values(preference: Json) -> Json:
    """What the form shows ticked: events, channel ids with addresses, language, quiet hours."""
    return {
        "events": set(preference.get("events") or ()),
        "channels": {c["channel"]: c.get("address") or "" for c in preference.get("channels") or ()},
        "language": preference.get("language") or "zh-CN",
        "quiet": bool(preference.get("quiet_outside_duty", True)),
    }


async def channel_list(ctx: Ctx) -> list[Json]:
    return list((await ctx.api.call("GET", "/notifications/channels", token=ctx.token, lang=ctx.lang)).body)


async def preferences_page(ctx: Ctx, *, error: str | None = None, status_code: int = 200, shown: Json | None = None) -> HTMLResponse:
    try:
        preference = (await ctx.api.call("GET", "/notifications/preferences", token=ctx.token, lang=ctx.lang)).body
        channels = await channel_list(ctx)
    except ApiError as exc:
        preference, channels, error = {}, [], "; ".join(exc.field_messages())
    done = DONE.get(ctx.request.query_params.get("done", ""))
    return ctx.render(
        "notices/preferences.html", status_code=status_code, error=error, notice=ctx.gettext(done) if done and not error else None,
        values=shown or form_values(preference), inherited=bool(preference) and preference.get("updated_at") is None,
        channels=channels, events=CHOOSABLE, langs=LANGS,
    )


@router.get("/preferences")
async def preferences(ctx: Annotated[Ctx, Depends(signed_in)]) -> Response:
    return await preferences_page(ctx)


@router.post("/preferences")
async def save_preferences(ctx: Annotated[Ctx, Depends(checked)]) -> Response:
    form = await ctx.request.form()
    channels = await channel_list(ctx)
    body = preference_body(form, channels)
    try:
        await ctx.api.call("PUT", "/notifications/preferences", token=ctx.token, lang=ctx.lang, json=body)
    except ApiError as exc:
        return await preferences_page(ctx, error="; ".join(exc.field_messages()), status_code=exc.status,
                                      shown=form_values({**body, "quiet_outside_duty": body["quiet_outside_duty"]}))
    return ctx.redirect("/notices/preferences?done=saved")
