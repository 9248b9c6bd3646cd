"""Signed bearer tokens for users: HS256 JWTs with a short life; the user record stays the authority on role."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from .domain import User

ALGORITHM = "HS256"
LEEWAY_S = 30
MIN_SECRET_LENGTH = 32


class TokenRejected(Exception):
    """The token is not one we issued, or no longer valid; the message names the reason."""


class TokenSigner:
    def __init__(self, *, secret: str, issuer: str = "opsdesk", ttl_s: int = 3600) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"the JWT secret must be at least {MIN_SECRET_LENGTH} characters")
        if ttl_s <= 0:
            raise ValueError("ttl_s must be positive")
        self._secret = secret
        self.issuer = issuer
        self.ttl_s = ttl_s

    def issue(self, user: User, *, now: datetime | None = None) -> str:
        issued = now or datetime.now(UTC)
        claims: dict[str, Any] = {
            "sub": user.username,
            "role": user.role,
            "dept": user.department,
            "name": user.name,
            # Milliseconds (a JWT NumericDate may be fractional), so a reset cuts off exactly the tokens before it.
            "iat": math.floor(issued.timestamp() * 1000) / 1000,
            "exp": issued + timedelta(seconds=self.ttl_s),
            "iss": self.issuer,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def issue_for(self, audience: str, claims: dict[str, Any], *, ttl_s: int, now: datetime | None = None) -> str:
        """A token good for one narrow use only (`aud`), e.g. opening an event stream: `verify` (every bearer route)
        refuses it, and only `verify(token, audience=...)` with the same audience accepts it."""
        issued = now or datetime.now(UTC)
        body: dict[str, Any] = {
            **claims,
            "aud": audience,
            "iat": math.floor(issued.timestamp() * 1000) / 1000,
            "exp": issued + timedelta(seconds=ttl_s),
            "iss": self.issuer,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(body, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str, *, audience: str | None = None, leeway_s: int = LEEWAY_S) -> dict[str, Any]:
        """The claims of a token we signed that is still in date; TokenRejected otherwise. Without `audience` (a
        user's bearer token) a token that names one is refused; with it, only a token for that audience passes."""
        required = ["sub", "iat", "exp", "iss", "jti"] + (["aud"] if audience is not None else [])
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                audience=audience,
                leeway=leeway_s,
                options={"require": required},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRejected("token expired") from None
        except jwt.InvalidIssuerError:
            raise TokenRejected("token issuer not accepted") from None
        except jwt.InvalidAudienceError:
            # A token signed for one narrow use (an event stream ticket) is never a user's bearer token.
            raise TokenRejected("token meant for another use") from None
        except jwt.InvalidAlgorithmError:
            raise TokenRejected("token algorithm not accepted") from None
        except jwt.InvalidSignatureError:
            raise TokenRejected("token signature invalid") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenRejected(f"token lacks the {exc.claim} claim") from None
        except jwt.ImmatureSignatureError:
            raise TokenRejected("token issued in the future") from None
        except jwt.InvalidTokenError:
            raise TokenRejected("token malformed") from None
        if not isinstance(claims["sub"], str) or not isinstance(claims["iat"], int | float):
            raise TokenRejected("token malformed")
        return claims
