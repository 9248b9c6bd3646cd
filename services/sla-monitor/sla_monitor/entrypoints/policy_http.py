"""SLA policies and escalation contacts over HTTP (issue 16): the operations team reads them, an administrator changes
them. PUT takes back what GET returned; `version` (or If-Match, which wins) says which version the edit starts from,
and an edit that lost to another answers 412 with the current ETag. A changed policy applies to clocks started after
the change. Each save is kept in the history (who, when, what it became): `GET .../history`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from opsdesk_shared.catalogue import Catalogue
from opsdesk_shared.errors import error_body, language
from opsdesk_shared.internal_auth import VerifiedCaller, require_roles
from opsdesk_shared.roles import STAFF_ROLES

from .. import policy_book, policy_service
from ..domain import DEFAULT_POLICIES
from ..escalation import EscalationLevel
from ..policy_book import (
    CONTACTS,
    POLICIES,
    ClockOverride,
    ClockPolicy,
    ContactSet,
    Kind,
    PolicySet,
    Problem,
    Stale,
    Stored,
)

router = APIRouter(prefix="/api/v1/sla", dependencies=[Depends(require_roles(*sorted(STAFF_ROLES)))])
# The contract's clocks and who is told of a breach: admins only, and no service changes them over HTTP.
ADMIN_ONLY = [Depends(require_roles("admin", services=False))]

REASONS: dict[str, tuple[str, str, str]] = {
    # reason: (zh-CN, zh-TW, en), filled from Problem.params
    "unknown_clock": ("没有名为 {name} 的时钟；可用：{allowed}", "沒有名為 {name} 的時鐘；可用：{allowed}",
                      "no clock named {name}; known clocks: {allowed}"),
    "missing_clock": ("缺少时钟 {name} 的策略（保存时须包含每个时钟）", "缺少時鐘 {name} 的策略（儲存時須包含每個時鐘）",
                      "the policy of clock {name} is missing (every clock is saved together)"),
    "unknown_calendar": ("没有名为 {name} 的日历；可用：{allowed}", "沒有名為 {name} 的日曆；可用：{allowed}",
                         "no calendar named {name}; known calendars: {allowed}"),
    "bad_override_key": ("覆盖键 {key} 应为「服务代码:优先级」，任一侧可为 *（如 RS-SPARE:P1、*:P1）",
                         "覆蓋鍵 {key} 應為「服務代碼:優先級」，任一側可為 *（如 RS-SPARE:P1、*:P1）",
                         "override key {key} must be <service code>:<priority>, either side * (e.g. RS-SPARE:P1, *:P1)"),
    "level_order": ("级别应按顺序从 1 编号，此处应为 {expected}", "級別應按順序從 1 編號，此處應為 {expected}",
                    "levels are numbered 1, 2, ... in order; this one should be {expected}"),
    "after_order": ("升级时间不能早于上一级（{before} 分钟）", "升級時間不能早於上一級（{before} 分鐘）",
                    "a level cannot be told before the one above it ({before} minutes)"),
    "empty_role": ("角色不能为空", "角色不能為空", "the role cannot be empty"),
    "bad_email": ("{value} 不是有效的邮箱地址", "{value} 不是有效的電子郵件地址", "{value} is not an email address"),
    "bad_webhook": ("{value} 不是 http(s) 地址", "{value} 不是 http(s) 位址", "{value} is not an http(s) URL"),
    "unknown_channel": ("没有配置名为 {name} 的通知渠道；已配置：{allowed}", "沒有設定名為 {name} 的通知管道；已設定：{allowed}",
                        "no notification channel {name} is configured; configured: {allowed}"),
    # The 412 of an edit that lost to another: {what} is one of WHAT.
    "stale": ("{what}已被他人修改（当前版本 {current}），请重新读取后再保存", "{what}已被他人修改（目前版本 {current}），請重新讀取後再儲存",
              "The {what} changed since you read them (now version {current}); read them again"),
}
WHAT: dict[str, tuple[str, str, str]] = {
    POLICIES: ("SLA 策略", "SLA 策略", "SLA policies"),
    CONTACTS: ("升级联系人", "升級聯絡人", "escalation contacts"),
}
CATALOGUE = Catalogue(REASONS, words={"what": WHAT})


def _holder(request: Request) -> Any:
    return request.app.state.adapters


Wired = Annotated[Any, Depends(_holder)]


class Saved(BaseModel):
    """What every GET carries besides the value: the version an edit starts from, and who saved it when."""

    version: int = Field(description="0 while the environment's values are in force (nothing saved yet); as ETag too")
    source: str = Field(description="settings (the environment's, nothing saved yet) or stored")
    changed_by: str | None = None
    changed_at: datetime | None = None


class PolicyDoc(Saved):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "version": 3, "source": "stored", "changed_by": "admin", "changed_at": "2026-11-30T09:00:00Z",
        "clocks": {"response": {"calendar": "office-hours", "business_minutes": 60, "warn_ratio": 0.8}},
        "overrides": {"*:P1": {"response": {"business_minutes": 30}}}, "repair_progress_working_days": 3,
    }]})

    clocks: dict[str, ClockPolicy]
    overrides: dict[str, dict[str, ClockOverride]]
    repair_progress_working_days: int


class ContactsDoc(Saved):
    levels: tuple[EscalationLevel, ...]


class Edit(BaseModel):
    """The read-only parts of a GET, accepted back and ignored (but `version`, the version the edit starts from)."""

    version: int | None = Field(default=None, ge=0, description="As GET returned it (If-Match wins)")
    source: str | None = None
    changed_by: str | None = None
    changed_at: datetime | None = None


EXAMPLE_CLOCKS: dict[str, Any] = {name: {"calendar": p.calendar, "business_minutes": p.business_minutes, "warn_ratio": p.warn_ratio}
                  for name, p in DEFAULT_POLICIES.items()}


class PolicyIn(Edit, PolicySet):
    """Every clock's policy (all of them, as GET returned them) and the overrides."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"examples": [{
        "version": 0, "clocks": {**EXAMPLE_CLOCKS, "response": {"calendar": "office-hours", "business_minutes": 45, "warn_ratio": 0.8}},
        "overrides": {"*:P1": {"response": {"business_minutes": 30}}}, "repair_progress_working_days": 3,
    }]})


class ContactsIn(Edit, ContactSet):
    """The escalation chain, level 1 first (as GET returned it)."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"examples": [{"version": 0, "levels": [
        {"level": 1, "role": "desk_lead", "after_minutes": 0, "emails": ["desk-lead@example.cn"]},
        {"level": 2, "role": "project_manager", "after_minutes": 20, "emails": ["pm@example.cn"]},
        {"level": 3, "role": "agency_it_manager", "after_minutes": 60},
    ]}]})


class HistoryLine(BaseModel):
    version: int
    by: str = Field(description="Who saved it (the signed-in user); `environment` for the values in force before the first save")
    role: str
    at: datetime
    value: dict[str, Any]


def _saved(stored: Stored) -> dict[str, Any]:
    last = stored.history[-1] if stored.history else None
    return {"version": stored.version, "source": stored.source, "changed_by": last.by if last else None,
            "changed_at": last.at if last else None}


def _etag(response: Response, stored: Stored) -> None:
    response.headers["ETag"] = f'"{stored.version}"'


def _if_match(value: str | None) -> int | None:
    if value is None or value.strip() == "*":
        return None
    try:
        return int(value.strip().removeprefix("W/").strip('"'))
    except ValueError:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{
            "loc": ["header", "If-Match"], "msg": f"not a version this service gave: {value}", "type": "value_error"}]) from None


def _refuse(request: Request, problems: list[Problem]) -> None:
    if not problems:
        return
    lang = language(request)
    detail = [{"loc": ["body", *p.loc], "msg": CATALOGUE.render(p.reason, p.params, lang), "type": "value_error"} for p in problems]
    raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)


def _stale(request: Request, kind: Kind, current: int) -> JSONResponse:
    """412 in the one error shape, naming what changed, with the current ETag to read again."""
    lang = language(request)
    body = error_body(412, lang=lang, detail=f"{kind} changed; now version {current}", extra={"current_version": current})
    body["message"] = CATALOGUE.render("stale", {"what": kind, "current": current}, lang)
    return JSONResponse(body, status_code=status.HTTP_412_PRECONDITION_FAILED,
                        headers={"Content-Language": lang, "ETag": f'"{current}"'})


async def _save(
    request: Request, kind: Kind, value: PolicySet | ContactSet, *, body_version: int | None, if_match: str | None,
    caller: Any, wired: Any,
) -> Stored | JSONResponse:
    expected = _if_match(if_match)
    expected = expected if expected is not None else body_version
    try:
        return await policy_service.save(
            value, kind=kind, expected=expected, by=caller.subject, role=caller.role, at=datetime.now(UTC),
            store=wired.policy_store, holder=wired.policies,
        )
    except Stale as exc:
        return _stale(request, kind, exc.current)


@router.get("/policies", response_model=PolicyDoc, tags=["policies"], summary="Every contract clock's policy, and overrides")
async def get_policies(response: Response, wired: Wired) -> PolicyDoc:
    """The policies new clocks start with: the saved ones, or the environment's (version 0) while none is saved."""
    stored = await policy_service.read(POLICIES, store=wired.policy_store, holder=wired.policies)
    _etag(response, stored)
    return PolicyDoc(**_saved(stored), **policy_book.policy_value(stored).model_dump())


@router.put("/policies", response_model=PolicyDoc, tags=["policies"], summary="Change the policies (admin)", dependencies=ADMIN_ONLY)
async def put_policies(
    body: PolicyIn, request: Request, response: Response, wired: Wired, caller: VerifiedCaller,
    if_match: Annotated[str | None, Header()] = None,
) -> PolicyDoc | JSONResponse:
    """Takes back what GET returned. Applies to clocks started from now on; running clocks keep their due times."""
    value = PolicySet(clocks=body.clocks, overrides=body.overrides, repair_progress_working_days=body.repair_progress_working_days)
    _refuse(request, policy_book.check_policies(value, calendars=wired.book.book.calendars))
    saved = await _save(request, POLICIES, value, body_version=body.version, if_match=if_match, caller=caller, wired=wired)
    if isinstance(saved, JSONResponse):
        return saved
    _etag(response, saved)
    return PolicyDoc(**_saved(saved), **value.model_dump())


@router.get("/escalation-contacts", response_model=ContactsDoc, tags=["policies"], summary="Who is told of a breach, and when")
async def get_contacts(response: Response, wired: Wired) -> ContactsDoc:
    stored = await policy_service.read(CONTACTS, store=wired.policy_store, holder=wired.policies)
    _etag(response, stored)
    return ContactsDoc(**_saved(stored), levels=policy_book.contact_value(stored).levels)


@router.put(
    "/escalation-contacts", response_model=ContactsDoc, tags=["policies"], summary="Change the escalation chain (admin)",
    dependencies=ADMIN_ONLY,
)
async def put_contacts(
    body: ContactsIn, request: Request, response: Response, wired: Wired, caller: VerifiedCaller,
    if_match: Annotated[str | None, Header()] = None,
) -> ContactsDoc | JSONResponse:
    """Takes back what GET returned. Breaches from now on are escalated along the new chain; an assignment still
    cancels what an earlier chain planned."""
    value = ContactSet(levels=body.levels)
    _refuse(request, policy_book.check_contacts(value, channels=wired.notifications.channels))
    saved = await _save(request, CONTACTS, value, body_version=body.version, if_match=if_match, caller=caller, wired=wired)
    if isinstance(saved, JSONResponse):
        return saved
    _etag(response, saved)
    return ContactsDoc(**_saved(saved), levels=value.levels)


async def _history(kind: Kind, wired: Any) -> list[HistoryLine]:
    stored = await policy_service.read(kind, store=wired.policy_store, holder=wired.policies)
    return [HistoryLine(**line.model_dump()) for line in reversed(stored.history)]


@router.get("/policies/history", response_model=list[HistoryLine], tags=["policies"], summary="Who changed the policies, when (newest first)")
async def policy_history(wired: Wired) -> list[HistoryLine]:
    return await _history(POLICIES, wired)


@router.get(
    "/escalation-contacts/history", response_model=list[HistoryLine], tags=["policies"],
    summary="Who changed the escalation contacts, when (newest first)",
)
async def contact_history(wired: Wired) -> list[HistoryLine]:
    return await _history(CONTACTS, wired)
