"""What identity needs from storage: users by username, API keys by the hash of their secret or by name."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from .domain import ApiKey, User
from .principal import Role


class UserStore(Protocol):
    async def get(self, username: str) -> User | None: ...

    async def add(self, user: User) -> bool:
        """Store a new user; False when the username is taken."""
        ...

    async def save(self, user: User) -> bool:
        """Replace the user if the stored one is still at `user.version` (the saved one gets version + 1);
        False when it changed meanwhile or is gone."""
        ...

    async def list(
        self, *, role: Role | None = None, department: str | None = None, engineer_id: str | None = None,
        limit: int = 100, offset: int = 0,
    ) -> list[User]:
        """Users ordered by username."""
        ...


class ApiKeyStore(Protocol):
    async def by_hash(self, key_sha256: str) -> ApiKey | None:
        """The key whose secret hashes to this, revoked or not."""
        ...

    async def by_name(self, name: str) -> ApiKey | None:
        """The name's current key, revoked or not; None when the name was never used."""
        ...

    async def ensure(self, key_sha256: str, *, name: str, role: Role, now: datetime) -> bool:
        """Make this hash the name's current key (revoking a different previous one at once); False, changing
        nothing, when this hash was revoked before: a revoked secret never comes back."""
        ...

    async def create(self, key: ApiKey) -> bool:
        """Store a new key; False when its name has an active key (rotate it instead)."""
        ...

    async def rotate(self, name: str, replacement: ApiKey, *, old_until: datetime, now: datetime) -> ApiKey | None:
        """Make `replacement` current; the old key works until `old_until`. The old key, or None when the name
        has no active key."""
        ...

    async def revoke(self, name: str, *, now: datetime) -> list[str]:
        """Revoke every still-working key of the name (including ones in a rotation grace); their hashes."""
        ...

    async def list(self) -> list[ApiKey]:
        """The current key of every name, ordered by name."""
        ...
