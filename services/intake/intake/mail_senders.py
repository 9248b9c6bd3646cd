"""Mail senders known to the desk: the staff addresses and requesters' account addresses, read from identity's users.

Staff addresses are the e-mail addresses on enabled accounts of the staff roles (agent, manager, admin, engineer);
there is no separate list to keep in step. The staff are a few dozen accounts, so they are read page by page for a
reply mail that quotes a ticket number (the only mail that asks), rather than indexed by address.
"""

from __future__ import annotations

from typing import Any, Protocol

from .domain import Actor

STAFF_ROLES = ("agent", "manager", "admin", "engineer")
PAGE = 200


class _User(Protocol):
    username: str
    name: str
    role: Any
    department: str | None
    email: str | None
    disabled: bool


class _Users(Protocol):
    async def get(self, username: str) -> Any: ...

    async def list(self, *, role: Any = None, department: str | None = None, limit: int = 100, offset: int = 0) -> Any: ...


class AccountMailSenders:
    """MailSenders over identity's user store."""

    def __init__(self, users: _Users) -> None:
        self.users = users

    async def staff(self, address: str) -> list[Actor]:
        wanted = address.strip().casefold()
        found: list[Actor] = []
        if not wanted:
            return found
        for role in STAFF_ROLES:
            offset = 0
            while True:
                page: list[_User] = list(await self.users.list(role=role, limit=PAGE, offset=offset))
                for user in page:
                    if not user.disabled and (user.email or "").strip().casefold() == wanted:
                        found.append(
                            Actor(
                                subject=user.username, name=user.name, role=user.role, department=user.department,
                                engineer_id=getattr(user, "engineer_id", None), source="email",
                            )
                        )
                if len(page) < PAGE:
                    break
                offset += PAGE
        return found

    async def email_of(self, username: str) -> str | None:
        user = await self.users.get(username)
        if user is None or user.disabled:
            return None
        email = user.email
        return str(email) if email else None


class NoMailSenders:
    """No accounts to ask (identity not wired): only the address on the ticket itself lets a reply thread."""

    async def staff(self, address: str) -> list[Actor]:
        return []

    async def email_of(self, username: str) -> str | None:
        return None
