"""Event stream tickets (issue 15's 200-console bar): `POST /api/v1/events/tickets` and `GET /api/v1/events/stream?ticket=`.

A browser's EventSource cannot send a bearer token; the console asks for a ticket with the person's token and gives
the page only the ticket. These tests drive the intake app on memory adapters (the stream with the small ASGI driver
of test_live_stream_http.py, which reads a response that never ends).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request

from intake.identity import Identity
from intake.live.hub import LiveHub
from intake.live.tickets import AUDIENCE, TTL_S, StreamTickets
from intake.wiring import Adapters

from .conftest import TOKEN
from .test_live_stream_http import announce, filed, live_app, open_stream

__all__ = ["live_app"]  # the fixture, shared with the stream's own tests

STREAM = "/api/v1/events/stream"


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake.test")


async def ticket_for(app: FastAPI, headers: dict[str, str]) -> str:
    async with client(app) as c:
        answer = await c.post("/api/v1/events/tickets", headers=headers)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["ticket"])


async def test_a_signed_in_caller_gets_a_ticket_that_expires_in_a_minute_in_local_time(
    live_app: tuple[FastAPI, LiveHub], as_user: Callable[[str], dict[str, str]]
) -> None:
    app, _ = live_app
    async with client(app) as c:
        answer = await c.post("/api/v1/events/tickets", headers=as_user("req-office"))
        refused = await c.post("/api/v1/events/tickets", headers={"Accept-Language": "en"})
    assert answer.status_code == 201 and answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert set(body) == {"ticket", "expires_at"}
    expires = datetime.fromisoformat(body["expires_at"])
    assert expires.utcoffset() == timedelta(hours=8)  # the site's local time (Asia/Shanghai), with its offset
    left = (expires - datetime.now(UTC)).total_seconds()
    assert TTL_S - 5 < left <= TTL_S
    assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"


async def test_a_ticket_opens_the_stream_as_its_caller_with_only_what_they_may_see(
    live_app: tuple[FastAPI, LiveHub], adapters: Adapters, as_user: Callable[[str], dict[str, str]]
) -> None:
    app, hub = live_app
    owner = await open_stream(app, {}, f"{STREAM}?ticket={await ticket_for(app, as_user('req-office'))}")
    desk = await open_stream(app, {}, f"{STREAM}?ticket={await ticket_for(app, as_user('agent1'))}")
    assert owner.status == 200 and owner.headers["content-type"].startswith("text/event-stream")
    assert (await owner.frames(1))[0]["event"] == "ready" and (await desk.frames(1))[0]["event"] == "ready"
    mine, other = await filed(adapters, requester_id="req-office"), await filed(adapters, requester_id="req-finance")
    await hub.publish_batch([announce(other, 101, hub), announce(mine, 102, hub)])
    assert [f["id"] for f in await desk.frames(2)] == ["101", "102"]
    only = await owner.frames(1)
    assert only[0]["id"] == "102" and json.loads(only[0]["data"])["number"] == mine.number  # never finance's ticket
    with pytest.raises(TimeoutError):
        await owner.frames(1, timeout=0.3)
    await owner.close()
    await desk.close()


async def test_a_ticket_resumes_with_after_and_last_event_id(
    live_app: tuple[FastAPI, LiveHub], adapters: Adapters, as_user: Callable[[str], dict[str, str]]
) -> None:
    app, hub = live_app
    tickets = [await filed(adapters, requester_id="req-office") for _ in range(3)]
    await hub.publish_batch([announce(t, 101 + i, hub) for i, t in enumerate(tickets)])
    ticket = await ticket_for(app, as_user("agent1"))
    by_query = await open_stream(app, {}, f"{STREAM}?ticket={ticket}&after=101")
    frames = await by_query.frames(3)
    assert json.loads(frames[0]["data"])["resumed"] is True and [f["id"] for f in frames[1:]] == ["102", "103"]
    await by_query.close()
    # EventSource's own reconnect: the same URL, with Last-Event-ID, which wins over the URL's after=.
    by_header = await open_stream(app, {"Last-Event-ID": "102"}, f"{STREAM}?ticket={ticket}&after=101")
    assert [f["id"] for f in (await by_header.frames(2))[1:]] == ["103"]
    await by_header.close()


async def test_an_expired_or_forged_ticket_or_a_users_token_as_a_ticket_is_401_in_the_callers_language(
    live_app: tuple[FastAPI, LiveHub], identity: Identity, as_user: Callable[[str], dict[str, str]]
) -> None:
    app, hub = live_app
    user = await identity.users.get("agent1")
    assert user is not None
    tickets = StreamTickets(identity.signer, identity.authenticator, identity.keys)
    principal = await identity.authenticator.principal(_request(as_user("agent1")))
    expired = tickets.issue(principal, now=datetime.now(UTC) - timedelta(seconds=TTL_S + 10)).ticket
    good = tickets.issue(principal).ticket
    head, body, signature = good.split(".")
    forged = f"{head}.{body}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    other_key = StreamTickets(type(identity.signer)(secret="another-gateway-secret-" + "y" * 40), identity.authenticator, identity.keys)
    foreign = other_key.issue(principal).ticket
    user_token = as_user("agent1")["Authorization"].removeprefix("Bearer ")
    async with client(app) as c:
        for bad, why in ((expired, "expired"), (forged, "signature"), (foreign, "signature"), (user_token, "aud"),
                         ("not-a-jwt", "malformed"), ("", "missing")):
            answer = await c.get(STREAM, params={"ticket": bad}, headers={"Accept-Language": "en"})
            assert answer.status_code == 401, (why, answer.text)
            assert answer.json()["code"] == "unauthorized" and why in str(answer.json()["detail"])
            assert bad == "" or bad not in answer.text  # a refusal never echoes the ticket
        zh = await c.get(STREAM, params={"ticket": expired}, headers={"Accept-Language": "zh-CN"})
        assert zh.status_code == 401 and "事件流票据" in str(zh.json()["detail"])
        # A ticket is not a bearer token, even alongside a good one it is the ticket that counts.
        both = await c.get(STREAM, params={"ticket": expired}, headers=as_user("agent1"))
        assert both.status_code == 401
    assert not hub.listeners and hub.limiter.open_total == 0


async def test_a_ticket_is_refused_as_a_bearer_token_on_every_other_route(
    live_app: tuple[FastAPI, LiveHub], as_user: Callable[[str], dict[str, str]]
) -> None:
    app, _ = live_app
    ticket = await ticket_for(app, as_user("admin1"))
    as_bearer = {"Authorization": f"Bearer {ticket}", "Accept-Language": "en"}
    async with client(app) as c:
        for method, path in (("GET", "/api/v1/me"), ("GET", "/api/v1/tickets"), ("POST", "/api/v1/events/tickets"), ("GET", STREAM)):
            answer = await c.request(method, path, headers=as_bearer)
            assert answer.status_code == 401, (path, answer.text)
            assert "another use" in str(answer.json()["detail"])
        assert (await c.get("/api/v1/me", headers=as_user("admin1"))).status_code == 200  # the user's own token still works


async def test_a_ticket_dies_with_its_users_tokens_and_an_api_keys_with_the_key(
    live_app: tuple[FastAPI, LiveHub], identity: Identity, as_user: Callable[[str], dict[str, str]]
) -> None:
    app, _ = live_app
    person = await ticket_for(app, as_user("eng1"))
    key = await ticket_for(app, {"Authorization": f"Bearer {TOKEN}"})
    opened = await open_stream(app, {}, f"{STREAM}?ticket={key}")
    assert opened.status == 200
    await opened.close()
    user = await identity.users.get("eng1")
    assert user is not None
    await identity.users.save(user.model_copy(update={"disabled": True}))
    identity.forget_user("eng1")
    await identity.keys.revoke("edge-tests", now=datetime.now(UTC))
    async with client(app) as c:
        assert (await c.get(STREAM, params={"ticket": person})).status_code == 401
        assert (await c.get(STREAM, params={"ticket": key})).status_code == 401


async def test_the_per_user_and_total_caps_apply_to_ticket_streams(
    live_app: tuple[FastAPI, LiveHub], as_user: Callable[[str], dict[str, str]]
) -> None:
    app, hub = live_app  # per_user=2, total=4
    ticket = await ticket_for(app, as_user("eng1"))
    first, second = [await open_stream(app, {}, f"{STREAM}?ticket={ticket}") for _ in range(2)]
    async with client(app) as c:
        third = await c.get(STREAM, params={"ticket": ticket})
        assert third.status_code == 429 and third.headers["retry-after"] == "10"
        # Bearer and ticket streams of one person count together.
        assert (await c.get(STREAM, headers=as_user("eng1"))).status_code == 429
        others = [await open_stream(app, {}, f"{STREAM}?ticket={await ticket_for(app, as_user(u))}") for u in ("agent1", "req-office")]
        full = await c.get(STREAM, params={"ticket": await ticket_for(app, as_user("manager1"))})
        assert full.status_code == 503 and full.headers["retry-after"] == "5"
    for s in (first, second, *others):
        await s.close()
    assert hub.limiter.open_total == 0 and not hub.listeners


async def test_no_log_line_carries_the_ticket(
    live_app: tuple[FastAPI, LiveHub], as_user: Callable[[str], dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    app, _ = live_app
    caplog.set_level(logging.DEBUG)
    ticket = await ticket_for(app, as_user("agent1"))
    stream = await open_stream(app, {}, f"{STREAM}?ticket={ticket}&after=100")
    await stream.frames(1)
    await stream.close()
    async with client(app) as c:
        await c.get(STREAM, params={"ticket": ticket + "x"})
    await asyncio.sleep(0)
    # The test's own client (httpx) logs the URLs it asks for; the gateway's loggers must not.
    ours = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert [r for r in caplog.records if r.name.startswith("httpx") and ticket in r.getMessage()]  # the check can see it
    assert not [r for r in ours if ticket in r.getMessage() or ticket in str(getattr(r, "fields", ""))]


async def test_the_ticket_route_and_the_ticket_parameter_are_in_the_openapi_document(live_app: tuple[FastAPI, LiveHub]) -> None:
    app, _ = live_app
    doc = app.openapi()
    stream = doc["paths"][STREAM]["get"]
    assert "ticket" in {p["name"] for p in stream["parameters"]} and "EventSource" in stream["description"]
    issue = doc["paths"]["/api/v1/events/tickets"]["post"]
    assert "201" in issue["responses"] and f"{TTL_S} seconds" in issue["description"]
    assert AUDIENCE.startswith("opsdesk:")


def _request(headers: dict[str, str]) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
                    "query_string": b""})
