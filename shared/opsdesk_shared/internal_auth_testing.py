"""For tests only: a key pair for the process and an httpx `Auth` that mints a fresh internal token per request.

Tests choose the caller per request with `X-Opsdesk-User` / `-Role` / `-Department` / `-Engineer` headers, which this
auth turns into token claims and removes: the service under test never sees them, exactly as in production where
such headers are ignored. Without them the caller is an admin.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from functools import lru_cache
from urllib.parse import unquote

import httpx

from .internal_auth import Caller, TokenMinter, generate_keypair

PRIVATE_ENV = "OPSDESK_TEST_INTERNAL_PRIVATE_KEY"
PUBLIC_ENV = "OPSDESK_INTERNAL_PUBLIC_KEY"
TEST_HEADERS = {"x-opsdesk-user": "subject", "x-opsdesk-role": "role", "x-opsdesk-department": "department", "x-opsdesk-engineer": "engineer_id"}


@lru_cache(maxsize=1)
def test_keypair() -> tuple[str, str]:
    """One key pair per test process, published in the environment so that settings built later verify with it."""
    private = os.environ.get(PRIVATE_ENV)
    public = os.environ.get(PUBLIC_ENV)
    if not (private and public):
        private, public = generate_keypair()
        os.environ[PRIVATE_ENV] = private
        os.environ[PUBLIC_ENV] = public
    return private, public


class InternalTokenAuth(httpx.Auth):
    """Signs every request for `audience` as the gateway would, as the caller the test's headers name."""

    def __init__(self, audience: str, *, private_pem: str | None = None, default: Caller | None = None) -> None:
        self.minter = TokenMinter(private_pem or test_keypair()[0])
        self.audience = audience
        self.default = default or Caller(subject="test-admin", role="admin", name="test-admin")

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        claims = {"subject": self.default.subject, "role": self.default.role, "department": self.default.department,
                  "engineer_id": self.default.engineer_id, "name": self.default.name}
        if "x-opsdesk-role" in request.headers and "x-opsdesk-user" not in request.headers:
            claims["subject"] = claims["name"] = f"test-{request.headers['x-opsdesk-role']}"
        for header, claim in TEST_HEADERS.items():
            if header in request.headers:
                claims[claim] = unquote(request.headers[header])
                del request.headers[header]
        caller = Caller(**claims)  # type: ignore[arg-type]
        request.headers["Authorization"] = "Bearer " + self.minter.mint(caller, audience=self.audience)
        yield request
