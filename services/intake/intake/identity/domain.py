"""Users and API keys: the records and the rules that change them. Pure: no I/O, the clock is an argument."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..texts import Said
from .principal import Role

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"
KEY_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,47}$"
PHONE_PATTERN = r"^[0-9+\-() ]{3,40}$"
# A roster id travels as one URL path segment to dispatch: no slashes, no white space, never a dot segment.
ENGINEER_ID_PATTERN = r"^(?!\.{1,2}$)[^/\\\s%?#]{1,64}$"
KEY_PREFIX = "odk_"
MAX_GRACE = timedelta(days=7)


class IdentityError(ValueError):
    """A user or key change the rules refuse; the message says why."""


class FieldRejected(IdentityError):
    """A value the rules refuse, naming the field (the HTTP edge answers 422 with it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class User(BaseModel):
    model_config = ConfigDict(frozen=True)

    username: str
    name: str
    role: Role
    department: str | None = None
    engineer_id: str | None = Field(default=None, description="The roster engineer this user is (dispatch's id)")
    email: str | None = None
    phone: str | None = None
    password_hash: str | None = Field(default=None, description="argon2id; None: cannot log in until one is set")
    disabled: bool = False
    tokens_valid_after: datetime | None = Field(default=None, description="Tokens issued before this are refused")
    created_at: datetime
    updated_at: datetime
    version: int = 0


class ApiKey(BaseModel):
    """A system's key; only the SHA-256 of the secret is kept (the secret is random, so a plain hash is enough)."""

    model_config = ConfigDict(frozen=True)

    key_hash: str
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None = Field(default=None, description="When it stops working; future during a rotation grace")

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None or now < self.revoked_at


def normalise_username(username: str) -> str:
    """Usernames compare case-insensitively, so they are stored in lower case."""
    value = username.strip().lower()
    if not re.fullmatch(USERNAME_PATTERN, value):
        raise IdentityError(Said("err.username"))
    return value


def key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_key_name(name: str) -> str:
    if not re.fullmatch(KEY_NAME_PATTERN, name):
        raise IdentityError(Said("err.key_name"))
    return name


def new_user(
    *,
    username: str,
    name: str,
    role: Role,
    now: datetime,
    department: str | None = None,
    engineer_id: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    password_hash: str | None = None,
) -> User:
    if not name.strip():
        raise FieldRejected("name", Said("err.name_empty"))
    try:
        username = normalise_username(username)
    except IdentityError as exc:
        raise FieldRejected("username", str(exc)) from None
    user = User(
        username=username,
        name=name.strip(),
        role=role,
        department=(department or "").strip() or None,
        engineer_id=check_engineer_id(engineer_id),
        email=email,
        phone=phone,
        password_hash=password_hash,
        created_at=now,
        updated_at=now,
    )
    require_roster_link(user)
    return user


def check_engineer_id(engineer_id: str | None) -> str | None:
    value = (engineer_id or "").strip() or None
    if value is not None and not re.fullmatch(ENGINEER_ID_PATTERN, value):
        raise FieldRejected("engineer_id", Said("err.engineer_id"))
    return value


def require_roster_link(user: User) -> None:
    """An engineer acts on what dispatch assigned to a roster engineer, so an engineer account must name one.

    Other roles may carry a link too (a manager who is on the roster); only engineers must.
    """
    if user.role == "engineer" and user.engineer_id is None:
        raise FieldRejected("engineer_id", Said("err.engineer_link"))


def change_user(user: User, *, by: str | None, now: datetime, **changes: Any) -> User:
    """Apply an admin's changes; a new password or disabling also ends every token issued before `now`.

    `by` is the acting admin's username (None for a system key or the CLI): an admin may not lock themselves out.
    Allowed changes: name, role, department, engineer_id, email, phone, disabled, password_hash.
    """
    allowed = {"name", "role", "department", "engineer_id", "email", "phone", "disabled", "password_hash"}
    unknown = set(changes) - allowed
    if unknown:
        raise IdentityError(Said("err.cannot_change", fields=", ".join(sorted(unknown))))
    if by == user.username and (changes.get("disabled") is True or changes.get("role", "admin") != "admin"):
        raise IdentityError(Said("err.own_account"))
    if "name" in changes and not str(changes["name"]).strip():
        raise IdentityError(Said("err.name_empty"))
    update = dict(changes)
    if "department" in update:
        update["department"] = (update["department"] or "").strip() or None
    if "engineer_id" in update:
        update["engineer_id"] = check_engineer_id(update["engineer_id"])
    # The role, department and roster link of a token's caller are read from the user record, so only these need a cut-off.
    if "password_hash" in changes or changes.get("disabled") is True:
        update["tokens_valid_after"] = now.replace(microsecond=now.microsecond // 1000 * 1000)  # as BSON keeps it
    update["updated_at"] = now
    changed = user.model_copy(update=update)
    if "role" in changes:
        # Becoming an engineer needs the link, as creating one does. Clearing the link (engineer_id: null) is allowed
        # for anyone: it is how a link moves to another account, and an unlinked engineer holds no ticket.
        require_roster_link(changed)
    return changed


def token_still_valid(user: User, issued_at: float) -> bool:
    """A token issued (`iat`, to the millisecond) before the user's cut-off is void."""
    return user.tokens_valid_after is None or issued_at >= user.tokens_valid_after.timestamp()


def new_api_key(*, name: str, role: Role, now: datetime) -> tuple[ApiKey, str]:
    """A fresh key record and its secret, `odk_<name>_<32 random bytes, url-safe>`; the secret is shown once."""
    check_key_name(name)
    secret = f"{KEY_PREFIX}{name[:24]}_{secrets.token_urlsafe(32)}"
    return ApiKey(key_hash=key_hash(secret), name=name, role=role, created_at=now), secret


def grace_until(now: datetime, grace: timedelta) -> datetime:
    """When a rotated-out key stops working: at once, or after a grace of at most a week."""
    if grace < timedelta(0) or grace > MAX_GRACE:
        raise IdentityError(Said("err.grace"))
    return now + grace
