"""Sign-ins and waits the security tests share."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from opsdesk_devstack.stack import Stack
from opsdesk_shared.internal_auth import TokenMinter

PASSWORD = "Security-suite-pass-1"


def admin(stack: Stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.token}"}


def sign_in(stack: Stack, role: str, *, department: str | None = None, engineer_id: str | None = None,
            email: str | None = None, prefix: str | None = None) -> dict[str, str]:
    """A fresh user of `role`, created by the administrator, signed in; returns the Authorization header."""
    username = f"{prefix or role}.{uuid.uuid4().hex[:8]}"
    body: dict[str, Any] = {"username": username, "name": username, "role": role, "department": department, "password": PASSWORD}
    if engineer_id:
        body["engineer_id"] = engineer_id
    if email:
        body["email"] = email
    created = httpx.post(f"{stack.gateway}/api/v1/users", json=body, headers=admin(stack), timeout=15)
    assert created.status_code == 201, created.text
    login = httpx.post(f"{stack.gateway}/api/v1/auth/token", json={"username": username, "password": PASSWORD}, timeout=15)
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def wait_for(check: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def minter_of(stack: Stack) -> TokenMinter:
    """Signs as the stack's gateway does: for tests that must present a valid but wrongly used token."""
    return stack.internal_auth("any").minter
