"""The gateway's routing: who reaches which service, what the service is told about the caller (a token signed for
it alone, never plain headers), and that no path walks out of the prefix it was routed by."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from fastapi import FastAPI

from intake.main import create_app
from intake.settings import IntakeSettings
from intake.wiring import Adapters
from opsdesk_shared.internal_auth import Caller, TokenVerifier
from opsdesk_shared.internal_auth_testing import test_keypair as keypair

UPSTREAMS = ("assets", "dispatch", "sla-monitor", "reporting", "knowledge")


class Upstreams:
    """The services behind the gateway, recording what reached them and verifying each token as that service would."""

    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []
        self.callers: list[tuple[str, Caller]] = []
        self.verifiers = {name: TokenVerifier(keypair()[1], audience=name) for name in UPSTREAMS}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        service = request.url.host.removesuffix(".test")
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.callers.append((service, self.verifiers[service].verify(token)))
        return httpx.Response(200, json={"path": request.url.path})


@pytest.fixture
def upstreams() -> Upstreams:
    return Upstreams()


@pytest.fixture
async def app(adapters: Adapters, upstreams: Upstreams) -> AsyncIterator[FastAPI]:
    adapters.upstreams = {name: f"http://{name}.test" for name in UPSTREAMS}
    adapters.upstream_client = httpx.AsyncClient(transport=httpx.MockTransport(upstreams))
    app = create_app(IntakeSettings(environment="test", internal_signing_key=keypair()[0]), adapters=adapters)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def gw(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as c:
        yield c


async def raw_get(app: FastAPI, raw_path: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """Send the path exactly as written, as a server hands it over (an HTTP client would fold the dots away)."""
    import json

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": unquote(raw_path), "raw_path": raw_path.encode(), "root_path": "", "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()] + [(b"host", b"gw.test")],
        "client": ("203.0.113.7", 5555), "server": ("gw.test", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(body)


# --- identity travels signed --------------------------------------------------------------------------------------


async def test_a_forwarded_request_carries_a_token_for_that_service_naming_the_caller(gw, upstreams, as_user) -> None:  # type: ignore[no-untyped-def]
    response = await gw.get("/api/v1/assignments/a-1", headers=as_user("eng1"))

    assert response.json() == {"path": "/api/v1/assignments/a-1"}  # the same path: every service is under /api/v1
    service, caller = upstreams.callers[0]
    assert service == "dispatch"
    assert caller == Caller(subject="eng1", role="engineer", department=None, engineer_id="eng1", name="ENG1")
    sent = upstreams.seen[0].headers
    assert not [h for h in sent if h.lower().startswith("x-opsdesk-")]


async def test_forged_identity_headers_from_a_client_never_reach_a_service(gw, upstreams, as_user) -> None:  # type: ignore[no-untyped-def]
    forged = {"X-Opsdesk-Role": "admin", "X-Opsdesk-User": "root", "X-Opsdesk-Engineer": "eng-9", "X-Opsdesk-Department": "x"}

    await gw.get("/api/v1/kb/search?q=vpn", headers={**as_user("req-office"), **forged})

    service, caller = upstreams.callers[0]
    assert (service, caller.subject, caller.role, caller.department, caller.engineer_id) == (
        "knowledge", "req-office", "requester", "辦公室", None,
    )
    assert not [h for h in upstreams.seen[0].headers if h.lower().startswith("x-opsdesk-")]


async def test_the_callers_own_credential_stays_at_the_gateway(gw, upstreams, as_user) -> None:  # type: ignore[no-untyped-def]
    user_token = as_user("agent1")["Authorization"]

    await gw.get("/api/v1/engineers", headers=as_user("agent1"))

    assert upstreams.seen[0].headers["authorization"] != user_token


async def test_a_token_addressed_to_one_service_is_refused_by_another(gw, upstreams, as_user) -> None:  # type: ignore[no-untyped-def]
    await gw.get("/api/v1/engineers", headers=as_user("agent1"))
    token = upstreams.seen[0].headers["authorization"].removeprefix("Bearer ")

    with pytest.raises(Exception, match="not addressed to assets"):
        TokenVerifier(keypair()[1], audience="assets").verify(token)


# --- who reaches what -----------------------------------------------------------------------------------------------


async def test_requesters_reach_only_the_knowledge_base(gw, upstreams, as_user) -> None:  # type: ignore[no-untyped-def]
    requester = as_user("req-office")
    for path in ("/api/v1/engineers", "/api/v1/assignments/t-1", "/api/v1/reports/kinds", "/api/v1/forms/support-record/t-1",
                 "/api/v1/assets/GZ-2026-000001/overview", "/api/v1/timers"):
        assert (await gw.get(path, headers=requester)).status_code == 403, path
    assert upstreams.seen == []
    assert (await gw.get("/api/v1/kb/search?q=vpn", headers=requester)).status_code == 200


async def test_the_composed_asset_is_for_staff_only(gw, as_user) -> None:  # type: ignore[no-untyped-def]
    refused = await gw.get("/api/v1/assets/GZ-2026-000001", headers=as_user("req-office"))
    shown = await gw.get("/api/v1/assets/GZ-2026-000001", headers=as_user("eng1"))

    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert shown.status_code == 200 and shown.json()["tag"] == "GZ-2026-000001"


async def test_auditors_read_through_but_change_nothing(gw, upstreams, as_user) -> None:  # type: ignore[no-untyped-def]
    auditor = as_user("auditor1")

    assert (await gw.get("/api/v1/engineers", headers=auditor)).status_code == 200
    assert (await gw.patch("/api/v1/engineers/eng-1/status", json={"status": "busy"}, headers=auditor)).status_code == 403
    assert len(upstreams.seen) == 1


async def test_nothing_is_forwarded_without_a_signed_in_caller(gw, upstreams) -> None:  # type: ignore[no-untyped-def]
    assert (await gw.get("/api/v1/engineers")).status_code == 401
    assert (await gw.get("/api/v1/engineers", headers={"X-Opsdesk-Role": "admin"})).status_code == 401
    assert upstreams.seen == []


# --- paths stay inside their prefix ---------------------------------------------------------------------------------

WALKS_OUT = [
    "/api/v1/kb/%2e%2e/metrics",
    "/api/v1/kb/%2E%2E/%2E%2E/metrics",
    "/api/v1/reports/../api/v1/summary",
    "/api/v1/kb/./search",
    "/api/v1/kb/.%2e/metrics",
    "/api/v1/kb/%252e%252e/metrics",
    "/api/v1/kb/articles%2f..%2fmetrics",
    "/api/v1/kb/..%5cmetrics",
    "/api/v1/tickets/../users",
]


@pytest.mark.parametrize("raw_path", WALKS_OUT)
async def test_a_dot_segment_is_a_404_before_any_routing(app, upstreams, as_user, raw_path: str) -> None:  # type: ignore[no-untyped-def]
    status, body = await raw_get(app, raw_path, as_user("req-office"))

    assert status == 404
    assert body["code"] == "not_found"
    assert upstreams.seen == []


async def test_a_plain_routed_path_with_dots_inside_a_segment_still_routes(app, upstreams, as_user) -> None:  # type: ignore[no-untyped-def]
    status, body = await raw_get(app, "/api/v1/kb/articles/v1.2..notes", as_user("req-office"))

    assert status == 200
    assert body == {"path": "/api/v1/kb/articles/v1.2..notes"}


async def test_an_encoded_character_is_forwarded_encoded_not_decoded_twice(app, upstreams, as_user) -> None:  # type: ignore[no-untyped-def]
    status, _ = await raw_get(app, "/api/v1/kb/search/%E6%89%93%25", as_user("req-office"))

    assert status == 200
    assert upstreams.seen[0].url.raw_path == b"/api/v1/kb/search/%E6%89%93%25"


async def test_the_escalation_list_goes_to_dispatch(gw, upstreams, as_user) -> None:  # type: ignore[no-untyped-def]
    response = await gw.get("/api/v1/escalations?status=open", headers=as_user("eng1"))

    assert response.json() == {"path": "/api/v1/escalations"}
    assert upstreams.callers[0][0] == "dispatch"


# --- outages (issue 14) -----------------------------------------------------------------------------------------------


async def test_a_routed_services_503_keeps_its_retry_after_and_a_silent_one_gets_one(app, upstreams, as_user) -> None:  # type: ignore[no-untyped-def]
    def outage(request: httpx.Request) -> httpx.Response:
        if request.url.host == "dispatch.test":
            return httpx.Response(503, json={"code": "dependency_unavailable"}, headers={"Retry-After": "7"})
        raise httpx.ConnectError("connection refused")

    app.state.adapters.upstream_client = httpx.AsyncClient(transport=httpx.MockTransport(outage))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as gw:
        passed = await gw.get("/api/v1/assignments/a-1", headers=as_user("eng1"))
        silent = await gw.get("/api/v1/reports", headers=as_user("agent1"))

    assert passed.status_code == 503 and passed.headers["Retry-After"] == "7"
    assert silent.status_code == 503 and int(silent.headers["Retry-After"]) > 0
    assert silent.json()["code"] == "service_unavailable"


async def test_everyone_sets_their_own_notification_preferences_through_the_sla_monitor(gw, upstreams, as_user) -> None:  # type: ignore[no-untyped-def]
    """sla-monitor takes writes from admins only, except the notifications prefix (its routes check roles again)."""
    response = await gw.put("/api/v1/notifications/preferences", json={"events": ["assigned"]}, headers=as_user("eng1"))
    assert response.status_code == 200 and upstreams.seen[-1].url.host == "sla-monitor.test"
    assert upstreams.seen[-1].url.path == "/api/v1/notifications/preferences"
    refused = await gw.put("/api/v1/calendars/office-hours", json={}, headers=as_user("eng1"))
    assert refused.status_code == 403
    # Requesters read their own in-app notices there too (the SLA monitor answers for the caller only), nothing else of it.
    mine = await gw.get("/api/v1/notifications/mine", headers=as_user("req-office"))
    assert mine.status_code == 200 and upstreams.seen[-1].url.path == "/api/v1/notifications/mine"
    assert (await gw.get("/api/v1/timers", headers=as_user("req-office"))).status_code == 403
