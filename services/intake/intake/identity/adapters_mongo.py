"""Identity in intake's database: `users` keyed by username, `api_keys` keyed by the SHA-256 of the secret.

FerretDB v1 only indexes `_id` equality, so every hot lookup is by `_id`: a key by its hash, a user by username,
and a key by name through a small pointer document `_id = "name:<name>"` holding the name's current hash and the
hashes still inside a rotation grace.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from opsdesk_shared.mongo import Document, document_lock, update_if

from .domain import ApiKey, User
from .principal import Role

USERS = "users"
API_KEYS = "api_keys"
NAME_PREFIX = "name:"


def _user_doc(user: User) -> Document:
    doc = user.model_dump(mode="python")
    doc["_id"] = doc.pop("username")
    return doc


def _user(doc: Document) -> User:
    fields = dict(doc)
    fields["username"] = fields.pop("_id")
    return User.model_validate(fields)


class MongoUserStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._users = db[USERS]

    async def get(self, username: str) -> User | None:
        doc = await self._users.find_one({"_id": username})
        return _user(doc) if doc else None

    async def add(self, user: User) -> bool:
        try:
            await self._users.insert_one(_user_doc(user))
        except DuplicateKeyError:
            return False
        return True

    async def save(self, user: User) -> bool:
        doc = _user_doc(user)
        doc.pop("_id")
        doc["version"] = user.version + 1
        return bool(await update_if(self._users, user.username, expect={"version": user.version}, update={"$set": doc}))

    async def list(
        self, *, role: Role | None = None, department: str | None = None, engineer_id: str | None = None,
        limit: int = 100, offset: int = 0,
    ) -> list[User]:
        query: Document = {}
        if role is not None:
            query["role"] = role
        if department is not None:
            query["department"] = department
        if engineer_id is not None:
            query["engineer_id"] = engineer_id
        cursor = self._users.find(query).sort("_id", 1).skip(offset).limit(limit)
        return [_user(doc) async for doc in cursor]


def _key_doc(key: ApiKey) -> Document:
    doc = key.model_dump(mode="python")
    doc["_id"] = doc.pop("key_hash")
    return doc


def _key(doc: Document) -> ApiKey:
    fields = dict(doc)
    fields["key_hash"] = fields.pop("_id")
    return ApiKey.model_validate(fields)


class MongoApiKeyStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._keys = db[API_KEYS]

    async def by_hash(self, key_sha256: str) -> ApiKey | None:
        if key_sha256.startswith(NAME_PREFIX):
            return None
        doc = await self._keys.find_one({"_id": key_sha256})
        return _key(doc) if doc else None

    async def _pointer(self, name: str) -> Document | None:
        return await self._keys.find_one({"_id": NAME_PREFIX + name})

    async def by_name(self, name: str) -> ApiKey | None:
        pointer = await self._pointer(name)
        return await self.by_hash(pointer["current"]) if pointer and pointer.get("current") else None

    async def _point(self, key: ApiKey, *, previous: list[dict[str, Any]]) -> None:
        """Make the key its name's current one."""
        await self._keys.replace_one(
            {"_id": NAME_PREFIX + key.name},
            {"current": key.key_hash, "previous": previous, "updated_at": key.created_at},
            upsert=True,
        )

    async def _revoke_locked(self, pointer: Document | None, now: datetime) -> list[str]:
        if pointer is None:
            return []
        hashes = [p["hash"] for p in pointer.get("previous", [])]
        if pointer.get("current"):
            hashes.append(pointer["current"])
        revoked = []
        for digest in hashes:
            key = await self.by_hash(digest)
            if key is not None and key.active(now):
                await self._keys.update_one({"_id": digest}, {"$set": {"revoked_at": now}})
                revoked.append(digest)
        if pointer.get("previous"):
            await self._keys.update_one({"_id": pointer["_id"]}, {"$set": {"previous": [], "updated_at": now}})
        return revoked

    async def ensure(self, key_sha256: str, *, name: str, role: Role, now: datetime) -> bool:
        async with document_lock(self._keys, NAME_PREFIX + name):
            existing = await self.by_hash(key_sha256)
            if existing is not None and existing.revoked_at is not None:
                return False
            pointer = await self._pointer(name)
            if existing is not None and (existing.name, existing.role) == (name, role) and pointer and pointer.get("current") == key_sha256:
                return True
            if pointer is not None and pointer.get("current") == key_sha256:
                pointer = {**pointer, "current": None}  # the same secret is re-pointed below, not revoked
            await self._revoke_locked(pointer, now)
            key = ApiKey(key_hash=key_sha256, name=name, role=role, created_at=now)
            await self._keys.replace_one({"_id": key_sha256}, _key_doc(key), upsert=True)
            await self._point(key, previous=[])
            return True

    async def create(self, key: ApiKey) -> bool:
        async with document_lock(self._keys, NAME_PREFIX + key.name):
            pointer = await self._pointer(key.name)
            current = await self.by_hash(pointer["current"]) if pointer and pointer.get("current") else None
            if current is not None and current.active(key.created_at):
                return False
            try:
                await self._keys.insert_one(_key_doc(key))
            except DuplicateKeyError:
                return False
            await self._point(key, previous=_still_working(pointer, key.created_at))
            return True

    async def rotate(self, name: str, replacement: ApiKey, *, old_until: datetime, now: datetime) -> ApiKey | None:
        async with document_lock(self._keys, NAME_PREFIX + name):
            pointer = await self._pointer(name)
            old = await self.by_hash(pointer["current"]) if pointer and pointer.get("current") else None
            if old is None or not old.active(now):
                return None
            await self._keys.update_one({"_id": old.key_hash}, {"$set": {"revoked_at": old_until}})
            previous = _still_working(pointer, now)
            if old_until > now:
                previous.append({"hash": old.key_hash, "until": old_until})
            await self._keys.insert_one(_key_doc(replacement))
            await self._point(replacement, previous=previous)
            return old

    async def revoke(self, name: str, *, now: datetime) -> list[str]:
        async with document_lock(self._keys, NAME_PREFIX + name):
            return await self._revoke_locked(await self._pointer(name), now)

    async def list(self) -> list[ApiKey]:
        keys = []
        async for pointer in self._keys.find({"_id": {"$regex": f"^{NAME_PREFIX}"}}).sort("_id", 1):
            if pointer.get("current"):
                key = await self.by_hash(pointer["current"])
                if key is not None:
                    keys.append(key)
        return keys


def _still_working(pointer: Document | None, now: datetime) -> list[dict[str, Any]]:
    """The pointer's rotated-out hashes whose grace has not run out yet."""
    if pointer is None:
        return []
    return [p for p in pointer.get("previous", []) if p["until"] > now]
