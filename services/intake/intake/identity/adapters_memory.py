"""In-memory identity stores, for unit and edge tests only."""

from __future__ import annotations

from datetime import datetime

from .domain import ApiKey, User
from .principal import Role


class MemoryUserStore:
    def __init__(self) -> None:
        self.users: dict[str, User] = {}

    async def get(self, username: str) -> User | None:
        return self.users.get(username)

    async def add(self, user: User) -> bool:
        if user.username in self.users:
            return False
        self.users[user.username] = user
        return True

    async def save(self, user: User) -> bool:
        current = self.users.get(user.username)
        if current is None or current.version != user.version:
            return False
        self.users[user.username] = user.model_copy(update={"version": user.version + 1})
        return True

    async def list(
        self, *, role: Role | None = None, department: str | None = None, engineer_id: str | None = None,
        limit: int = 100, offset: int = 0,
    ) -> list[User]:
        found = [
            u
            for _, u in sorted(self.users.items())
            if (role is None or u.role == role) and (department is None or u.department == department)
            and (engineer_id is None or u.engineer_id == engineer_id)
        ]
        return found[offset : offset + limit]


class MemoryApiKeyStore:
    def __init__(self) -> None:
        self.keys: dict[str, ApiKey] = {}
        self.current: dict[str, str] = {}  # name -> hash of its newest key
        self.older: dict[str, list[str]] = {}  # name -> hashes it had before

    async def by_hash(self, key_sha256: str) -> ApiKey | None:
        return self.keys.get(key_sha256)

    async def by_name(self, name: str) -> ApiKey | None:
        current = self.current.get(name)
        return self.keys[current] if current else None

    def _make_current(self, key: ApiKey) -> None:
        previous = self.current.get(key.name)
        if previous and previous != key.key_hash:
            self.older.setdefault(key.name, []).append(previous)
        self.keys[key.key_hash] = key
        self.current[key.name] = key.key_hash

    async def ensure(self, key_sha256: str, *, name: str, role: Role, now: datetime) -> bool:
        existing = self.keys.get(key_sha256)
        if existing is not None and existing.revoked_at is not None:
            return False
        if existing is not None and existing.name == name and existing.role == role and self.current.get(name) == key_sha256:
            return True
        await self.revoke(name, now=now)
        self._make_current(ApiKey(key_hash=key_sha256, name=name, role=role, created_at=now))
        return True

    async def create(self, key: ApiKey) -> bool:
        current = await self.by_name(key.name)
        if key.key_hash in self.keys or (current is not None and current.active(key.created_at)):
            return False
        self._make_current(key)
        return True

    async def rotate(self, name: str, replacement: ApiKey, *, old_until: datetime, now: datetime) -> ApiKey | None:
        old = await self.by_name(name)
        if old is None or not old.active(now):
            return None
        self.keys[old.key_hash] = old.model_copy(update={"revoked_at": old_until})
        self._make_current(replacement)
        return old

    async def revoke(self, name: str, *, now: datetime) -> list[str]:
        revoked = []
        for digest in [*self.older.get(name, []), *([self.current[name]] if name in self.current else [])]:
            key = self.keys[digest]
            if key.active(now):
                self.keys[digest] = key.model_copy(update={"revoked_at": now})
                revoked.append(digest)
        return revoked

    async def list(self) -> list[ApiKey]:
        return [self.keys[self.current[name]] for name in sorted(self.current)]
