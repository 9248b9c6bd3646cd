"""One real stack per browser-test session (NATS, the database, every service and the console as processes), and
headless Debian Chromium driven by Playwright for Python (never `playwright install`: /usr/bin/chromium).

Screenshots of each main screen go to var/screenshots/ (a test artifact to look at)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from opsdesk_devstack.stack import Stack
from opsdesk_devstack.stack_pool import StackPool

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = REPO / "var" / "screenshots"
AXE = REPO / "services" / "console" / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "Browser-day-pass-1"



def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="module")
def stack(stack_pool: StackPool) -> Stack:
    """The shared pool's browser stack: started once, stopped after this directory's last test (not at the end of
    the whole session, where it would sit idle through every later test)."""
    return stack_pool.get("browser", {"SLA_SWEEP_INTERVAL_S": "0.5"})


def make_user(stack: Stack, role: str, **extra: Any) -> dict[str, Any]:
    username = f"{role}.{uuid.uuid4().hex[:6]}"
    body = {"username": username, "name": extra.pop("name", username), "role": role, "password": PASSWORD, **extra}
    reply = httpx.post(f"{stack.gateway}/api/v1/users", json=body, headers={"Authorization": f"Bearer {stack.token}"}, timeout=15)
    assert reply.status_code == 201, reply.text
    return {**reply.json(), "password": PASSWORD}


def bearer(stack: Stack, user: dict[str, Any]) -> dict[str, str]:
    reply = httpx.post(f"{stack.gateway}/api/v1/auth/token", json={"username": user["username"], "password": user["password"]}, timeout=15)
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


# Module scope, not session: while sync_playwright is open it holds an event loop in the main thread, and every
# asyncio test that runs after it would fail with "Runner.run() cannot be called from a running event loop".
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


class Page:
    """A page plus what the tests check on every screen: JavaScript errors, axe-core findings, a screenshot."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("console", lambda msg: self.errors.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None)

    def shot(self, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        # caret="initial": hiding the caret injects a <style> the console's CSP refuses, logged as an error on the next focus.
        self.page.screenshot(path=str(path), full_page=True, caret="initial")
        return path

    def axe(self) -> list[dict[str, Any]]:
        """axe-core (npm) run in the page: WCAG 2.1 A and AA rules; the violations found."""
        # Evaluated through the DevTools protocol: the console's CSP (script-src 'self') refuses an injected tag.
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.evaluate(AXE.read_text() + "\n;undefined")
        result: dict[str, Any] = self.page.evaluate(
            "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
        )
        return [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]} for v in result["violations"]]


@pytest.fixture
def open_page(browser: Any, stack: Stack) -> Iterator[Any]:
    contexts: list[Any] = []

    def make(locale: str = "zh-CN", viewport: tuple[int, int] = (1366, 900)) -> Page:
        ctx = browser.new_context(base_url=stack.gateway, locale=locale, viewport={"width": viewport[0], "height": viewport[1]},
                                  timezone_id="Asia/Shanghai")
        contexts.append(ctx)
        return Page(ctx.new_page())

    yield make
    for ctx in contexts:
        ctx.close()


def landed(page: Any, done: str, timeout_ms: float = 60_000) -> None:
    """After a form's click: wait for `/?done=<done>`, or fail at once with the refusal the page shows instead.

    Why: a refused act redirects to `/` with the API's words; waiting only for the done URL turned such a refusal
    into a bare 30-second timeout in CI that said nothing of what the service answered."""
    page.wait_for_function(
        "done => location.search.includes('done=' + done) || document.querySelector('.error') !== null",
        arg=done, timeout=timeout_ms,
    )
    if f"done={done}" not in page.url:
        shown = page.locator(".error").first.inner_text() if page.locator(".error").count() else ""
        pytest.fail(f"expected /?done={done}, the console showed {page.url}: {shown!r}")


def sign_in(p: Page, user: dict[str, Any]) -> None:
    p.page.goto("/login")
    p.page.fill("#username", user["username"])
    p.page.fill("#password", user["password"])
    p.page.click("button[type=submit].primary")
    p.page.wait_for_url("**/")


@pytest.fixture(scope="session", autouse=True)
def _axe_installed() -> None:
    if not AXE.exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed for axe-core (make install runs npm ci in services/console)"
        import subprocess

        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=AXE.parents[2], check=True)
