"""The people of a desk's day, as the gateway of a running `Stack` knows them: the administrator's token, users made
and signed in, the demo roster's engineers (each linked to one user once per stack), and waiting for the system to
catch up. One module for every layer that signs people in (e2e, journeys, security), so they cannot drift apart."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from opsdesk_shared.internal_auth import TokenMinter

from .stack import Stack

PASSWORD = "Journey-day-pass-1"
# The demo roster dispatch seeds (DISPATCH_SEED_DEMO): a roster engineer may be linked to one user only.
ROSTER = ("eng-onsite-1", "eng-onsite-2", "eng-mobile-1", "eng-senior-1", "eng-pm-1")
# The configured site is Asia/Shanghai: every time a person sees carries this offset.
LOCAL_OFFSET = "+08:00"
TIMEOUT = 15.0

# Signed-in users linked to roster engineers, per stack (by its var dir): a stack shared by many tests links each
# roster engineer once, and every test that needs that engineer signs in as the same user.
_LINKED: dict[str, dict[str, dict[str, str]]] = {}


def admin(stack: Stack) -> dict[str, str]:
    """The bootstrap administrator's Authorization header (the token `make run` prints)."""
    return {"Authorization": f"Bearer {stack.token}"}


def unique(prefix: str) -> str:
    """A user name nobody else on a shared stack has: `prefix` plus a short random suffix."""
    return f"{prefix}.{uuid.uuid4().hex[:8]}"


def create_user(stack: Stack, role: str, *, username: str | None = None, name: str | None = None,
                department: str | None = None, engineer_id: str | None = None, email: str | None = None,
                prefix: str | None = None) -> dict[str, Any]:
    """The administrator creates a user; returns the created user as the gateway shows it (201 asserted)."""
    username = username or unique(prefix or role)
    body: dict[str, Any] = {"username": username, "name": name or username, "role": role, "password": PASSWORD}
    if department is not None:
        body["department"] = department
    if engineer_id:
        body["engineer_id"] = engineer_id
    if email:
        body["email"] = email
    created = httpx.post(f"{stack.gateway}/api/v1/users", json=body, headers=admin(stack), timeout=TIMEOUT)
    assert created.status_code == 201, created.text
    user: dict[str, Any] = created.json()
    return user


def token_for(stack: Stack, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Signs in with a username and password; returns the Authorization header."""
    login = httpx.post(f"{stack.gateway}/api/v1/auth/token", json={"username": username, "password": password}, timeout=TIMEOUT)
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def sign_in(stack: Stack, role: str, *, department: str | None = None, engineer_id: str | None = None,
            email: str | None = None, name: str | None = None, username: str | None = None,
            prefix: str | None = None) -> dict[str, str]:
    """A fresh user of `role`, created by the administrator, signed in; returns the Authorization header."""
    user = create_user(stack, role, username=username, name=name, department=department, engineer_id=engineer_id,
                       email=email, prefix=prefix)
    return token_for(stack, user["username"])


def engineer(stack: Stack, engineer_id: str) -> dict[str, str]:
    """The signed-in user linked to roster engineer `engineer_id` on this stack, made and linked the first time."""
    linked = _LINKED.setdefault(str(stack.var_dir), {})
    if engineer_id not in linked:
        linked[engineer_id] = sign_in(stack, "engineer", engineer_id=engineer_id, prefix=engineer_id)
    return linked[engineer_id]


def engineers(stack: Stack, ids: Iterable[str] = ROSTER) -> dict[str, dict[str, str]]:
    """A signed-in user linked to each of these roster engineers, by engineer id (linked once per stack)."""
    return {eid: engineer(stack, eid) for eid in ids}


def forget(stack: Stack) -> None:
    """Drops what was remembered about a stack that is stopped (its users went with its database)."""
    _LINKED.pop(str(stack.var_dir), None)


def in_language(headers: dict[str, str], language: str) -> dict[str, str]:
    """The same person, with their browser's language (zh-CN, zh-TW, en)."""
    return {**headers, "Accept-Language": language}


def wait_for(check: Callable[[], Any], timeout: float = TIMEOUT) -> Any:
    """Polls `check` until it returns something truthy (returned), as a person refreshing a page would."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.1)


def ticket(stack: Stack, ticket_id: str, headers: dict[str, str]) -> dict[str, Any]:
    """The ticket as this person sees it (200 asserted)."""
    r = httpx.get(f"{stack.gateway}/api/v1/tickets/{ticket_id}", headers=headers, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def wait_for_status(stack: Stack, ticket_id: str, headers: dict[str, str], *statuses: str,
                    timeout: float = TIMEOUT) -> dict[str, Any]:
    """Waits until the ticket, as this person sees it, is in one of `statuses`; returns it."""
    found: dict[str, Any] = wait_for(lambda: (t := ticket(stack, ticket_id, headers))["status"] in statuses and t, timeout)
    return found


def error_message(response: httpx.Response) -> str:
    """Everything a person reads in an error answer, flattened to one string (for 'names the field' checks)."""
    return response.text


def assigned(stack: Stack, ticket_id: str, desk: dict[str, str], timeout: float = TIMEOUT) -> dict[str, Any]:
    """Waits until dispatch has given the ticket to an engineer; a ticket the desk holds first (desk_first) is sent
    on by the desk. Returns the ticket as the desk sees it."""
    seen = ticket(stack, ticket_id, desk)
    if seen.get("desk_first") and seen["status"] == "new":
        sent = httpx.post(f"{stack.gateway}/api/v1/tickets/{ticket_id}/dispatch", headers=desk, timeout=TIMEOUT)
        assert sent.status_code == 200, sent.text
    found: dict[str, Any] = wait_for(lambda: (t := ticket(stack, ticket_id, desk))["assignee"] and t["status"] == "assigned" and t, timeout)
    return found


def is_chinese(text: str) -> bool:
    """True when the text is written in Chinese (has at least one CJK ideograph)."""
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def minter_of(stack: Stack) -> TokenMinter:
    """Signs as the stack's gateway does: for tests that must present a valid but wrongly used token."""
    return stack.internal_auth("any").minter


@contextmanager
def authorization_restored(stack: Stack, *paths: str) -> Iterator[None]:
    """Puts back, after the block, the `requires_authorization` of each record the administrator edits at `paths`
    (`/catalog/RS-ONSITE`, `/asset-types/server`) as it was before. Why: a test that makes a service wait for the
    agency's authorization on a shared stack would leave every later test's tickets of that service waiting."""
    def read(path: str) -> dict[str, Any]:
        r = httpx.get(f"{stack.gateway}/api/v1{path}", headers=admin(stack), timeout=TIMEOUT)
        if r.status_code == 405:  # read from its list (asset types have no GET of one)
            parent, code = path.rsplit("/", 1)
            listed = httpx.get(f"{stack.gateway}/api/v1{parent}", headers=admin(stack), timeout=TIMEOUT)
            assert listed.status_code == 200, listed.text
            [found] = [item for item in listed.json() if item.get("code") == code]
            return dict(found)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    before = {path: read(path).get("requires_authorization", False) for path in paths}
    try:
        yield
    finally:
        for path, value in before.items():
            now = read(path)
            if now.get("requires_authorization", False) != value:
                put = httpx.put(f"{stack.gateway}/api/v1{path}", json={**now, "requires_authorization": value},
                                headers=admin(stack), timeout=TIMEOUT)
                assert put.status_code == 200, put.text
