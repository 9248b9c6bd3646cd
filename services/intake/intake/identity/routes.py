"""Identity's HTTP edge: log in, who am I, and the admin's users and API keys. Each route is one call into
`service.py` (the same use cases the admin CLI runs); `refusals` maps their errors to status codes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from ..texts import Said, said_of
from . import Identity
from . import service as accounts
from .client_address import HEADER as CLIENT_ADDRESS_HEADER
from .domain import KEY_NAME_PATTERN, PHONE_PATTERN, USERNAME_PATTERN, ApiKey, FieldRejected, User
from .passwords import MAX_LENGTH, MIN_LENGTH
from .principal import Principal, Role

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
                raise HTTPException(status.HTTP_403_FORBIDDEN, Said("err.auditor_read_only_access"))
            raise HTTPException(status.HTTP_403_FORBIDDEN, Said("err.requires_role", roles=",".join(roles)))
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


@contextmanager
def refusals() -> Iterator[None]:
    """The use cases' errors as HTTP answers."""
    try:
        yield
    except FieldRejected as exc:
        raise _unprocessable(exc.field, said_of(exc)) from None
    except accounts.NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, said_of(exc)) from None
    except accounts.Conflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, said_of(exc)) from None
    except accounts.NotAllowed as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, said_of(exc)) from None
    except accounts.BadCredentials:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, Said("err.bad_login"), headers={"WWW-Authenticate": "Bearer"}) from None
    except accounts.Throttled as exc:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, Said("err.throttled", seconds=int(exc.retry_after) + 1),
            headers={"Retry-After": str(int(exc.retry_after) + 1)},
        ) from None
    except accounts.RosterUnavailable as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, Said("err.roster_unavailable", why=str(exc))) from None


def _source(request: Request) -> str:
    """The client address the throttle counts by: the browser's, when the call carries the gateway's own stamp of
    it (the console relays the one its proxy set, client_address.py); otherwise the caller's own address (behind
    another proxy, run uvicorn with --proxy-headers)."""
    vouched = _identity(request).client_addresses.vouched(request.headers.get(CLIENT_ADDRESS_HEADER))
    if vouched is not None:
        return vouched
    return request.client.host if request.client else "unknown"


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
async def login(body: LoginIn, wired: Wired, request: Request) -> TokenOut:
    """After 5 failures for one account from one address (or 30 from one address across accounts) each further
    attempt waits a doubling delay (429 with Retry-After); the account stays open from every other address."""
    with refusals():
        token = await accounts.sign_in(
            wired, signer=wired.signer, username=body.username, password=body.password, source=_source(request)
        )
    return TokenOut(access_token=token, expires_in=wired.signer.ttl_s)


@router.get("/me", response_model=Principal, tags=["identity"], summary="Who the bearer credential belongs to")
async def me(principal: CurrentPrincipal) -> Principal:
    return principal


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=MAX_LENGTH)
    new_password: str = Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)


@router.post("/me/password", response_model=TokenOut, tags=["identity"], summary="Change your own password")
async def change_own_password(body: PasswordChangeIn, principal: CurrentPrincipal, wired: Wired, request: Request) -> TokenOut:
    """Ends every token issued before, and returns a fresh one for the caller. Wrong current passwords count
    against the same throttle as sign-in."""
    with refusals():
        token = await accounts.change_password(
            wired, signer=wired.signer, principal=principal, current=body.current_password, new=body.new_password,
            source=_source(request), now=datetime.now(UTC),
        )
    return TokenOut(access_token=token, expires_in=wired.signer.ttl_s)


# --- users ----------------------------------------------------------------------------------------------------------

ENGINEER_ID_DOC = "The roster engineer (dispatch's id) this user is; required for role engineer, checked with dispatch"


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: str = Field(pattern=USERNAME_PATTERN, description="Stored in lower case")
    name: str = Field(min_length=1, max_length=100)
    role: Role
    department: str | None = Field(default=None, max_length=100)
    engineer_id: str | None = Field(default=None, min_length=1, max_length=64, description=ENGINEER_ID_DOC)
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
    engineer_id: str | None = Field(default=None, min_length=1, max_length=64, description=ENGINEER_ID_DOC + "; null clears it")
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
    engineer_id: str | None
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
async def create_user(body: UserIn, wired: Wired, admin: Admin, response: Response) -> UserOut:
    """An engineer needs `engineer_id` naming an engineer on dispatch's roster (422 if unknown, 503 if dispatch
    does not answer)."""
    with refusals():
        user = await accounts.create_user(
            wired, **body.model_dump(), now=datetime.now(UTC), by=admin
        )
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
    users = await accounts.list_users(wired, role=role, department=department, limit=limit, offset=offset)
    return [UserOut.of(u) for u in users]


@router.get("/users/{username}", response_model=UserOut, tags=["identity"])
async def read_user(username: str, wired: Wired, _reader: Reader) -> UserOut:
    with refusals():
        return UserOut.of(await accounts.get_user(wired, username=username))


@router.patch("/users/{username}", response_model=UserOut, tags=["identity"])
async def update_user(username: str, body: UserPatch, wired: Wired, admin: Admin) -> UserOut:
    """Change role, department, roster link, contact details, disable or reset the password; disabling or a new
    password ends the user's tokens at once."""
    changes = body.model_dump(include=body.model_fields_set, exclude={"password"})
    with refusals():
        user = await accounts.update_user(
            wired, username=username, changes=changes, password=body.password, now=datetime.now(UTC), by=admin
        )
    return UserOut.of(user)


# --- the desk's directory -------------------------------------------------------------------------------------------

DeskStaff = Annotated[Principal, Depends(require_roles("agent", "manager", "admin", "auditor"))]


class PersonOut(BaseModel):
    """Who a caller is, as the desk needs them on a phone call: no role, roster link or credential."""

    username: str
    name: str
    department: str | None
    phone: str | None
    email: str | None


class PeoplePage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "items": [{"username": "wang.xm", "name": "王小明", "department": "辦公室", "phone": "020-8888 1234", "email": "wang.xm@example.org"}],
        "next_offset": None,
    }]})

    items: list[PersonOut]
    next_offset: int | None = Field(description="Pass as ?offset= for the next page; null on the last page")


@router.get("/people", response_model=PeoplePage, tags=["identity"], summary="Find a requester by name, phone or department (the desk)")
async def find_people(
    wired: Wired,
    _staff: DeskStaff,
    q: Annotated[str, Query(min_length=1, max_length=100, description="Every word must be part of the name, department, user name or e-mail (either Chinese script: 財務 finds 财务科), or 3+ digits of the phone", examples=["财务 王"])],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> PeoplePage:
    """For the desk (agents, managers, admins, auditors) finding who is calling; disabled accounts are left out.
    Requesters and engineers get 403."""
    people, more = await accounts.find_people(wired, q=q, limit=limit, offset=offset)
    return PeoplePage(
        items=[PersonOut(username=u.username, name=u.name, department=u.department, phone=u.phone, email=u.email) for u in people],
        next_offset=offset + limit if more else None,
    )


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
async def create_key(body: KeyIn, wired: Wired, admin: Admin) -> KeyCreated:
    with refusals():
        key, secret = await accounts.create_key(wired, name=body.name, role=body.role, now=datetime.now(UTC), by=admin)
    return KeyCreated(**KeyOut.of(key).model_dump(), key=secret)


@router.get("/api-keys", response_model=list[KeyOut], tags=["identity"])
async def list_keys(wired: Wired, _reader: Reader) -> list[KeyOut]:
    return [KeyOut.of(k) for k in await accounts.list_keys(wired)]


@router.post("/api-keys/{name}/rotate", response_model=KeyCreated, tags=["identity"])
async def rotate_key(name: str, wired: Wired, admin: Admin, body: RotateIn | None = None) -> KeyCreated:
    """A new secret for the key; the old one stops working at once, or after `grace_s`."""
    grace = timedelta(seconds=(body or RotateIn()).grace_s)
    with refusals():
        replacement, secret, _ = await accounts.rotate_key(wired, name=name, grace=grace, now=datetime.now(UTC), by=admin)
    return KeyCreated(**KeyOut.of(replacement).model_dump(), key=secret)


@router.delete("/api-keys/{name}", status_code=status.HTTP_204_NO_CONTENT, tags=["identity"])
async def revoke_key(name: str, wired: Wired, admin: Admin) -> Response:
    with refusals():
        await accounts.revoke_key(wired, name=name, now=datetime.now(UTC), by=admin)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
