"""Issue 14, defect 4: a database or NATS outage is answered 503 with Retry-After in the one error shape, never 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import nats.errors
import pytest
from fastapi import APIRouter, HTTPException
from prometheus_client import CollectorRegistry
from pymongo.errors import AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError

from opsdesk_shared.app import build_service_app
from opsdesk_shared.errors import Contention, Unavailable
from opsdesk_shared.internal_auth_testing import InternalTokenAuth
from opsdesk_shared.settings import ServiceSettings

FAILURES: dict[str, Exception] = {
    "autoreconnect": AutoReconnect("connection closed"),
    "selection": ServerSelectionTimeoutError("127.0.0.1:27017: connection refused"),
    "network": NetworkTimeout("timed out"),
    "nats-timeout": nats.errors.TimeoutError(),
    "nats-closed": nats.errors.ConnectionClosedError(),
    "nats-no-servers": nats.errors.NoServersError(),
    "unconfirmed": Unavailable("the ticket's write could not be confirmed yet"),
}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    router = APIRouter()

    @router.post("/api/v1/things/{kind}")
    async def fail(kind: str) -> dict[str, str]:
        if kind == "bug":
            raise RuntimeError("a bug")
        if kind == "gone":
            raise HTTPException(503, "the assets service did not answer")
        if kind == "race":
            raise Contention("ticket t-1 kept changing")
        raise FAILURES[kind]

    app = build_service_app(ServiceSettings(service_name="dispatch"), title="t", description="d", registry=CollectorRegistry(),
                            routers=[router], wire=None, adapters=object())  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                                     base_url="http://svc.test", auth=InternalTokenAuth("dispatch")) as c:
            yield c


@pytest.mark.parametrize("kind", list(FAILURES))
async def test_outage_is_a_503_with_retry_after_in_the_error_shape(client: httpx.AsyncClient, kind: str) -> None:
    answer = await client.post(f"/api/v1/things/{kind}", headers={"Accept-Language": "zh-TW"})

    assert answer.status_code == 503, answer.text
    assert int(answer.headers["Retry-After"]) > 0
    body = answer.json()
    assert body["code"] == "dependency_unavailable"
    assert body["message"] == "資料庫或訊息匯流排暫時無應答，請稍後重試"


async def test_a_bug_is_still_a_500(client: httpx.AsyncClient) -> None:
    answer = await client.post("/api/v1/things/bug")
    assert answer.status_code == 500 and answer.json()["code"] == "internal_error"


async def test_a_race_lost_past_the_use_case_retries_is_a_503_to_try_again(client: httpx.AsyncClient) -> None:
    answer = await client.post("/api/v1/things/race")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "1" and answer.json()["code"] == "contention"


async def test_every_503_says_when_to_try_again(client: httpx.AsyncClient) -> None:
    answer = await client.post("/api/v1/things/gone")
    assert answer.status_code == 503 and int(answer.headers["Retry-After"]) > 0
    assert answer.json()["code"] == "service_unavailable"
