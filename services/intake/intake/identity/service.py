"""Identity's use cases: signing in, changing a password, users and API keys. The HTTP routes and the admin CLI
(`python -m intake.admin`) both call these, so a rule (the roster link, the throttle, the security log) holds
whichever door a change comes through. Each raises one of the errors below; the edges translate them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..texts import Said, said_of
from . import directory
from .domain import ApiKey, FieldRejected, IdentityError, User, change_user, grace_until, new_api_key, new_user
from .events import security_event
from .passwords import Passwords
from .ports import ApiKeyStore, UserStore
from .principal import Principal, Role
from .roster import NoRoster, Roster, RosterUnavailable
from .throttle import LoginThrottle, Throttle
from .tokens import TokenSigner

__all__ = [
    "Accounts",
    "BadCredentials",
    "Conflict",
    "FieldRejected",
    "NotAllowed",
    "NotFound",
    "RosterUnavailable",
    "Throttled",
]


class NotFound(Exception):
    """No such user or key (404)."""


class Conflict(Exception):
    """The change clashes with what is stored (409): a taken name, a concurrent change, a self-lock-out."""


class NotAllowed(Exception):
    """The caller may not do this (403), e.g. an API key changing a password or a wrong current password."""


class BadCredentials(Exception):
    """Unknown user, wrong password or disabled account: one answer for all three (401)."""


class Throttled(Exception):
    """Too many recent failures for this account from this address, or from this address (429)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many failed attempts; retry in {int(retry_after) + 1} s")
        self.retry_after = retry_after


@dataclass(kw_only=True)
class Accounts:
    """What the account use cases need. The service's `Identity` adds the token signer and the credential cache;
    the CLI uses this on the same stores."""

    users: UserStore
    keys: ApiKeyStore
    passwords: Passwords = field(default_factory=Passwords)
    roster: Roster = field(default_factory=NoRoster)
    throttle: Throttle = field(default_factory=LoginThrottle)

    def forget_user(self, username: str) -> None:
        """Drop cached credentials of the user (the service's authenticator caches; the CLI has nothing to drop)."""

    def forget_key(self, *digests: str) -> None:
        """Drop cached API keys by hash."""


def _who(by: Principal | None) -> str:
    return by.subject if by is not None else "cli"


# --- signing in -----------------------------------------------------------------------------------------------------


async def _not_throttled(accounts: Accounts, *, account: str, source: str, kind: str) -> None:
    wait = await accounts.throttle.retry_after(account=account, source=source)
    if wait > 0:
        security_event(
            "sign_in_throttled" if kind == "sign_in" else "password_change_throttled",
            by=None, username=account, source=source, retry_after_s=round(wait, 1),
        )
        raise Throttled(wait)


async def sign_in(accounts: Accounts, *, signer: TokenSigner, username: str, password: str, source: str) -> str:
    """A bearer token for the user, or BadCredentials; Throttled while this account or address must wait."""
    account = username.strip().lower()
    await _not_throttled(accounts, account=account, source=source, kind="sign_in")
    user = await accounts.users.get(account)
    # An unknown user costs one argon2 verification too, so timing does not tell which usernames exist.
    ok = await asyncio.to_thread(accounts.passwords.verify, user.password_hash if user else None, password)
    if user is None or not ok or user.disabled:
        await accounts.throttle.failed(account=account, source=source)
        reason = "unknown user" if user is None else "disabled" if ok else "wrong password"
        security_event("sign_in_failed", by=None, username=account, source=source, reason=reason)
        raise BadCredentials
    await accounts.throttle.succeeded(account=account, source=source)
    security_event("signed_in", by=account, source=source)
    if user.password_hash and accounts.passwords.needs_rehash(user.password_hash):
        rehashed = await asyncio.to_thread(accounts.passwords.hash, password)
        if await accounts.users.save(user.model_copy(update={"password_hash": rehashed})):
            accounts.forget_user(account)
    return signer.issue(user)


async def change_password(
    accounts: Accounts, *, signer: TokenSigner, principal: Principal, current: str, new: str, source: str, now: datetime
) -> str:
    """Set the caller's own password after checking the current one, under the sign-in throttle; every token issued
    before ends, and the caller gets a fresh one."""
    if principal.username is None:
        raise NotAllowed(Said("err.api_key_no_password"))
    account = principal.username
    await _not_throttled(accounts, account=account, source=source, kind="password")
    user = await accounts.users.get(account)
    if user is None or not await asyncio.to_thread(accounts.passwords.verify, user.password_hash, current):
        await accounts.throttle.failed(account=account, source=source)
        security_event("password_change_failed", by=account, username=account, source=source)
        raise NotAllowed(Said("err.password_wrong"))
    await accounts.throttle.succeeded(account=account, source=source)
    new_hash = await asyncio.to_thread(accounts.passwords.hash, new)
    if not await accounts.users.save(change_user(user, by=None, now=now, password_hash=new_hash)):
        raise Conflict(Said("err.account_changed"))
    accounts.forget_user(account)
    security_event("password_changed", by=account, username=account, source=source)
    return signer.issue(user, now=now)


# --- users ----------------------------------------------------------------------------------------------------------


async def _check_roster_link(accounts: Accounts, *, engineer_id: str, username: str) -> None:
    """The engineer exists on dispatch's roster and no other enabled user is linked to them (else that user could
    act as them); a disabled account keeps its link for the record but no longer holds it, so the link can move.
    RosterUnavailable when dispatch cannot tell."""
    if not await accounts.roster.has_engineer(engineer_id):
        raise FieldRejected("engineer_id", Said("err.no_engineer", engineer=engineer_id))
    linked = [
        u.username for u in await accounts.users.list(engineer_id=engineer_id, limit=100)
        if u.username != username and not u.disabled
    ]
    if linked:
        raise Conflict(Said("err.engineer_linked", engineer=engineer_id, user=linked[0]))


async def create_user(
    accounts: Accounts,
    *,
    username: str,
    name: str,
    role: Role,
    now: datetime,
    by: Principal | None,
    department: str | None = None,
    engineer_id: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    password: str | None = None,
) -> User:
    """A new user; an engineer must be linked to a roster engineer, checked with dispatch."""
    user = new_user(
        username=username, name=name, role=role, department=department, engineer_id=engineer_id, email=email,
        phone=phone, now=now,
    )
    if await accounts.users.get(user.username) is not None:
        raise Conflict(Said("err.user_exists", user=user.username))
    if user.engineer_id is not None:
        await _check_roster_link(accounts, engineer_id=user.engineer_id, username=user.username)
    if password:
        user = user.model_copy(update={"password_hash": await asyncio.to_thread(accounts.passwords.hash, password)})
    if not await accounts.users.add(user):
        raise Conflict(Said("err.user_exists", user=user.username))
    security_event("user_created", by=_who(by), username=user.username, role=user.role, engineer_id=user.engineer_id)
    return user


NOT_NULL = ("name", "role", "disabled")


async def update_user(
    accounts: Accounts, *, username: str, changes: dict[str, Any], now: datetime, by: Principal | None,
    password: str | None = None,
) -> User:
    """Change role, department, roster link, contact details, disable, or set a new password; disabling or a new
    password ends the user's tokens at once. An admin may not disable or demote themselves."""
    for name in NOT_NULL:
        if name in changes and changes[name] is None:
            raise FieldRejected(name, Said("err.field_null", field=name))
    user = await accounts.users.get(username.strip().lower())
    if user is None:
        raise NotFound(Said("err.user_not_found", user=username))
    if password is not None:
        changes = {**changes, "password_hash": await asyncio.to_thread(accounts.passwords.hash, password)}
    try:
        updated = change_user(user, by=by.username if by else None, now=now, **changes)
    except FieldRejected:
        raise
    except IdentityError as exc:
        raise Conflict(said_of(exc)) from None
    # A new link, or an old one coming back with a re-enabled account (it may have moved on meanwhile).
    relinked = updated.engineer_id != user.engineer_id or (user.disabled and not updated.disabled)
    if updated.engineer_id is not None and relinked and not updated.disabled:
        await _check_roster_link(accounts, engineer_id=updated.engineer_id, username=user.username)
    if not await accounts.users.save(updated):
        raise Conflict(Said("err.user_changed", user=user.username))
    accounts.forget_user(user.username)
    changed = sorted(k if k != "password_hash" else "password" for k in changes)
    security_event("user_changed", by=_who(by), username=user.username, changed=changed)
    if password is not None:
        security_event("password_changed", by=_who(by), username=user.username)
    return updated


async def get_user(accounts: Accounts, *, username: str) -> User:
    user = await accounts.users.get(username.strip().lower())
    if user is None:
        raise NotFound(Said("err.user_not_found", user=username))
    return user


async def list_users(
    accounts: Accounts, *, role: Role | None = None, department: str | None = None, limit: int = 100, offset: int = 0
) -> list[User]:
    return await accounts.users.list(role=role, department=department, limit=limit, offset=offset)


async def find_people(accounts: Accounts, *, q: str, limit: int = 20, offset: int = 0, batch: int = 500) -> tuple[list[User], bool]:
    """The desk's directory (directory.py): enabled users matching every term of `q`, in username order; the page
    at `offset` among the matches and whether more follow."""
    terms = directory.matcher(q)
    found: list[User] = []
    seen = 0
    while True:
        users = await accounts.users.list(limit=batch, offset=seen)
        seen += len(users)
        found.extend(u for u in users if not u.disabled and directory.matches(u, terms))
        if len(found) > offset + limit or len(users) < batch:
            break
    return found[offset : offset + limit], len(found) > offset + limit


# --- API keys -------------------------------------------------------------------------------------------------------


async def create_key(accounts: Accounts, *, name: str, role: Role, now: datetime, by: Principal | None) -> tuple[ApiKey, str]:
    """A new named key and its secret (shown once); a name with an active key is a Conflict (rotate it instead)."""
    try:
        key, secret = new_api_key(name=name, role=role, now=now)
    except IdentityError as exc:
        raise FieldRejected("name", said_of(exc)) from None
    if not await accounts.keys.create(key):
        raise Conflict(Said("err.key_exists", key=name))
    security_event("key_created", by=_who(by), key=name, role=role)
    return key, secret


async def rotate_key(
    accounts: Accounts, *, name: str, grace: timedelta, now: datetime, by: Principal | None
) -> tuple[ApiKey, str, datetime]:
    """A new secret for the key; the old one works until the returned time (now, or after a grace of up to 7 days)."""
    current = await accounts.keys.by_name(name)
    if current is None:
        raise NotFound(Said("err.key_not_found", key=name))
    try:
        until = grace_until(now, grace)
    except IdentityError as exc:
        raise FieldRejected("grace_s", said_of(exc)) from None
    replacement, secret = new_api_key(name=name, role=current.role, now=now)
    old = await accounts.keys.rotate(name, replacement, old_until=until, now=now)
    if old is None:
        raise NotFound(Said("err.key_revoked", key=name))
    accounts.forget_key(old.key_hash)
    security_event("key_rotated", by=_who(by), key=name, old_valid_until=until.isoformat())
    return replacement, secret, until


async def revoke_key(accounts: Accounts, *, name: str, now: datetime, by: Principal | None) -> int:
    """Revoke every still-working secret of the key; how many there were."""
    if await accounts.keys.by_name(name) is None:
        raise NotFound(Said("err.key_not_found", key=name))
    revoked = await accounts.keys.revoke(name, now=now)
    accounts.forget_key(*revoked)
    security_event("key_revoked", by=_who(by), key=name, secrets=len(revoked))
    return len(revoked)


async def list_keys(accounts: Accounts) -> list[ApiKey]:
    return await accounts.keys.list()
