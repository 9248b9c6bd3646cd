"""The notification edge: a person's own preferences, a role's (admins), the channels (never their URLs), and
"send a test" for a channel (admins). The caller is always the verified caller; a body never names who acts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from opsdesk_shared.errors import language
from opsdesk_shared.internal_auth import VerifiedCaller, require_roles
from opsdesk_shared.roles import ROLES

from . import service
from .apprise_sender import DeliveryError
from .channels import ChannelView, view
from .inbox import Mine, audiences
from .inbox import view as notice_view
from .preferences import Preference, PreferenceIn, role_key, user_key
from .service import MissingAddress, NotificationWiring, UnknownChannel

ADMIN_ONLY = [Depends(require_roles("admin", services=False))]
# Requesters read their own in-app notices and set their own preferences too (the gateway lets them under this prefix).
PEOPLE = ("requester", "agent", "engineer", "manager", "auditor", "agency", "admin")
router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"], dependencies=[Depends(require_roles(*PEOPLE))])

TEXTS: dict[str, tuple[str, str, str]] = {
    "unknown_channel": ("未配置的渠道 {channel}；已配置：{known}", "未設定的管道 {channel}；已設定：{known}",
                        "unknown channel {channel}; configured: {known}"),
    "missing_address": ("{kind} 渠道需要填写地址（邮箱或手机号）", "{kind} 管道需要填寫地址（信箱或手機號碼）",
                        "a {kind} channel needs an address (a mailbox or a phone number)"),
    "not_a_person": ("只有登录的人员有自己的通知偏好", "只有登入的人員有自己的通知偏好", "Only a signed-in person has notification preferences"),
    "no_notice": ("没有这条通知", "沒有這則通知", "No such notice"),
    "test_failed": ("渠道 {channel} 发送失败：{reason}", "管道 {channel} 傳送失敗：{reason}", "channel {channel} refused: {reason}"),
}
LANGS = ("zh-CN", "zh-TW", "en")


def _say(request: Request, key: str, **fields: str) -> str:
    lang = language(request)
    return TEXTS[key][LANGS.index(lang) if lang in LANGS else 2].format(**fields)


def _wired(request: Request) -> NotificationWiring:
    return request.app.state.adapters.notifications  # type: ignore[no-any-return]


Wired = Annotated[NotificationWiring, Depends(_wired)]
RoleName = Annotated[str, Path(pattern="^(" + "|".join(r for r in ROLES if r != "service") + ")$")]


class Listed(BaseModel):
    """A notification record as admins see it: never a webhook's URL (it may hold a key)."""

    id: str
    event: str | None
    role: str
    channel: str
    target: str
    address: str | None
    subject: str
    status: str
    attempts: int
    last_error: str | None
    due_at: datetime
    sent_at: datetime | None


class TestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str | None = Field(default=None, max_length=254, description="For email or SMS: where the test goes")


class TestResult(BaseModel):
    channel: str
    sent: bool


def _refusal(request: Request, exc: ValueError, channels: list[str]) -> HTTPException:
    if isinstance(exc, UnknownChannel):
        msg = _say(request, "unknown_channel", channel=exc.channel, known=", ".join(channels) or "-")
        return HTTPException(422, [{"loc": ["body", "channels", exc.index, "channel"], "msg": msg, "type": "value_error"}])
    assert isinstance(exc, MissingAddress)
    msg = _say(request, "missing_address", kind=exc.kind)
    return HTTPException(422, [{"loc": ["body", "channels", exc.index, "address"], "msg": msg, "type": "value_error"}])


async def _set(request: Request, key: str, body: PreferenceIn, *, engineer_id: str | None, by: str, wired: NotificationWiring) -> Preference:
    try:
        return await service.set_preference(
            key, body, engineer_id=engineer_id, by=by, channels=wired.channels, prefs=wired.preferences, now=datetime.now(UTC),
        )
    except (UnknownChannel, MissingAddress) as exc:
        raise _refusal(request, exc, sorted(wired.channels)) from None


def _own_key(request: Request, caller: VerifiedCaller) -> str:
    if caller.is_service:
        raise HTTPException(status.HTTP_403_FORBIDDEN, _say(request, "not_a_person"))
    return user_key(caller.subject)


@router.get("/preferences", summary="My notification preferences (which events, which channels, quiet hours); "
            "without my own, my role's (then `updated_at` is null)")
async def my_preferences(request: Request, wired: Wired, caller: VerifiedCaller) -> Preference:
    return await service.read_own_preference(_own_key(request, caller), caller.role, prefs=wired.preferences)


@router.put("/preferences", summary="Replace my notification preferences")
async def set_my_preferences(request: Request, body: PreferenceIn, wired: Wired, caller: VerifiedCaller) -> Preference:
    key = _own_key(request, caller)
    return await _set(request, key, body, engineer_id=caller.engineer_id, by=caller.subject, wired=wired)


@router.get("/preferences/roles/{role}", summary="A role's notification preferences (the default of its people)",
            dependencies=ADMIN_ONLY)
async def role_preferences(role: RoleName, wired: Wired) -> Preference:
    return await service.read_preference(role_key(role), prefs=wired.preferences)


@router.put("/preferences/roles/{role}", summary="Replace a role's notification preferences", dependencies=ADMIN_ONLY)
async def set_role_preferences(role: RoleName, request: Request, body: PreferenceIn, wired: Wired, caller: VerifiedCaller) -> Preference:
    return await _set(request, role_key(role), body, engineer_id=None, by=caller.subject, wired=wired)


@router.get("/channels", summary="Configured channels (ids, kinds and rates; never their URLs)")
async def list_channels(wired: Wired) -> list[ChannelView]:
    return [view(channel_id, channel) for channel_id, channel in sorted(wired.channels.items())]


@router.get("/outbox", summary="Notification records, latest first (pending, sent, failed, cancelled)",
            dependencies=[Depends(require_roles("admin", "manager", services=False))])
async def outbox(
    wired: Wired,
    status_: Annotated[Literal["pending", "sent", "failed", "cancelled"] | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[Listed]:
    records = await wired.store.listed(status=status_, limit=limit)
    return [
        Listed(**n.model_dump(include=set(Listed.model_fields)) | {"target": "webhook" if n.channel == "webhook" else n.target})
        for n in records
    ]


@router.post("/channels/{channel_id}/test", summary="Send a test message on a channel now", dependencies=ADMIN_ONLY)
async def test_channel(
    channel_id: str, request: Request, wired: Wired, caller: VerifiedCaller, body: TestRequest | None = None,
) -> TestResult:
    if channel_id not in wired.channels:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _say(request, "unknown_channel", channel=channel_id,
                                                            known=", ".join(sorted(wired.channels)) or "-"))
    address = body.address if body else None
    channel = wired.channels[channel_id]
    if channel.kind in ("email", "sms") and not address:
        raise HTTPException(422, [{"loc": ["body", "address"], "msg": _say(request, "missing_address", kind=channel.kind),
                                   "type": "value_error"}])
    try:
        await service.send_test(channel_id, address=address, language=language(request), by=caller.subject, wired=wired)
    except DeliveryError as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, _say(request, "test_failed", channel=channel_id, reason=str(exc))) from None
    return TestResult(channel=channel_id, sent=True)


class Marked(BaseModel):
    marked: int


@router.get("/mine", summary="My in-app notices, latest first, in my language, with how many I have not read")
async def my_notices(
    request: Request, wired: Wired, caller: VerifiedCaller, limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Mine:
    _own_key(request, caller)
    mine = audiences(caller)
    notices = await wired.inbox.mine(mine, limit=limit)
    lang = language(request)
    return Mine(items=[notice_view(n, reader=caller.subject, language=lang) for n in notices],
                unread=await wired.inbox.unread(mine, caller.subject))


@router.post("/mine/read", summary="Mark all my notices read")
async def read_all(request: Request, wired: Wired, caller: VerifiedCaller) -> Marked:
    _own_key(request, caller)
    return Marked(marked=await wired.inbox.mark_all_read(audiences(caller), caller.subject))


@router.post("/mine/{notice_id}/read", summary="Mark one of my notices read (404 for one that is not mine)")
async def read_one(
    notice_id: Annotated[str, Path(max_length=64)], request: Request, wired: Wired, caller: VerifiedCaller,
) -> Marked:
    _own_key(request, caller)
    if not await wired.inbox.mark_read(notice_id, audiences(caller), caller.subject):
        raise HTTPException(status.HTTP_404_NOT_FOUND, _say(request, "no_notice"))
    return Marked(marked=1)
