"""People named in other services' events, as identity's users know them (ports.People): the ticket's history shows
the person who acted through dispatch (an engineer's acceptance, a desk agent's reassign or confirmation), with the
name on their account, and dispatch only for its own automatic decisions."""

from __future__ import annotations

from typing import Any, Protocol

from opsdesk_shared.roles import ROLES

from .domain import DISPATCH, Actor
from .ports import People


class _Users(Protocol):
    async def get(self, username: str) -> Any: ...

    async def list(self, *, engineer_id: str | None = None, limit: int = 100) -> Any: ...


def _actor(user: Any) -> Actor:
    role = user.role if user.role in ROLES else "agent"
    return Actor(
        subject=user.username, name=user.name, role=role, department=user.department,  # type: ignore[arg-type]
        engineer_id=getattr(user, "engineer_id", None), source="bus",
    )


class AccountPeople:
    """People over identity's user store."""

    def __init__(self, users: _Users) -> None:
        self.users = users

    async def actor_of(self, subject: str) -> Actor | None:
        user = await self.users.get(subject.strip().lower()) if subject else None
        return _actor(user) if user is not None else None

    async def engineer(self, engineer_id: str) -> Actor | None:
        for user in await self.users.list(engineer_id=engineer_id, limit=5):
            if not user.disabled:
                return _actor(user)
        return None


async def who(people: People | None, subject: str | None, *, engineer_id: str | None = None, role: str = "agent") -> Actor:
    """The actor behind a `by` in another service's event. `dispatch` (or nothing) is dispatch's own automatic
    decision; a subject identity knows is that person with their name; one it does not know (an API key, a user since
    deleted) is kept as named. Without a `by` (an event from before the field), the engineer linked to `engineer_id`
    when the act is an engineer's."""
    if subject and subject != DISPATCH.subject:
        found = await people.actor_of(subject) if people is not None else None
        if found is not None:
            return found
        known = role if role in ROLES else "agent"
        return Actor(subject=subject, role=known, engineer_id=engineer_id, source="bus")
    if subject is None and engineer_id is not None:
        found = await people.engineer(engineer_id) if people is not None else None
        return found or Actor(subject=f"engineer:{engineer_id}", role="engineer", engineer_id=engineer_id, source="bus")
    return DISPATCH
