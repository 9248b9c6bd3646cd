"""Finding 1: every port behind the gateway refuses what it cannot verify, whatever the headers say.

The routes come from each service's own OpenAPI document (read with a valid token), so a route added without
protection is attacked here the day it appears.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time

import httpx
import jwt
import pytest

from opsdesk_devstack.stack import Stack
from opsdesk_shared.internal_auth import Caller, TokenMinter, generate_keypair, service_caller

from .support import minter_of

pytestmark = pytest.mark.e2e

BEHIND = ("dispatch", "sla-monitor", "assets", "reporting", "knowledge")
FORGED = {"X-Opsdesk-User": "admin", "X-Opsdesk-Role": "admin", "X-Opsdesk-Department": "%E8%B4%A2%E5%8A%A1%E7%A7%91"}
OPEN = {"/healthz", "/readyz"}


def operations(stack: Stack, name: str) -> list[tuple[str, str]]:
    url = stack.service(name).url
    token = minter_of(stack).mint(service_caller("security-suite"), audience=name)
    doc = httpx.get(f"{url}/openapi.json", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert doc.status_code == 200, doc.text
    ops = [(method.upper(), re.sub(r"\{[^}]+\}", "x1", path))
           for path, item in doc.json()["paths"].items() for method in item if method in {"get", "post", "put", "patch", "delete"}]
    assert len(ops) >= 5, f"{name} documents only {ops}"
    return ops


def bad_tokens(stack: Stack, audience: str) -> dict[str, str]:
    """Tokens an attacker could present: none of them may be accepted."""
    good = minter_of(stack)
    stranger = TokenMinter(generate_keypair()[0])
    admin = Caller(subject="mallory", role="admin")
    now = time.time()
    other = "dispatch" if audience != "dispatch" else "assets"
    public_pem = stack.internal_public_key
    return {
        "expired": good.mint(admin, audience=audience, now=now - 3600),
        "wrong audience": good.mint(admin, audience=other),
        "another key": stranger.mint(admin, audience=audience),
        "alg none": jwt.encode({"sub": "mallory", "role": "admin", "aud": audience, "iss": "opsdesk-gateway",
                                "iat": int(now), "exp": int(now) + 30, "jti": "x"}, None, algorithm="none"),
        # The classic confusion: the public key used as an HMAC secret.
        "hs256 with the public key": _hs256({"sub": "mallory", "role": "admin", "aud": audience, "iss": "opsdesk-gateway",
                                                 "iat": int(now), "exp": int(now) + 30, "jti": "y"},
                                                public_pem.encode()),
        "user jwt from the gateway": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl",
    }


def _hs256(claims: dict[str, object], key: bytes) -> str:
    """Signed by hand: PyJWT itself refuses to use a PEM key as an HMAC secret, an attacker's tool would not."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
    return signing_input + "." + b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())


@pytest.mark.parametrize("name", BEHIND)
def test_every_route_without_a_token_or_with_forged_headers_is_401(stack: Stack, name: str) -> None:
    url = stack.service(name).url
    served: list[str] = []
    with httpx.Client(base_url=url, timeout=10) as client:
        for method, path in operations(stack, name):
            if path in OPEN:
                continue
            for headers in ({}, FORGED):
                reply = client.request(method, path, headers=headers, json={} if method in {"POST", "PUT", "PATCH"} else None)
                if reply.status_code != 401:
                    served.append(f"{method} {path} {headers and 'forged'} -> {reply.status_code}")
    assert served == []


@pytest.mark.parametrize("name", BEHIND)
def test_expired_misaddressed_and_forged_tokens_are_401(stack: Stack, name: str) -> None:
    url = stack.service(name).url
    method, path = next((m, p) for m, p in operations(stack, name) if m == "GET" and p not in OPEN and "x1" not in p)
    refused = {}
    for kind, token in bad_tokens(stack, name).items():
        reply = httpx.request(method, url + path, headers={"Authorization": f"Bearer {token}", **FORGED}, timeout=10)
        refused[kind] = reply.status_code
    assert refused == {kind: 401 for kind in refused}


def test_a_captured_token_works_once(stack: Stack) -> None:
    url = stack.service("dispatch").url
    token = minter_of(stack).mint(Caller(subject="desk", role="agent"), audience="dispatch")
    first = httpx.get(f"{url}/api/v1/engineers", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    again = httpx.get(f"{url}/api/v1/engineers", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert first.status_code == 200, first.text
    assert again.status_code == 401


def test_metrics_need_the_scrape_token_everywhere(stack: Stack) -> None:
    for name in ("intake", *BEHIND):
        url = stack.service(name).url
        assert httpx.get(f"{url}/metrics", timeout=10).status_code == 401, name
        assert httpx.get(f"{url}/metrics", headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 401, name
        scraped = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {stack.metrics_token}"}, timeout=10)
        assert scraped.status_code == 200, name


def test_probes_stay_open_and_say_nothing_secret(stack: Stack) -> None:
    for name in ("intake", *BEHIND):
        reply = httpx.get(f"{stack.service(name).url}/healthz", timeout=10)
        assert reply.status_code == 200
        assert set(reply.json()) <= {"status", "checks", "service"}

