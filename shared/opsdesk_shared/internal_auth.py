"""Internal tokens: how a service behind the gateway knows who is calling, without believing a header.

The gateway (intake) checks the person or system at its door, then, for every request it forwards, mints a token
that lives for seconds: it names the caller (subject, role, department, linked engineer), the one service it is
meant for (audience) and a unique id. Tokens are signed with Ed25519 (JWT `EdDSA`): services hold only the public
key, so a service that is broken into still cannot mint a token for another. A service that calls another does so
as itself (`service:<name>`, role `service`), never as a user.

Every service refuses what it cannot verify with a 401, whatever the request's other headers say; there is no
"no header means internal" path. Only `/healthz` and `/readyz` answer without a token (probes carry none), and
`/metrics` answers to the scrape token that Prometheus is given.
"""

from __future__ import annotations

import hmac
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi import Depends, HTTPException, Request, status
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

# The roles and their groups live in one place (roles.py); re-exported for the services that import them here.
from .roles import DESK_ROLES as DESK_ROLES
from .roles import SERVICE_ROLE as SERVICE_ROLE
from .roles import STAFF_ROLES as STAFF_ROLES

ALGORITHM = "EdDSA"
ISSUER = "opsdesk-gateway"
DEFAULT_TTL_S = 30
LEEWAY_S = 5
# Probes carry no credentials; they reveal only that the process is up and its dependencies answer.
OPEN_PATHS = frozenset({"/healthz", "/readyz"})
METRICS_PATH = "/metrics"


class InvalidInternalToken(Exception):
    """The token is missing, forged, expired, replayed or addressed to another service; the message says which."""


@dataclass(frozen=True)
class Caller:
    """The verified caller of one request behind the gateway: a person, a system key, or another service."""

    subject: str
    role: str
    department: str | None = None
    engineer_id: str | None = None
    name: str | None = None

    @property
    def is_service(self) -> bool:
        return self.role == SERVICE_ROLE

    @property
    def is_staff(self) -> bool:
        """The operations team, the agency (and services acting for them) read behind the gateway."""
        return self.role in STAFF_ROLES or self.is_service

    @property
    def is_desk(self) -> bool:
        return self.role in DESK_ROLES or self.is_service


def service_caller(service: str) -> Caller:
    """A service acting as itself (e.g. the gateway reading a service's OpenAPI document)."""
    return Caller(subject=f"service:{service}", role=SERVICE_ROLE, name=service)


def generate_keypair() -> tuple[str, str]:
    """A fresh Ed25519 key pair as PEM text: (private, public)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private.decode(), public.decode()


def public_key_of(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


class TokenMinter:
    """Held by the gateway only: signs a token for one request to one service."""

    def __init__(self, private_pem: str, *, issuer: str = ISSUER, ttl_s: int = DEFAULT_TTL_S) -> None:
        key = serialization.load_pem_private_key(private_pem.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the internal signing key must be an Ed25519 private key (PEM)")
        self._key = key
        self.issuer = issuer
        self.ttl_s = ttl_s

    def mint(self, caller: Caller, *, audience: str, now: float | None = None) -> str:
        issued = time.time() if now is None else now
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": audience, "sub": caller.subject, "role": caller.role,
            "iat": int(issued), "exp": int(issued) + self.ttl_s, "jti": uuid.uuid4().hex,
        }
        for claim, value in (("dept", caller.department), ("eng", caller.engineer_id), ("name", caller.name)):
            if value:
                claims[claim] = value
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)


class _SeenIds:
    """Token ids already used, kept until their token would have expired anyway: a captured token works once."""

    def __init__(self, limit: int = 200_000) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._limit = limit

    def first_use(self, jti: str, expires: float, now: float) -> bool:
        while self._seen:
            oldest, exp = next(iter(self._seen.items()))
            if exp >= now and len(self._seen) < self._limit:
                break
            self._seen.pop(oldest)
        if jti in self._seen:
            return False
        self._seen[jti] = expires
        return True


class TokenVerifier:
    """Held by every service behind the gateway: accepts only tokens the gateway signed for this service, once."""

    def __init__(self, public_pem: str, *, audience: str, issuer: str = ISSUER, max_ttl_s: int = 300) -> None:
        key = serialization.load_pem_public_key(public_pem.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the internal public key must be an Ed25519 public key (PEM)")
        self._key = key
        self.audience = audience
        self.issuer = issuer
        self.max_ttl_s = max_ttl_s
        self._seen = _SeenIds()

    def verify(self, token: str, *, now: float | None = None) -> Caller:
        current = time.time() if now is None else now
        try:
            claims = jwt.decode(
                token, self._key, algorithms=[ALGORITHM], audience=self.audience, issuer=self.issuer, leeway=LEEWAY_S,
                options={"require": ["iss", "aud", "sub", "role", "iat", "exp", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidInternalToken("internal token expired") from None
        except jwt.InvalidAudienceError:
            raise InvalidInternalToken(f"internal token is not addressed to {self.audience}") from None
        except jwt.PyJWTError as exc:
            raise InvalidInternalToken(f"internal token rejected: {exc}") from None
        if claims["exp"] - claims["iat"] > self.max_ttl_s:
            raise InvalidInternalToken("internal token lives too long")
        if not self._seen.first_use(str(claims["jti"]), float(claims["exp"]) + LEEWAY_S, current):
            raise InvalidInternalToken("internal token already used")
        return Caller(
            subject=str(claims["sub"]), role=str(claims["role"]), department=claims.get("dept"),
            engineer_id=claims.get("eng"), name=claims.get("name"),
        )


def _bearer(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"authorization":
            text = str(value.decode("latin-1"))
            if text[:7].lower() == "bearer ":
                return text[7:].strip()
    return None


def _unauthorized(reason: str) -> JSONResponse:
    # The gateway's error shape (the gateway translates `message` into the caller's language).
    body = {"code": "unauthorized", "message": "Valid credentials are required", "detail": reason}
    return JSONResponse(body, status_code=status.HTTP_401_UNAUTHORIZED, headers={"WWW-Authenticate": 'Bearer realm="opsdesk-internal"'})


class InternalAuthMiddleware:
    """Verifies the internal token on every request but the probes; `/metrics` takes the scrape token instead.

    With no public key configured every request is refused: a service never falls back to trusting its caller.
    """

    def __init__(self, app: ASGIApp, *, verifier: TokenVerifier | None, metrics_token: str | None, internal: bool = True) -> None:
        self.app = app
        self.verifier = verifier
        self.metrics_token = metrics_token or None
        # The gateway itself (internal=False) authenticates people on its own routes; only /metrics is guarded here.
        self.internal = internal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        token = _bearer(scope)
        if path == METRICS_PATH:
            if token and self.metrics_token and hmac.compare_digest(token, self.metrics_token):
                await self.app(scope, receive, send)
            else:
                await _unauthorized("metrics need the scrape token")(scope, receive, send)
            return
        if not self.internal:
            await self.app(scope, receive, send)
            return
        if self.verifier is None:
            await _unauthorized("this service has no internal public key configured and trusts no caller")(scope, receive, send)
            return
        if not token:
            await _unauthorized("an internal token from the gateway is required")(scope, receive, send)
            return
        try:
            caller = self.verifier.verify(token)
        except InvalidInternalToken as exc:
            await _unauthorized(str(exc))(scope, receive, send)
            return
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)


def current_caller(request: Request) -> Caller:
    """The verified caller the middleware put on the request; a route never reads identity anywhere else."""
    caller = getattr(request.state, "caller", None)
    if not isinstance(caller, Caller):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "no verified caller")
    return caller


VerifiedCaller = Annotated[Caller, Depends(current_caller)]


def require_roles(*roles: str, services: bool = True) -> Callable[[Request], Awaitable[Caller]]:
    """A dependency that lets through only the named roles (and, unless told otherwise, other services)."""
    allowed = frozenset(roles)

    async def check(request: Request) -> Caller:
        caller = current_caller(request)
        if caller.role in allowed or (services and caller.is_service):
            return caller
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {caller.role} may not do this")

    return check


def secrets_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
