"""User tokens are HS256 JWTs: they verify when untouched and in date, and are refused with a named reason otherwise."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from intake.identity.domain import User
from intake.identity.tokens import TokenRejected, TokenSigner

SECRET = "unit-test-jwt-secret-0123456789abcdef"
NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


@pytest.fixture
def signer() -> TokenSigner:
    return TokenSigner(secret=SECRET, ttl_s=600)


@pytest.fixture
def user() -> User:
    return User(username="wang", name="王小明", role="engineer", department="信息科", created_at=NOW, updated_at=NOW)


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_issued_token_verifies_with_the_users_claims(signer: TokenSigner, user: User) -> None:
    now = datetime.now(UTC)
    claims = signer.verify(signer.issue(user, now=now))

    assert claims["sub"] == "wang"
    assert claims["role"] == "engineer"
    assert claims["dept"] == "信息科"
    assert claims["name"] == "王小明"
    assert claims["iss"] == "opsdesk"
    assert claims["exp"] == int(now.timestamp()) + 600
    assert claims["iat"] == pytest.approx(now.timestamp(), abs=0.001)
    assert len(claims["jti"]) == 32


def test_each_token_has_its_own_jti(signer: TokenSigner, user: User) -> None:
    assert signer.verify(signer.issue(user))["jti"] != signer.verify(signer.issue(user))["jti"]


def test_expired_token_is_refused(signer: TokenSigner, user: User) -> None:
    token = signer.issue(user, now=datetime.now(UTC) - timedelta(seconds=600 + 31))

    with pytest.raises(TokenRejected, match="expired"):
        signer.verify(token)


def test_token_expired_within_the_30s_leeway_still_verifies(signer: TokenSigner, user: User) -> None:
    token = signer.issue(user, now=datetime.now(UTC) - timedelta(seconds=600 + 20))

    assert signer.verify(token)["sub"] == "wang"


def test_token_with_a_changed_payload_is_refused(signer: TokenSigner, user: User) -> None:
    header, payload, signature = signer.issue(user).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"

    with pytest.raises(TokenRejected, match="signature"):
        signer.verify(f"{header}.{_b64(claims)}.{signature}")


def test_unsigned_alg_none_token_is_refused(signer: TokenSigner, user: User) -> None:
    claims = signer.verify(signer.issue(user))
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."

    with pytest.raises(TokenRejected, match="algorithm"):
        signer.verify(forged)


def test_token_signed_with_another_secret_is_refused(signer: TokenSigner, user: User) -> None:
    other = TokenSigner(secret="another-secret-of-enough-length-000000")

    with pytest.raises(TokenRejected, match="signature"):
        signer.verify(other.issue(user))


def test_token_from_another_issuer_is_refused(signer: TokenSigner, user: User) -> None:
    other = TokenSigner(secret=SECRET, issuer="someone-else")

    with pytest.raises(TokenRejected, match="issuer"):
        signer.verify(other.issue(user))


def test_token_without_expiry_is_refused(signer: TokenSigner) -> None:
    token = jwt.encode({"sub": "wang", "iat": datetime.now(UTC), "iss": "opsdesk", "jti": "x"}, SECRET, algorithm="HS256")

    with pytest.raises(TokenRejected, match="exp"):
        signer.verify(token)


def test_garbage_is_refused_as_malformed(signer: TokenSigner) -> None:
    with pytest.raises(TokenRejected, match="malformed"):
        signer.verify("a.b.c")


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="32"):
        TokenSigner(secret="too-short")
