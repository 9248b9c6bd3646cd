"""Administration (role admin) at `/admin/...`: users and API keys, the catalog editor, calendars with a month view and
the yearly holiday schedule upload, the roster and duty rota, SLA policies and escalation contacts, notification channels.

An edge like every page: each list is one API call, each act one API call, and a refusal is shown in the API's words.
The API decides who may do what; the console only hides what this role cannot do (every page here is the admin's).
"""

from __future__ import annotations

import asyncio
import calendar
import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile
from fastapi.responses import Response

from ..api import ApiError, Json
from ..api import _error as api_error
from ..labels import N_
from ..web import Ctx, checked, signed_in
from . import notices

router = APIRouter(prefix="/admin")
ROLES = ("requester", "agent", "engineer", "manager", "auditor", "agency", "admin")
PRIORITIES = ("P1", "P2", "P3", "P4")
LANGS = ("zh-CN", "zh-TW", "en")
TEXTS = ("name", "deliverable", "service_level")
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
DONE = {
    "user": N_("User created."), "disabled": N_("User disabled."), "enabled": N_("User enabled."),
    "reset": N_("Password reset; the user's earlier sessions end."), "revoked": N_("API key revoked."),
    "catalog": N_("Catalog service saved."), "holidays": N_("Holiday schedule uploaded."), "roster": N_("Engineer and rota saved."),
    "tested": N_("Test message sent."), "role_saved": N_("The role's notification preferences are saved."),
    "policies": N_("SLA policies saved; clocks started from now on use them."), "contacts": N_("Escalation contacts saved."),
}
SECTIONS = (
    ("users", N_("Users and API keys")), ("catalog", N_("Service catalog")), ("calendars", N_("Calendars and holidays")),
    ("roster", N_("Roster and duty rota")), ("sla", N_("SLA policies and escalation")), ("channels", N_("Notification channels")),
)


def admin(ctx: Annotated[Ctx, Depends(signed_in)]) -> Ctx:
    assert ctx.session is not None
    if ctx.session.role != "admin":
        raise HTTPException(403, "Administration is for administrators")
    return ctx


async def admin_checked(ctx: Annotated[Ctx, Depends(checked)]) -> Ctx:
    return admin(ctx)


Admin = Annotated[Ctx, Depends(admin)]
AdminAct = Annotated[Ctx, Depends(admin_checked)]


def said(exc: ApiError) -> str:
    """The API's refusal as it said it (each field's reason for a 422)."""
    return "; ".join(exc.field_messages())


async def get(ctx: Ctx, path: str, params: Any = None) -> Any:
    return (await ctx.api.call("GET", path, token=ctx.token, lang=ctx.lang, params=params)).body


def page(ctx: Ctx, template: str, section: str, error: str | None = None, status_code: int = 200, **values: Any) -> Response:
    done = DONE.get(ctx.request.query_params.get("done", ""))
    return ctx.render(template, status_code=status_code, section=section, sections=SECTIONS, error=error,
                      notice=ctx.gettext(done) if done and error is None else None, **values)


@router.get("")
async def index(ctx: Admin) -> Response:
    return ctx.redirect("/admin/users")


# --- users and API keys ---------------------------------------------------------------------------------------------


async def users_page(ctx: Ctx, error: str | None = None, new_key: Json | None = None, status_code: int = 200,
                     typed: dict[str, str] | None = None) -> Response:
    """`typed`: what the administrator typed into a refused "add a user" form, shown again (never the password)."""
    errors: list[str] = []
    users: list[Json] = []
    keys: list[Json] = []
    engineers: list[Json] = []
    try:
        users = list(await get(ctx, "/users"))
    except ApiError as exc:
        errors.append(said(exc))
    try:
        keys = list(await get(ctx, "/api-keys"))
    except ApiError as exc:
        errors.append(said(exc))
    try:  # the roster, to link an engineer's account by name rather than by a typed id
        engineers = sorted(await get(ctx, "/engineers"), key=lambda e: str(e.get("name") or e.get("id")))
    except ApiError:
        engineers = []  # the field falls back to a typed id
    linked = {str(u.get("engineer_id")): str(u.get("username")) for u in users if u.get("engineer_id")}
    q = ctx.request.query_params.get("q", "").strip().lower()
    if q:
        users = [u for u in users if q in " ".join(str(u.get(k) or "") for k in ("username", "name", "department", "role")).lower()]
    return page(ctx, "admin/users.html", "users", error=error or ("; ".join(errors) or None), status_code=status_code,
                users=users, keys=keys, roles=ROLES, new_key=new_key, q=q, typed=typed or {}, engineers=engineers,
                linked=linked, engineer_names={str(e.get("id")): str(e.get("name")) for e in engineers})


@router.get("/users")
async def users(ctx: Admin) -> Response:
    return await users_page(ctx)


@router.post("/users")
async def create_user(
    ctx: AdminAct, username: Annotated[str, Form()], name: Annotated[str, Form()], role: Annotated[str, Form()],
    password: Annotated[str, Form()], department: Annotated[str, Form()] = "", email: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "", engineer_id: Annotated[str, Form()] = "",
) -> Response:
    body: Json = {"username": username, "name": name, "role": role, "password": password}
    body |= {k: v for k, v in (("department", department), ("email", email), ("phone", phone), ("engineer_id", engineer_id)) if v.strip()}
    try:
        await ctx.api.call("POST", "/users", token=ctx.token, lang=ctx.lang, json=body)
    except ApiError as exc:
        typed = {"username": username, "name": name, "role": role, "department": department, "email": email, "phone": phone,
                 "engineer_id": engineer_id}
        return await users_page(ctx, error=said(exc), status_code=exc.status, typed=typed)
    return ctx.redirect("/admin/users?done=user")


@router.post("/users/{username}/disabled")
async def disable_user(ctx: AdminAct, username: str, disabled: Annotated[str, Form()]) -> Response:
    flag = disabled == "true"
    try:
        await ctx.api.call("PATCH", f"/users/{quote(username, safe='')}", token=ctx.token, lang=ctx.lang, json={"disabled": flag})
    except ApiError as exc:
        return await users_page(ctx, error=said(exc), status_code=exc.status)
    return ctx.redirect(f"/admin/users?done={'disabled' if flag else 'enabled'}")


@router.post("/users/{username}/password")
async def reset_password(ctx: AdminAct, username: str, password: Annotated[str, Form()]) -> Response:
    try:
        await ctx.api.call("PATCH", f"/users/{quote(username, safe='')}", token=ctx.token, lang=ctx.lang, json={"password": password})
    except ApiError as exc:
        # Whose password and why, in words: "agent.zhou 的新密码：至少 8 个字符", not "password: 至少 8 个字符".
        reasons = [str(d.get("msg", "")) for d in exc.detail if isinstance(d, dict)] if isinstance(exc.detail, list) else []
        whose = ctx.gettext("New password for %(user)s") % {"user": username}
        colon, semicolon = ("：", "；") if ctx.lang.startswith("zh") else (": ", "; ")
        return await users_page(ctx, error=f"{whose}{colon}{semicolon.join(reasons)}" if reasons else said(exc), status_code=exc.status)
    return ctx.redirect("/admin/users?done=reset")


@router.post("/keys")
async def create_key(ctx: AdminAct, name: Annotated[str, Form()], role: Annotated[str, Form()]) -> Response:
    """A new key's secret is shown once, in this response (the API stores only its hash)."""
    try:
        created = (await ctx.api.call("POST", "/api-keys", token=ctx.token, lang=ctx.lang, json={"name": name, "role": role})).body
    except ApiError as exc:
        return await users_page(ctx, error=said(exc), status_code=exc.status)
    return await users_page(ctx, new_key=created)


@router.post("/keys/{name}/rotate")
async def rotate_key(ctx: AdminAct, name: str, grace_s: Annotated[int, Form()] = 0) -> Response:
    try:
        created = (await ctx.api.call("POST", f"/api-keys/{quote(name, safe='')}/rotate", token=ctx.token, lang=ctx.lang,
                                      json={"grace_s": grace_s})).body
    except ApiError as exc:
        return await users_page(ctx, error=said(exc), status_code=exc.status)
    return await users_page(ctx, new_key=created)


@router.post("/keys/{name}/revoke")
async def revoke_key(ctx: AdminAct, name: str) -> Response:
    try:
        await ctx.api.call("DELETE", f"/api-keys/{quote(name, safe='')}", token=ctx.token, lang=ctx.lang)
    except ApiError as exc:
        return await users_page(ctx, error=said(exc), status_code=exc.status)
    return ctx.redirect("/admin/users?done=revoked")


# --- the catalog ----------------------------------------------------------------------------------------------------


@router.get("/catalog")
async def catalog(ctx: Admin) -> Response:
    try:
        entries, error = list(await ctx.api.catalog(ctx.token, lang=ctx.lang)), None
    except ApiError as exc:
        entries, error = [], said(exc)
    return page(ctx, "admin/catalog.html", "catalog", error=error, entries=entries)


async def catalog_entry_page(ctx: Ctx, code: str, error: str | None = None, status_code: int = 200) -> Response:
    try:
        reply = await ctx.api.call("GET", f"/catalog/{quote(code, safe='')}", token=ctx.token, lang=ctx.lang)
    except ApiError as exc:
        raise HTTPException(exc.status, exc.message or exc.code) from None
    return page(ctx, "admin/catalog_entry.html", "catalog", error=error, status_code=status_code, entry=reply.body,
                priorities=PRIORITIES, langs=LANGS, texts=TEXTS)


@router.get("/catalog/{code}")
async def catalog_entry(ctx: Admin, code: str) -> Response:
    return await catalog_entry_page(ctx, code)


def edited_entry(entry: Json, form: dict[str, str]) -> Json:
    """What GET returned, with the editor's fields over it: each text in three languages, priority, skill, flags."""
    body = dict(entry)
    for text in TEXTS:
        labels = dict((entry.get("labels") or {}).get(text) or {})
        for lang in LANGS:
            value = form.get(f"{text}.{lang}")
            if value is not None:
                labels[lang] = value.strip()
        body[text] = labels
    body.pop("labels", None)
    body["default_priority"] = form.get("default_priority", entry.get("default_priority"))
    body["skill"] = (form.get("skill") or str(entry.get("skill") or "")).strip()
    for flag in ("desk_first", "requires_authorization", "active"):
        body[flag] = form.get(flag) == "on"
    return body


@router.post("/catalog/{code}")
async def save_catalog_entry(ctx: AdminAct, code: str) -> Response:
    """PUT /catalog/{code} takes back what GET returned (with If-Match), the editor's fields changed."""
    form = {k: v for k, v in (await ctx.request.form()).items() if isinstance(v, str)}
    try:
        reply = await ctx.api.call("GET", f"/catalog/{quote(code, safe='')}", token=ctx.token, lang=ctx.lang)
        shown = form.get("version", "")
        if shown and str(reply.body.get("version")) != shown:
            return await catalog_entry_page(ctx, code, error=ctx.gettext("Someone else changed this service meanwhile; this is the current version."), status_code=409)
        await ctx.api.call("PUT", f"/catalog/{quote(code, safe='')}", token=ctx.token, lang=ctx.lang,
                           json=edited_entry(reply.body, form), if_match=reply.etag)
    except ApiError as exc:
        return await catalog_entry_page(ctx, code, error=said(exc), status_code=exc.status)
    return ctx.redirect(f"/admin/catalog/{quote(code, safe='')}?done=catalog")


# --- calendars and holidays -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    day: date | None  # None: a blank cell before the first or after the last day
    kind: str = ""  # holiday, workday (a make-up working day), weekend, or "" for an ordinary working day


def month_grid(year: int, month: int, holidays: set[date], workdays: set[date]) -> list[list[Day]]:
    """The month as weeks (Monday first), each day marked holiday, make-up working day, weekend or working day."""
    weeks: list[list[Day]] = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        row = []
        for d in week:
            if d.month != month:
                row.append(Day(None))
            elif d in holidays:
                row.append(Day(d, "holiday"))
            elif d in workdays:
                row.append(Day(d, "workday"))
            elif d.weekday() >= 5:
                row.append(Day(d, "weekend"))
            else:
                row.append(Day(d))
        weeks.append(row)
    return weeks


def chosen_month(value: str, today: date) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{4})-(\d{2})", value or "")
    if m and 1 <= int(m.group(2)) <= 12:
        return int(m.group(1)), int(m.group(2))
    return today.year, today.month


def neighbour(year: int, month: int, step: int) -> str:
    index = year * 12 + month - 1 + step
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def schedule_said(ctx: Ctx, exc: ApiError) -> str:
    """A refused schedule's problems located as a person reads them: 第 3 行（kind）：… rather than row.3.kind: …"""
    if not isinstance(exc.detail, list):
        return said(exc)
    out = []
    for item in exc.detail:
        if not isinstance(item, dict):
            continue
        loc = [p for p in item.get("loc", []) if p not in ("body", "query")]
        msg = str(item.get("msg", ""))
        if len(loc) >= 2 and loc[0] == "row":
            where = ctx.gettext("Row %(row)s") % {"row": loc[1]} + (f"（{loc[2]}）" if len(loc) > 2 else "")
            out.append(f"{where}：{msg}")
        elif loc == ["year"]:
            out.append(f"{ctx.gettext('Year')}：{msg}")
        else:
            out.append(f"{'.'.join(map(str, loc))}: {msg}" if loc else msg)
    return "; ".join(out) or said(exc)


async def calendars_page(ctx: Ctx, error: str | None = None, status_code: int = 200, csv_text: str = "",
                         upload_year: int | None = None) -> Response:
    today = ctx.now().astimezone(ctx.console.zone).date()
    year, month = chosen_month(ctx.request.query_params.get("month", ""), today)
    errors: list[str] = [error] if error else []
    try:
        listed = await get(ctx, "/calendars")
    except ApiError as exc:
        listed = {"calendars": [], "holiday_years": {}}
        errors.append(said(exc))
    schedule: Json | None = None
    try:
        schedule = await get(ctx, f"/holidays/{year}")
    except ApiError as exc:
        if exc.status != 404:
            errors.append(said(exc))
    holidays = {date.fromisoformat(d) for d in (schedule or {}).get("holidays", [])}
    workdays = {date.fromisoformat(d) for d in (schedule or {}).get("workdays", [])}
    in_month = sorted(d for d in holidays | workdays if d.year == year and d.month == month)
    return page(ctx, "admin/calendars.html", "calendars", error="; ".join(errors) or None, status_code=status_code,
                calendars=listed.get("calendars", []), years=listed.get("holiday_years", {}), schedule=schedule,
                weeks=month_grid(year, month, holidays, workdays), year=year, month=month, weekdays=WEEKDAYS,
                marked=[(d, "holiday" if d in holidays else "workday") for d in in_month],
                previous=neighbour(year, month, -1), following=neighbour(year, month, 1), month_value=f"{year:04d}-{month:02d}",
                upload_year=upload_year or today.year + 1, csv_text=csv_text)


@router.get("/calendars")
async def calendars(ctx: Admin) -> Response:
    return await calendars_page(ctx)


@router.post("/calendars/holidays")
async def upload_holidays(
    ctx: AdminAct, year: Annotated[int, Form()], schedule: Annotated[UploadFile | None, File()] = None,
    text: Annotated[str, Form()] = "",
) -> Response:
    """PUT /holidays/{year} with the uploaded file (CSV `date,kind`, or JSON) or the pasted text; then that year's January."""
    content = (await schedule.read()).decode("utf-8", errors="replace") if schedule is not None and schedule.filename else text
    content = content.lstrip("\ufeff").strip()
    if not content:
        return await calendars_page(ctx, error=ctx.gettext("Choose a schedule file or paste its rows."), status_code=422, upload_year=year)
    try:
        if content.startswith("{"):
            await ctx.api.call("PUT", f"/holidays/{year}", token=ctx.token, lang=ctx.lang, json=json.loads(content))
        else:
            await _put_text(ctx, f"/holidays/{year}", content)
    except ApiError as exc:
        return await calendars_page(ctx, error=schedule_said(ctx, exc), status_code=exc.status, csv_text=content, upload_year=year)
    except ValueError as exc:  # JSON the browser sent that does not parse
        return await calendars_page(ctx, error=str(exc), status_code=422, csv_text=content, upload_year=year)
    first = _first_marked_month(content, year)
    return ctx.redirect(f"/admin/calendars?month={first}&done=holidays")


async def _put_text(ctx: Ctx, path: str, content: str) -> None:
    """A CSV body (the API client sends JSON; a schedule's CSV goes as text/csv)."""
    headers = {"Accept-Language": ctx.lang, "Accept": "application/json", "Authorization": f"Bearer {ctx.token}",
               "Content-Type": "text/csv"}
    reply = await ctx.api.client.request("PUT", "/api/v1" + path, content=content.encode(), headers=headers)
    if reply.status_code >= 400:
        raise api_error(reply)


def _first_marked_month(content: str, year: int) -> str:
    """The month of the first workday or holiday in the upload (the month view opens there), else January."""
    found = sorted(re.findall(rf"\b{year}-(\d{{2}})-\d{{2}}\b", content))
    return f"{year:04d}-{found[0] if found else '01'}"


# --- roster and duty rota -------------------------------------------------------------------------------------------

SHIFT_RE = re.compile(r"^\s*([0-6](?:\s*,\s*[0-6])*)\s+(\d{2}:\d{2})-(\d{2}:\d{2})(?:\s+(onsite|phone))?\s*$")


def shifts_text(shifts: list[Json]) -> str:
    """The rota as lines `0,1,2,3,4 08:30-17:30 onsite` (weekdays, 0 = Monday)."""
    return "\n".join(f"{','.join(str(d) for d in s.get('weekdays', []))} {s.get('start')}-{s.get('end')} {s.get('mode', 'onsite')}" for s in shifts)


def parse_shifts(text: str) -> tuple[list[Json], list[str]]:
    shifts: list[Json] = []
    bad: list[str] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        m = SHIFT_RE.match(line)
        if not m:
            bad.append(f"{n}: {line.strip()}")
            continue
        shifts.append({"weekdays": [int(d) for d in m.group(1).split(",")], "start": m.group(2), "end": m.group(3),
                       "mode": m.group(4) or "onsite"})
    return shifts, bad


async def roster_page(ctx: Ctx, error: str | None = None, status_code: int = 200) -> Response:
    try:
        engineers, err = list(await ctx.api.engineers(ctx.token, lang=ctx.lang)), None
    except ApiError as exc:
        engineers, err = [], said(exc)
    editing = ctx.request.query_params.get("edit", "")
    current = next((e for e in engineers if e.get("id") == editing), None)
    return page(ctx, "admin/roster.html", "roster", error=error or err, status_code=status_code, engineers=engineers,
                current=current, shifts_text=shifts_text, weekdays=WEEKDAYS)


@router.get("/roster")
async def roster(ctx: Admin) -> Response:
    return await roster_page(ctx)


@router.post("/roster")
async def save_engineer(
    ctx: AdminAct, engineer_id: Annotated[str, Form()], name: Annotated[str, Form()], role: Annotated[str, Form()],
    skills: Annotated[str, Form()] = "", capacity: Annotated[int, Form()] = 8, home_site: Annotated[str, Form()] = "",
    status: Annotated[str, Form()] = "available", shifts: Annotated[str, Form()] = "",
) -> Response:
    """PUT /engineers/{id}: the engineer and their rota (dispatch keeps the open load)."""
    parsed, bad = parse_shifts(shifts)
    if bad:
        return await roster_page(ctx, error=ctx.gettext("Rota lines not understood (weekdays 0-6, HH:MM-HH:MM, onsite or phone): %(lines)s")
                                 % {"lines": "; ".join(bad)}, status_code=422)
    body = {"name": name, "role": role, "skills": [s.strip() for s in re.split(r"[,，\s]+", skills) if s.strip()],
            "capacity": capacity, "status": status, "shifts": parsed, **({"home_site": home_site.strip()} if home_site.strip() else {})}
    try:
        await ctx.api.call("PUT", f"/engineers/{quote(engineer_id.strip(), safe='')}", token=ctx.token, lang=ctx.lang, json=body)
    except ApiError as exc:
        return await roster_page(ctx, error=said(exc), status_code=exc.status)
    return ctx.redirect("/admin/roster?done=roster")


# --- SLA policies and escalation contacts ---------------------------------------------------------------------------


CLOCK_ORDER = ("response", "dispatch", "remote_guidance", "confirmation", "redispatch", "escalation", "authorization")


async def names_of(ctx: Ctx, usernames: set[str]) -> dict[str, str]:
    """Who changed something, as people call them (GET /users/{username}); a username the API does not know (a
    service, a removed user) stays as it is."""
    async def one(username: str) -> tuple[str, str]:
        try:
            user = await get(ctx, f"/users/{quote(username, safe='')}")
        except ApiError:
            return username, username
        return username, str(user.get("name") or username)
    return dict(await asyncio.gather(*(one(u) for u in sorted(usernames))))


async def sla_page(ctx: Ctx, error: str | None = None, status_code: int = 200, typed: Json | None = None) -> Response:
    """The contract clocks' policies and the escalation chain (GET /sla/policies, /sla/escalation-contacts), both
    editable, with who changed them last, the calendars to choose from and the recent notification records. After a
    refusal, `typed` (the body the API refused, with "kind" policies or contacts) is shown again to be corrected."""
    errors: list[str] = []
    found: dict[str, Any] = {}
    for key, path, params in (("policies", "/sla/policies", None), ("contacts", "/sla/escalation-contacts", None),
                              ("calendars", "/calendars", None), ("history", "/sla/policies/history", None),
                              ("outbox", "/notifications/outbox", {"limit": 20})):
        try:
            found[key] = await get(ctx, path, params)
        except ApiError as exc:
            found[key] = None
            errors.append(said(exc))
    policies, contacts = found["policies"], found["contacts"]
    history = list(found["history"] or [])[:5]
    authors = {str(u) for u in ((policies or {}).get("changed_by"), (contacts or {}).get("changed_by"), *(h.get("by") for h in history)) if u}
    people = await names_of(ctx, authors)
    typed_text = None
    if typed is not None and typed.get("kind") == "policies" and policies is not None:
        policies = {**policies, **typed["body"]}
        typed_text = typed.get("overrides_text")
    elif typed is not None and typed.get("kind") == "contacts" and contacts is not None:
        contacts = {**contacts, **typed["body"]}
    clocks = sorted((policies or {}).get("clocks", {}).items(), key=lambda kv: CLOCK_ORDER.index(kv[0]) if kv[0] in CLOCK_ORDER else 99)
    calendars = [c["name"] for c in (found["calendars"] or {}).get("calendars", [])]
    return page(ctx, "admin/sla.html", "sla", error=error or ("; ".join(errors) or None), status_code=status_code,
                policies=policies, clocks=clocks, overrides_text=typed_text if typed_text is not None else overrides_text((policies or {}).get("overrides") or {}),
                contacts=contacts, levels=list((contacts or {}).get("levels") or []), calendars=calendars,
                history=history, outbox=list(found["outbox"] or []), langs=LANGS, event_names=notices.EVENT_NAMES, people=people)


@router.get("/sla")
async def sla(ctx: Admin) -> Response:
    return await sla_page(ctx)


def overrides_text(overrides: Json) -> str:
    """One override a line: `RS-SPARE:P1 response 20` (and a calendar, if it differs)."""
    lines = []
    for key, clocks in overrides.items():
        for clock, fields in clocks.items():
            minutes = fields.get("business_minutes")
            parts = [key, clock, f"{minutes:g}" if isinstance(minutes, int | float) else "-"]
            if fields.get("calendar"):
                parts.append(str(fields["calendar"]))
            lines.append(" ".join(parts))
    return "\n".join(lines)


def parse_overrides(text: str, before: Json) -> tuple[Json, list[str]]:
    """The lines back into the API's overrides (a warning share set through the API is kept); lines not understood."""
    overrides: Json = {}
    bad = []
    for line in (raw.strip() for raw in text.splitlines()):
        if not line:
            continue
        parts = line.split()
        if len(parts) not in (3, 4):
            bad.append(line)
            continue
        key, clock, minutes = parts[:3]
        fields = dict(((before.get(key) or {}).get(clock)) or {})
        fields.pop("business_minutes", None)
        fields.pop("calendar", None)
        if minutes != "-":
            try:
                fields["business_minutes"] = float(minutes)
            except ValueError:
                bad.append(line)
                continue
        if len(parts) == 4:
            fields["calendar"] = parts[3]
        overrides.setdefault(key, {})[clock] = fields
    return overrides, bad


def _number(value: str | None, fallback: Any) -> Any:
    """A number field as typed (the API says what is wrong with it); an empty one keeps what GET returned."""
    if value is None or not value.strip():
        return fallback
    try:
        return float(value.strip().replace("，", "."))
    except ValueError:
        return value.strip()  # sent as typed: the API names the field and why


def edited_policies(current: Json, form: dict[str, str]) -> tuple[Json, list[str]]:
    """What GET returned with the editor's fields over it: each clock's calendar, minutes and warning share."""
    body = dict(current)
    clocks: Json = {}
    for name, clock in (current.get("clocks") or {}).items():
        fields = dict(clock)
        fields["calendar"] = form.get(f"{name}.calendar") or fields.get("calendar")
        fields["business_minutes"] = _number(form.get(f"{name}.business_minutes"), fields.get("business_minutes"))
        warn = _number(form.get(f"{name}.warn_percent"), None)
        if isinstance(warn, float):
            fields["warn_ratio"] = warn / 100
        elif warn is not None:
            fields["warn_ratio"] = warn
        clocks[name] = fields
    body["clocks"] = clocks
    overrides, bad = parse_overrides(form.get("overrides", ""), current.get("overrides") or {})
    body["overrides"] = overrides
    days = _whole(form.get("repair_progress_working_days"), current.get("repair_progress_working_days"))
    if days is not None:
        body["repair_progress_working_days"] = days
    return body, bad


def _whole(value: str | None, fallback: Any) -> Any:
    """A whole-number field as typed (the API says what is wrong with it); an empty one keeps what GET returned."""
    number = _number(value, fallback)
    return int(number) if isinstance(number, float) and number.is_integer() else number


def _items(value: str) -> list[str]:
    return [v.strip() for v in re.split(r"[,，;；\s]+", value or "") if v.strip()]


def edited_contacts(current: Json, form: dict[str, str]) -> Json:
    """The chain as the form has it: a level with no role is left out, one added in the empty row is appended."""
    body = dict(current)
    levels: list[Json] = []
    rows = len(current.get("levels") or []) + 1
    for i in range(rows):
        role = (form.get(f"l{i}.role") or "").strip()
        if not role:
            continue
        levels.append({
            "level": len(levels) + 1, "role": role, "after_minutes": _number(form.get(f"l{i}.after_minutes"), 0),
            "emails": _items(form.get(f"l{i}.emails", "")), "webhooks": _items(form.get(f"l{i}.webhooks", "")),
            "channels": _items(form.get(f"l{i}.channels", "")), "language": form.get(f"l{i}.language") or "zh-CN",
        })
    body["levels"] = levels
    return body


async def _save_sla(ctx: Ctx, path: str, edit: Any, stale: str) -> Response:
    """PUT takes back what GET returned (with If-Match), the editor's fields over it; a version changed meanwhile is
    shown, not overwritten; a refusal is shown in the API's words."""
    form = {k: v for k, v in (await ctx.request.form()).items() if isinstance(v, str)}
    body: Json = {}
    try:
        reply = await ctx.api.call("GET", path, token=ctx.token, lang=ctx.lang)
        shown = form.get("version", "")
        if shown and str(reply.body.get("version")) != shown:
            return await sla_page(ctx, error=ctx.gettext(stale), status_code=409)
        body, bad = edit(reply.body, form)
        if bad:
            return await sla_page(ctx, error=ctx.gettext("Override lines not understood (service:priority clock minutes [calendar]): %(lines)s")
                                  % {"lines": "; ".join(bad)}, status_code=422)
        await ctx.api.call("PUT", path, token=ctx.token, lang=ctx.lang, json=body, if_match=reply.etag)
    except ApiError as exc:
        kind = "policies" if path.endswith("policies") else "contacts"
        # A refused edit is shown as typed, to be corrected; a lost race (409/412) shows what is stored now.
        typed = {"kind": kind, "body": body, "overrides_text": form.get("overrides")} if exc.status == 422 and body else None
        return await sla_page(ctx, error=said(exc), status_code=exc.status, typed=typed)
    return ctx.redirect(f"/admin/sla?done={'policies' if path.endswith('policies') else 'contacts'}")


@router.post("/sla/policies")
async def save_sla_policies(ctx: AdminAct) -> Response:
    return await _save_sla(ctx, "/sla/policies", edited_policies,
                           N_("Someone else changed the SLA policies meanwhile; this is the current version."))


@router.post("/sla/contacts")
async def save_sla_contacts(ctx: AdminAct) -> Response:
    return await _save_sla(ctx, "/sla/escalation-contacts", lambda current, form: (edited_contacts(current, form), []),
                           N_("Someone else changed the escalation contacts meanwhile; this is the current version."))


# --- notification channels ------------------------------------------------------------------------------------------


async def channels_page(ctx: Ctx, error: str | None = None, status_code: int = 200, shown: Json | None = None) -> Response:
    role = ctx.request.query_params.get("role") or ctx.request.path_params.get("role") or "engineer"
    role = role if role in ROLES else "engineer"
    preference: Json = {}
    try:
        channels, err = list(await get(ctx, "/notifications/channels")), None
        preference = await get(ctx, f"/notifications/preferences/roles/{role}")
    except ApiError as exc:
        channels, err = [], said(exc)
    return page(ctx, "admin/channels.html", "channels", error=error or err, status_code=status_code, channels=channels,
                roles=ROLES, role=role, values=shown or notices.form_values(preference),
                events=notices.CHOOSABLE, langs=notices.LANGS, form_action=f"/admin/channels/roles/{role}")


@router.get("/channels")
async def channels(ctx: Admin) -> Response:
    return await channels_page(ctx)


@router.post("/channels/roles/{role}")
async def save_role_preferences(ctx: AdminAct, role: str) -> Response:
    """A role's notification preferences: the default of every person of the role who has not chosen their own."""
    if role not in ROLES:
        raise HTTPException(404, "no such role")
    form = await ctx.request.form()
    body = notices.preference_body(form, list(await get(ctx, "/notifications/channels")))
    try:
        await ctx.api.call("PUT", f"/notifications/preferences/roles/{role}", token=ctx.token, lang=ctx.lang, json=body)
    except ApiError as exc:
        return await channels_page(ctx, error=said(exc), status_code=exc.status, shown=notices.form_values(body))
    return ctx.redirect(f"/admin/channels?role={role}&done=role_saved")


@router.post("/channels/{channel_id}/test")
async def test_channel(ctx: AdminAct, channel_id: str, address: Annotated[str, Form()] = "") -> Response:
    body = {"address": address.strip()} if address.strip() else {}
    try:
        await ctx.api.call("POST", f"/notifications/channels/{quote(channel_id, safe='')}/test", token=ctx.token, lang=ctx.lang, json=body)
    except ApiError as exc:
        return await channels_page(ctx, error=said(exc), status_code=exc.status)
    return ctx.redirect("/admin/channels?done=tested")
