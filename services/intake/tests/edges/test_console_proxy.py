"""The gateway's console proxy: pages outside the API go to the console, the API and the gateway's own pages never
do, bodies stream through, and one person's cookie is never kept for another."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, StreamingResponse

from intake.gateway.console import ConsoleProxy, proxied


def test_api_and_gateway_pages_are_not_proxied() -> None:
    assert not proxied("/api/v1/tickets") and not proxied("/api") and not proxied("/docs") and not proxied("/healthz")
    assert not proxied("/asyncapi.json") and not proxied("/metrics") and not proxied("/openapi.json")
    assert proxied("/") and proxied("/login") and proxied("/tickets/INC-2026-000001") and proxied("/static/console.css")
    assert proxied("/events")


def _console() -> FastAPI:
    console = FastAPI()

    @console.get("/login")
    async def login(request: Request) -> PlainTextResponse:
        seen = request.cookies.get("opsdesk_session", "none")
        reply = PlainTextResponse(f"cookie={seen} fwd={request.headers.get('x-forwarded-proto')}")
        reply.set_cookie("opsdesk_session", "alice-secret")
        return reply

    @console.get("/events")
    async def events() -> StreamingResponse:
        async def gen():  # type: ignore[no-untyped-def]
            for i in range(3):
                yield f"id: {i}\ndata: x\n\n".encode()

        return StreamingResponse(gen(), media_type="text/event-stream")

    return console


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    inner = FastAPI()

    @inner.get("/api/v1/ping")
    async def ping() -> PlainTextResponse:
        return PlainTextResponse("gateway")

    console = _console()
    real_client = httpx.AsyncClient

    def client_to_console(**kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("transport", httpx.ASGITransport(app=console))  # the proxy's own client gives none
        return real_client(**kwargs)

    monkeypatch.setattr("intake.gateway.console.httpx.AsyncClient", client_to_console)
    inner.add_middleware(ConsoleProxy, base_url="http://console.test")
    return inner


async def test_pages_proxied_and_no_cookie_kept_between_people(gateway: FastAPI) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gw") as alice:
        first = await alice.get("/login")
        assert first.status_code == 200 and "cookie=none" in first.text and "fwd=http" in first.text
        assert first.cookies.get("opsdesk_session") == "alice-secret"
        assert (await alice.get("/api/v1/ping")).text == "gateway"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gw") as bob:
        # Bob sends no cookie: the proxy must not replay Alice's.
        assert "cookie=none" in (await bob.get("/login")).text


async def test_event_stream_passes_through(gateway: FastAPI) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gw") as client:
        reply = await client.get("/events")
        assert reply.headers["content-type"].startswith("text/event-stream")
        assert reply.text.count("data: x") == 3
