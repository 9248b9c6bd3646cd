"""Turns a request's bearer credential (a user's JWT or a system's API key) into a Principal, or a 401."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TypeVar

import jwt
from fastapi import HTTPException, status
from starlette.requests import Request

from ..texts import Said
from .domain import ApiKey, User, key_hash, token_still_valid
from .ports import ApiKeyStore, UserStore
from .principal import Principal
from .tokens import TokenRejected, TokenSigner

MAX_TOKEN_LENGTH = 4096
MAX_CACHED = 10_000
T = TypeVar("T")


def unauthorized(reason: str | Said) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, reason, headers={"WWW-Authenticate": "Bearer"})


def _looks_like_jwt(token: str) -> bool:
    if token.count(".") != 2:
        return False
    try:
        jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        return False
    return True


class Authenticator:
    """Checks bearer credentials; positive answers are remembered for at most `cache_s` so the hot path rarely
    reads the database. A revoke or disable made through this process (`forget_key`, `forget_user`) takes effect
    at once here; other instances notice within `cache_s`.
    """

    def __init__(self, *, users: UserStore, keys: ApiKeyStore, signer: TokenSigner, cache_s: float = 30.0) -> None:
        self._users = users
        self._keys = keys
        self._signer = signer
        self._cache_s = min(cache_s, 30.0)
        self._key_cache: dict[str, tuple[float, ApiKey]] = {}
        self._user_cache: dict[str, tuple[float, User]] = {}

    async def principal(self, request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise unauthorized(Said("err.no_bearer"))
        if len(token) > MAX_TOKEN_LENGTH:
            raise unauthorized(Said("err.token_too_long"))
        if _looks_like_jwt(token):
            return await self._from_jwt(token)
        return await self._from_key(token)

    async def _from_jwt(self, token: str) -> Principal:
        try:
            claims = self._signer.verify(token)
        except TokenRejected as exc:
            raise unauthorized(Said("err.token_invalid", why=str(exc))) from None
        return await self.user_principal(claims["sub"], issued_at=float(claims["iat"]))

    async def user_principal(self, username: str, *, issued_at: float) -> Principal:
        """The person a verified token (or stream ticket) issued at `issued_at` names, checked against their record:
        unknown, disabled, or all their tokens cut off since: 401."""
        user = await self.user(username)
        if user is None:
            raise unauthorized(Said("err.token_user_unknown"))
        if user.disabled:
            raise unauthorized(Said("err.user_disabled"))
        if not token_still_valid(user, issued_at):
            raise unauthorized(Said("err.token_revoked"))
        # Role, department and roster link come from the record, not the claims: a change applies within the cache window.
        return Principal(
            subject=user.username, name=user.name, role=user.role, department=user.department,
            engineer_id=user.engineer_id, via="jwt",
        )

    async def _from_key(self, token: str) -> Principal:
        key = await self.key(key_hash(token))
        if key is None:
            raise unauthorized(Said("err.key_unknown"))
        if not key.active(datetime.now(UTC)):
            raise unauthorized(Said("err.key_revoked_auth"))
        return Principal(subject=f"key:{key.name}", name=key.name, role=key.role, via="api_key")

    async def user(self, username: str) -> User | None:
        """The user, from the cache when looked up within `cache_s`."""
        now = time.monotonic()
        cached = self._user_cache.get(username)
        if cached is not None and cached[0] > now:
            return cached[1]
        user = await self._users.get(username)
        if user is not None:
            self._remember(self._user_cache, username, (now + self._cache_s, user))
        return user

    async def key(self, digest: str) -> ApiKey | None:
        now = time.monotonic()
        cached = self._key_cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        key = await self._keys.by_hash(digest)
        if key is not None and key.active(datetime.now(UTC)):
            ttl = self._cache_s
            if key.revoked_at is not None:  # in a rotation grace: never cached past its end
                ttl = min(ttl, (key.revoked_at - datetime.now(UTC)).total_seconds())
            self._remember(self._key_cache, digest, (now + ttl, key))
        return key

    @staticmethod
    def _remember(cache: dict[str, tuple[float, T]], k: str, v: tuple[float, T]) -> None:
        if len(cache) >= MAX_CACHED:
            cache.clear()
        cache[k] = v

    def forget_key(self, *digests: str) -> None:
        for digest in digests:
            self._key_cache.pop(digest, None)

    def forget_user(self, username: str) -> None:
        self._user_cache.pop(username, None)
