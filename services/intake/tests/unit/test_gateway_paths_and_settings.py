"""The gateway's path guard and its signing-key setting, without an app."""

from __future__ import annotations

import logging

import pytest

from intake.gateway.paths import walks_out
from intake.gateway.tokens import internal_minter
from intake.settings import IntakeSettings
from opsdesk_shared.internal_auth import Caller, TokenVerifier
from opsdesk_shared.internal_auth_testing import test_keypair as keypair


@pytest.mark.parametrize(
    "raw",
    ["/api/v1/kb/../x", "/api/v1/kb/./x", "/api/v1/kb/%2e%2e/x", "/api/v1/kb/%2E./x", "/api/v1/kb/..", "/api/v1/kb/%252e%252e/x",
     "/api/v1/kb/a%2fb", "/api/v1/kb/a%2Fb", "/api/v1/kb/a%5c..", "/api/v1/kb/a\\..\\b"],
)
def test_dot_segments_and_encoded_separators_walk_out(raw: str) -> None:
    from urllib.parse import unquote

    assert walks_out(unquote(raw), raw.encode())


@pytest.mark.parametrize("raw", ["/api/v1/kb/search", "/api/v1/kb/v1.2", "/api/v1/kb/...", "/api/v1/kb/a..b", "/api/v1/kb/%E6%89%93", "/"])
def test_ordinary_paths_do_not(raw: str) -> None:
    from urllib.parse import unquote

    assert not walks_out(unquote(raw), raw.encode())


def test_production_refuses_to_start_without_the_signing_key() -> None:
    # Built as "test" and switched, so only intake's own production check runs (the shared ones have their tests).
    settings = IntakeSettings(environment="test", bootstrap_token="b" * 40, jwt_secret="j" * 40)
    settings.environment = "production"
    with pytest.raises(ValueError, match="INTAKE_INTERNAL_SIGNING_KEY"):
        settings._secrets_required_in_production()
    settings.internal_signing_key = keypair()[0]
    assert settings._secrets_required_in_production() is settings


def test_the_configured_key_signs_what_services_verify() -> None:
    token = internal_minter(keypair()[0], environment="production").mint(Caller(subject="u", role="agent"), audience="assets")

    assert TokenVerifier(keypair()[1], audience="assets").verify(token).subject == "u"


def test_without_a_key_development_makes_one_up_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        minter = internal_minter("", environment="development")
    token = minter.mint(Caller(subject="u", role="agent"), audience="assets")

    assert "INTAKE_INTERNAL_SIGNING_KEY is not set" in caplog.text
    with pytest.raises(Exception, match="rejected"):
        TokenVerifier(keypair()[1], audience="assets").verify(token)  # nobody trusts a made-up key
    with pytest.raises(ValueError):
        internal_minter("", environment="production")
