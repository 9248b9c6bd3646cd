"""Findings 10 and 12 at the gateway: it routes only what it means to, and shows nothing to strangers.

The per-route check walks the merged OpenAPI document, so an operation added without protection fails here.
"""

from __future__ import annotations

import http.client
import re

import httpx
import pytest

from opsdesk_devstack.stack import Stack

from .support import admin, sign_in

pytestmark = pytest.mark.e2e

# Operations a stranger may call: signing in, and what a browser needs before it has a token.
PUBLIC = {("POST", "/api/v1/auth/token"), ("GET", "/healthz"), ("GET", "/readyz")}


def test_every_documented_operation_refuses_a_stranger(stack: Stack) -> None:
    doc = httpx.get(f"{stack.gateway}/api/v1/openapi.json", headers=admin(stack), timeout=30)
    assert doc.status_code == 200, doc.text
    assert doc.json().get("x-missing") == [], "every service must be in the merged document"
    ops = [(m.upper(), p) for p, item in doc.json()["paths"].items() for m in item if m in {"get", "post", "put", "patch", "delete"}]
    assert len(ops) > 80
    open_ops = []
    with httpx.Client(base_url=stack.gateway, timeout=15) as client:
        for method, path in ops:
            if (method, path) in PUBLIC:
                continue
            concrete = re.sub(r"\{[^}]+\}", "x1", path)
            for headers in ({}, {"X-Opsdesk-Role": "admin", "X-Opsdesk-User": "admin"}, {"Authorization": "Bearer forged"}):
                reply = client.request(method, concrete, headers=headers, json={} if method in {"POST", "PUT", "PATCH"} else None)
                if reply.status_code != 401:
                    open_ops.append(f"{method} {concrete} -> {reply.status_code}")
    assert open_ops == [], "\n".join(open_ops)


def test_the_merged_document_and_metrics_are_not_public(stack: Stack) -> None:
    assert httpx.get(f"{stack.gateway}/api/v1/openapi.json", timeout=15).status_code == 401
    assert httpx.get(f"{stack.gateway}/metrics", timeout=15).status_code == 401


@pytest.mark.parametrize("path", [
    "/api/v1/kb/%2e%2e/metrics",
    "/api/v1/kb/%2E%2E/%2E%2E/metrics",
    "/api/v1/kb/../metrics",
    "/api/v1/reports/../api/v1/summary",
    "/api/v1/reports/%2e%2e/%2e%2e/openapi.json",
    "/api/v1/assets/./GZ-2026-000001",
    "/api/v1/kb/articles%2f..%2f..%2fmetrics",
])
def test_a_dot_segment_is_404_before_routing(stack: Stack, path: str) -> None:
    requester = sign_in(stack, "requester", department="财务科")
    # httpx normalises '.' and '..' away; http.client sends the target exactly as an attacker's client would.
    port = int(stack.gateway.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request("GET", path, headers=requester)
        reply = connection.getresponse()
        text = reply.read().decode(errors="replace")
    finally:
        connection.close()
    assert reply.status == 404, (path, reply.status, text[:200])
    assert "# HELP" not in text
