"""Sign-in throttling behind the console: the gateway's proxy stamps the browser's address, the console relays the
stamp with its sign-in call, and the throttle counts each browser apart; a browser cannot claim another address."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from intake.gateway.console import ConsoleProxy
from intake.identity import Identity, identity_router, memory_identity
from intake.identity.client_address import HEADER, ClientAddresses
from intake.identity.domain import new_user
from intake.identity.throttle import LoginThrottle

SECRET = "edge-console-jwt-secret-0123456789abcdef"
PASSWORD = "s3cret-passw0rd"
CONSOLE = ("10.9.9.9", 8006)  # every call the console makes comes from here
GUESSER = ("203.0.113.66", 40000)
AGENT = ("10.1.2.3", 50000)

Browser = Callable[[tuple[str, int]], httpx.AsyncClient]


@pytest.fixture
async def identity() -> Identity:
    wired = memory_identity(jwt_secret=SECRET)
    wired.throttle = LoginThrottle(free_per_account=5, free_per_source=8, base_s=30.0)
    for username in ("desk", "zhou"):
        await wired.users.add(new_user(username=username, name=username, role="agent", password_hash=wired.passwords.hash(PASSWORD), now=datetime.now(UTC)))
    return wired


@pytest.fixture
async def browsers(identity: Identity, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Browser]:
    """The gateway (identity routes + console proxy) and a console that signs in through the gateway's API the way
    services/console does: from its own address, relaying the stamp it was given."""
    gateway = FastAPI()
    gateway.include_router(identity_router())
    gateway.state.adapters = SimpleNamespace(identity=identity)
    console = FastAPI()

    @console.post("/login")
    async def login(request: Request) -> JSONResponse:
        form = await request.json()
        relay = {HEADER: request.headers[HEADER]} if HEADER in request.headers else {}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway, client=CONSOLE), base_url="http://gw") as api:
            reply = await api.post("/api/v1/auth/token", json=form, headers=relay)
        return JSONResponse({"status": reply.status_code}, status_code=reply.status_code)

    @console.get("/seen")
    async def seen(request: Request) -> JSONResponse:
        return JSONResponse({k: v for k, v in request.headers.items() if k.startswith(("x-forwarded", "x-real", "x-opsdesk", "forwarded"))})

    real_client = httpx.AsyncClient

    def client_to_console(**kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("transport", httpx.ASGITransport(app=console, client=CONSOLE))
        return real_client(**kwargs)

    monkeypatch.setattr("intake.gateway.console.httpx.AsyncClient", client_to_console)
    gateway.add_middleware(ConsoleProxy, base_url="http://console.test")
    opened: list[httpx.AsyncClient] = []

    def at(address: tuple[str, int]) -> httpx.AsyncClient:
        c = real_client(transport=httpx.ASGITransport(app=gateway, client=address), base_url="http://gw")
        opened.append(c)
        return c

    yield at
    for c in opened:
        await c.aclose()


async def _sign_in(browser: httpx.AsyncClient, username: str, password: str, **headers: str) -> int:
    return (await browser.post("/login", json={"username": username, "password": password}, headers=headers)).status_code


async def test_a_guesser_behind_the_console_slows_only_their_own_browser(browsers: Browser) -> None:
    guesser = browsers(GUESSER)
    answers = [await _sign_in(guesser, f"user{n}", "wrong") for n in range(9)]
    assert answers[:8] == [401] * 8 and answers[8] == 429  # the guesser's address is counted across accounts

    # The same console, another browser: not slowed at all.
    assert await _sign_in(browsers(AGENT), "zhou", PASSWORD) == 200


async def test_the_proxy_drops_what_the_browser_says_about_its_address(browsers: Browser, identity: Identity) -> None:
    forged = identity.client_addresses.stamp("10.1.2.3")  # even a well-formed stamp: only the proxy's own passes
    seen = (await browsers(GUESSER).get("/seen", headers={"X-Forwarded-For": "10.1.2.3", "X-Real-IP": "10.1.2.3", HEADER: forged, "Forwarded": "for=10.1.2.3"})).json()

    assert seen["x-forwarded-for"] == GUESSER[0]
    assert "x-real-ip" not in seen and "forwarded" not in seen
    assert identity.client_addresses.vouched(seen[HEADER]) == GUESSER[0]


async def test_a_browser_cannot_move_its_failures_onto_another_address(browsers: Browser) -> None:
    guesser = browsers(GUESSER)
    spoof = {"X-Forwarded-For": AGENT[0], HEADER: f"{AGENT[0]};9999999999;" + "0" * 64}
    for n in range(8):
        assert await _sign_in(guesser, f"user{n}", "wrong", **spoof) == 401
    assert await _sign_in(guesser, "desk", PASSWORD, **spoof) == 429  # still counted as the guesser
    assert await _sign_in(browsers(AGENT), "desk", PASSWORD) == 200


async def test_a_stamp_sent_straight_to_the_api_counts_only_when_it_is_the_gateways_and_fresh(identity: Identity) -> None:
    app = FastAPI()
    app.include_router(identity_router())
    app.state.adapters = SimpleNamespace(identity=identity)
    other = ClientAddresses("another-secret-" + "y" * 40)
    stale = identity.client_addresses.stamp(AGENT[0], now=datetime.now(UTC).timestamp() - 3600)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=GUESSER), base_url="http://gw") as direct:
        for n, stamp in enumerate([other.stamp(AGENT[0]), stale, "garbage", f"{AGENT[0]};1;x"] * 2):
            reply = await direct.post("/api/v1/auth/token", json={"username": f"u{n}", "password": "x"}, headers={HEADER: stamp})
            assert reply.status_code == 401
        # Eight failures counted against the guesser's own address, none against the agent's.
        assert (await direct.post("/api/v1/auth/token", json={"username": "desk", "password": PASSWORD})).status_code == 429
        good = {HEADER: identity.client_addresses.stamp(AGENT[0])}
        assert (await direct.post("/api/v1/auth/token", json={"username": "desk", "password": PASSWORD}, headers=good)).status_code == 200
