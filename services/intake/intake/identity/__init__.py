"""Who may call intake: users with argon2id passwords and signed JWTs, systems with named API keys, six roles.

`service.py` holds the use cases (sign in, change a password, users, API keys) that the HTTP routes and the admin
CLI share; `throttle.py` slows password guessing; `roster.py` checks an engineer's link with dispatch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter
from pymongo.asynchronous.database import AsyncDatabase

from opsdesk_shared.mongo import Document

from .adapters_memory import MemoryApiKeyStore, MemoryUserStore
from .adapters_mongo import MongoApiKeyStore, MongoUserStore
from .authenticator import Authenticator
from .client_address import ClientAddresses
from .domain import key_hash
from .passwords import Passwords
from .ports import ApiKeyStore, UserStore
from .principal import ROLES, Principal, Role
from .roster import NoRoster, Roster
from .service import Accounts
from .throttle import LoginThrottle
from .tokens import TokenSigner

__all__ = [
    "ROLES",
    "Accounts",
    "Authenticator",
    "Identity",
    "LoginThrottle",
    "Principal",
    "Role",
    "TokenSigner",
    "bootstrap_admin_key",
    "identity_router",
    "memory_identity",
    "mongo_identity",
]

log = logging.getLogger(__name__)
BOOTSTRAP_KEY_NAME = "bootstrap"


@dataclass(kw_only=True)
class Identity(Accounts):
    """Accounts as the running service holds them: with the token signer and the authenticator's cache."""

    signer: TokenSigner
    authenticator: Authenticator
    # Vouches for the browser's address behind the console (client_address.py), keyed from the same secret.
    client_addresses: ClientAddresses

    def forget_user(self, username: str) -> None:
        self.authenticator.forget_user(username)

    def forget_key(self, *digests: str) -> None:
        self.authenticator.forget_key(*digests)

    @classmethod
    def build(
        cls,
        *,
        users: UserStore,
        keys: ApiKeyStore,
        jwt_secret: str,
        jwt_ttl_s: int = 3600,
        passwords: Passwords | None = None,
        roster: Roster | None = None,
        cache_s: float = 30.0,
    ) -> Identity:
        signer = TokenSigner(secret=jwt_secret, ttl_s=jwt_ttl_s)
        return cls(
            users=users,
            keys=keys,
            signer=signer,
            authenticator=Authenticator(users=users, keys=keys, signer=signer, cache_s=cache_s),
            client_addresses=ClientAddresses(jwt_secret),
            passwords=passwords or Passwords(),
            roster=roster or NoRoster(),
        )


def mongo_identity(
    db: AsyncDatabase[Document], *, jwt_secret: str, jwt_ttl_s: int = 3600, roster: Roster | None = None
) -> Identity:
    """Identity on intake's database (collections `users` and `api_keys`)."""
    return Identity.build(
        users=MongoUserStore(db), keys=MongoApiKeyStore(db), jwt_secret=jwt_secret, jwt_ttl_s=jwt_ttl_s, roster=roster
    )


def memory_identity(
    *, jwt_secret: str, jwt_ttl_s: int = 3600, passwords: Passwords | None = None, roster: Roster | None = None
) -> Identity:
    """Identity on memory stores with cheap hashing unless told otherwise; for tests."""
    return Identity.build(
        users=MemoryUserStore(),
        keys=MemoryApiKeyStore(),
        jwt_secret=jwt_secret,
        jwt_ttl_s=jwt_ttl_s,
        passwords=passwords or Passwords.cheap(),
        roster=roster,
    )


async def bootstrap_admin_key(keys: ApiKeyStore, token: str) -> None:
    """Make INTAKE_BOOTSTRAP_TOKEN the admin API key named "bootstrap"; an empty token retires that key.

    The token is any string, stored as its SHA-256 like every key. A token that was revoked stays refused, even if
    the setting still holds it: set a new one.
    """
    now = datetime.now(UTC)
    if not token:
        if await keys.revoke(BOOTSTRAP_KEY_NAME, now=now):
            log.warning("bootstrap API key retired: INTAKE_BOOTSTRAP_TOKEN is empty")
        return
    if not await keys.ensure(key_hash(token), name=BOOTSTRAP_KEY_NAME, role="admin", now=now):
        log.warning("INTAKE_BOOTSTRAP_TOKEN was revoked and stays refused; set a new random token to use one")


def identity_router() -> APIRouter:
    """Login, /me, users and API keys under /api/v1; finds its Identity at request.app.state.adapters.identity."""
    from .routes import router

    return router
