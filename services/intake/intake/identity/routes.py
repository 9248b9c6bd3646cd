"""Identity's HTTP edge: log in, who am I, and the admin's users and API keys."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from . import Identity
from .domain import (
    KEY_NAME_PATTERN,
    PHONE_PATTERN,
    USERNAME_PATTERN,
    ApiKey,
    IdentityError,
    User,
    change_user,
    grace_until,
    new_api_key,
    new_user,
)
from .passwords import MAX_LENGTH, MIN_LENGTH
from .principal import Principal, Role

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1")
BAD_LOGIN = "invalid username or password"


def _identity(request: Request) -> Identity:
    return request.app.state.adapters.identity  # type: ignore[no-any-return]


async def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the authenticated caller, or 401."""
    return await _identity(request).authenticator.principal(request)


def require_roles(*roles: Role) -> Callable[[Request], Awaitable[Principal]]:
    """FastAPI dependency factory: the caller, or 403 unless their role is one of `roles`."""

    async def check(request: Request) -> Principal:
        principal = await current_principal(request)
        if principal.role not in roles:
            if principal.role == "auditor":
                raise HTTPException(status.HTTP_403_FORBIDDEN, "auditors have read-only access")
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"requires role {' or '.join(roles)}")
        return principal

    return check


Wired = Annotated[Identity, Depends(_identity)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
Admin = Annotated[Principal, Depends(require_roles("admin"))]
Reader = Annotated[Principal, Depends(require_roles("admin", "auditor"))]


def _unprocessable(field: str, msg: str) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": ["body", field], "msg": msg, "type": "value_error"}]
    )


# --- logging in -----------------------------------------------------------------------------------------------------


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=MAX_LENGTH)


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds the token is valid for")


@router.post("/auth/token", response_model=TokenOut, tags=["identity"], summary="Exchange a username and password for a bearer token")
async def login(body: LoginIn, wired: Wired) -> TokenOut:
    username = body.username.strip().lower()
    wait = wired.throttle.retry_after(username)
    if wait > 0:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, "too many failed logins; try later", headers={"Retry-After": str(int(wait) + 1)}
        )
    user = await wired.users.get(username)
    # An unknown user costs one argon2 verification too, so timing does not tell which usernames exist.
    ok = await asyncio.to_thread(wired.passwords.verify, user.password_hash if user else None, body.password)
    if user is None or not ok or user.disabled:
        wired.throttle.failed(username)
        log.info("login refused", extra={"fields": {"username": username}})
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, BAD_LOGIN, headers={"WWW-Authenticate": "Bearer"})
    wired.throttle.succeeded(username)
    if user.password_hash and wired.passwords.needs_rehash(user.password_hash):
        rehashed = await asyncio.to_thread(wired.passwords.hash, body.password)
        if await wired.users.save(user.model_copy(update={"password_hash": rehashed})):
            wired.authenticator.forget_user(username)
    return TokenOut(access_token=wired.signer.issue(user), expires_in=wired.signer.ttl_s)


@router.get("/me", response_model=Principal, tags=["identity"], summary="Who the bearer credential belongs to")
async def me(principal: CurrentPrincipal) -> Principal:
    return principal


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=MAX_LENGTH)
    new_password: str = Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)


@router.post("/me/password", response_model=TokenOut, tags=["identity"], summary="Change your own password")
async def change_own_password(body: PasswordChangeIn, principal: CurrentPrincipal, wired: Wired) -> TokenOut:
    """Ends every token issued before, and returns a fresh one for the caller."""
    if principal.username is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "API keys have no password")
    user = await wired.users.get(principal.username)
    if user is None or not await asyncio.to_thread(wired.passwords.verify, user.password_hash, body.current_password):
        wired.throttle.failed(principal.username)
        raise HTTPException(status.HTTP_403_FORBIDDEN, "current password is wrong")
    new_hash = await asyncio.to_thread(wired.passwords.hash, body.new_password)
    now = datetime.now(UTC)
    if not await wired.users.save(change_user(user, by=None, now=now, password_hash=new_hash)):
        raise HTTPException(status.HTTP_409_CONFLICT, "your account changed meanwhile; retry")
    wired.authenticator.forget_user(user.username)
    return TokenOut(access_token=wired.signer.issue(user, now=now), expires_in=wired.signer.ttl_s)


# --- users ----------------------------------------------------------------------------------------------------------


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: str = Field(pattern=USERNAME_PATTERN, description="Stored in lower case")
    name: str = Field(min_length=1, max_length=100)
    role: Role
    department: str | None = Field(default=None, max_length=100)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    password: str | None = Field(
        default=None, min_length=MIN_LENGTH, max_length=MAX_LENGTH, description="Omit to create a user who cannot log in yet"
    )


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=100)
    role: Role | None = None
    department: str | None = Field(default=None, max_length=100, description="null clears it")
    email: EmailStr | None = None
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    disabled: bool | None = None
    password: str | None = Field(
        default=None, min_length=MIN_LENGTH, max_length=MAX_LENGTH, description="A new password; ends the user's tokens"
    )


class UserOut(BaseModel):
    username: str
    name: str
    role: Role
    department: str | None
    email: str | None
    phone: str | None
    disabled: bool
    has_password: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(**user.model_dump(exclude={"password_hash", "tokens_valid_after", "version"}), has_password=user.password_hash is not None)


@router.post("/users", status_code=status.HTTP_201_CREATED, response_model=UserOut, tags=["identity"])
async def create_user(body: UserIn, wired: Wired, _admin: Admin, response: Response) -> UserOut:
    password_hash = await asyncio.to_thread(wired.passwords.hash, body.password) if body.password else None
    try:
        user = new_user(
            username=body.username,
            name=body.name,
            role=body.role,
            department=body.department,
            email=body.email,
            phone=body.phone,
            password_hash=password_hash,
            now=datetime.now(UTC),
        )
    except IdentityError as exc:
        raise _unprocessable("username", str(exc)) from None
    if not await wired.users.add(user):
        raise HTTPException(status.HTTP_409_CONFLICT, f"user {user.username} exists")
    response.headers["Location"] = f"/api/v1/users/{user.username}"
    return UserOut.of(user)


@router.get("/users", response_model=list[UserOut], tags=["identity"])
async def list_users(
    wired: Wired,
    _reader: Reader,
    role: Role | None = None,
    department: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[UserOut]:
    users = await wired.users.list(role=role, department=department, limit=limit, offset=offset)
    return [UserOut.of(u) for u in users]


@router.get("/users/{username}", response_model=UserOut, tags=["identity"])
async def read_user(username: str, wired: Wired, _reader: Reader) -> UserOut:
    user = await wired.users.get(username.lower())
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"user {username} not found")
    return UserOut.of(user)


@router.patch("/users/{username}", response_model=UserOut, tags=["identity"])
async def update_user(username: str, body: UserPatch, wired: Wired, admin: Admin) -> UserOut:
    """Change role, department, contact details, disable or reset the password; disabling or a new password ends
    the user's tokens at once."""
    changes = body.model_dump(include=body.model_fields_set, exclude={"password"})
    for field in ("name", "role", "disabled"):
        if field in changes and changes[field] is None:
            raise _unprocessable(field, f"{field} cannot be null")
    user = await wired.users.get(username.lower())
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"user {username} not found")
    if body.password is not None:
        changes["password_hash"] = await asyncio.to_thread(wired.passwords.hash, body.password)
    try:
        updated = change_user(user, by=admin.username, now=datetime.now(UTC), **changes)
    except IdentityError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    if not await wired.users.save(updated):
        raise HTTPException(status.HTTP_409_CONFLICT, f"user {user.username} changed meanwhile; reload and retry")
    wired.authenticator.forget_user(user.username)
    return UserOut.of(updated)


# --- API keys -------------------------------------------------------------------------------------------------------


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=KEY_NAME_PATTERN, description="The system's name, e.g. billing-system")
    role: Role


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grace_s: int = Field(default=0, ge=0, le=7 * 24 * 3600, description="How long the old secret keeps working")


class KeyOut(BaseModel):
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> KeyOut:
        return cls(name=key.name, role=key.role, created_at=key.created_at, revoked_at=key.revoked_at)


class KeyCreated(KeyOut):
    key: str = Field(description="The secret; shown only in this response, only its SHA-256 is stored")


@router.post("/api-keys", status_code=status.HTTP_201_CREATED, response_model=KeyCreated, tags=["identity"])
async def create_key(body: KeyIn, wired: Wired, _admin: Admin) -> KeyCreated:
    key, secret = new_api_key(name=body.name, role=body.role, now=datetime.now(UTC))
    if not await wired.keys.create(key):
        raise HTTPException(status.HTTP_409_CONFLICT, f"API key {body.name} exists; rotate it instead")
    return KeyCreated(**KeyOut.of(key).model_dump(), key=secret)


@router.get("/api-keys", response_model=list[KeyOut], tags=["identity"])
async def list_keys(wired: Wired, _reader: Reader) -> list[KeyOut]:
    return [KeyOut.of(k) for k in await wired.keys.list()]


@router.post("/api-keys/{name}/rotate", response_model=KeyCreated, tags=["identity"])
async def rotate_key(name: str, wired: Wired, _admin: Admin, body: RotateIn | None = None) -> KeyCreated:
    """A new secret for the key; the old one stops working at once, or after `grace_s`."""
    now = datetime.now(UTC)
    current = await wired.keys.by_name(name)
    if current is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"API key {name} not found")
    replacement, secret = new_api_key(name=name, role=current.role, now=now)
    old = await wired.keys.rotate(
        name, replacement, old_until=grace_until(now, timedelta(seconds=(body or RotateIn()).grace_s)), now=now
    )
    if old is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"API key {name} is revoked; create it again")
    wired.authenticator.forget_key(old.key_hash)
    return KeyCreated(**KeyOut.of(replacement).model_dump(), key=secret)


@router.delete("/api-keys/{name}", status_code=status.HTTP_204_NO_CONTENT, tags=["identity"])
async def revoke_key(name: str, wired: Wired, _admin: Admin) -> Response:
    if await wired.keys.by_name(name) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"API key {name} not found")
    wired.authenticator.forget_key(*await wired.keys.revoke(name, now=datetime.now(UTC)))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
