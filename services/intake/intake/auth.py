"""Bearer-token authentication; tokens are stored as SHA-256 hashes, never in clear."""

from __future__ import annotations

import hashlib
import time

from fastapi import HTTPException, Request, status

from .ports import TokenStore


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Authenticator:
    """Checks bearer tokens; remembers recent answers briefly so the hot path does not hit the database."""

    def __init__(self, tokens: TokenStore, *, cache_s: float = 30.0, reject_cache_s: float = 2.0) -> None:
        self._tokens = tokens
        self._cache_s = cache_s
        # Short for unknown tokens: a token registered a moment after a failed try should work almost at once.
        self._reject_cache_s = reject_cache_s
        self._cache: dict[str, tuple[float, str | None]] = {}

    async def role_of(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
        digest = token_hash(token.strip())
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is None or cached[0] < now:
            role = await self._tokens.role_for(digest)
            self._cache[digest] = (now + (self._cache_s if role else self._reject_cache_s), role)
        else:
            role = cached[1]
        if role is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown token", headers={"WWW-Authenticate": "Bearer"})
        return role
