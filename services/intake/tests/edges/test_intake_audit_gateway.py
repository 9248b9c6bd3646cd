"""The gateway's `GET /api/v1/audit/verify` (issue 16): the desk's own chains and every other service's verdict,
asked with a token signed for that service naming the caller, combined into one answer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from intake.adapters.memory import MemoryTicketStore
from intake.main import create_app
from intake.settings import IntakeSettings
from intake.wiring import Adapters
from opsdesk_shared.audit_store import TRAILS
from opsdesk_shared.internal_auth import TokenVerifier
from opsdesk_shared.internal_auth_testing import test_keypair as keypair

OTHERS = tuple(name for name in TRAILS if name != "intake")


class Services:
    """The services behind the gateway answering their verdicts, checking each token as that service would."""

    def __init__(self) -> None:
        self.verdicts: dict[str, Any] = {name: {"ok": True, "checked": 2, "first_broken": None} for name in OTHERS}
        self.asked: list[tuple[str, str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        service = request.url.host.removesuffix(".test")
        caller = TokenVerifier(keypair()[1], audience=service).verify(request.headers["authorization"].removeprefix("Bearer "))
        self.asked.append((service, request.url.path, caller.role))
        answer = self.verdicts[service]
        return httpx.Response(answer, json={}) if isinstance(answer, int) else httpx.Response(200, json=answer)


@pytest.fixture
def services() -> Services:
    return Services()


@pytest.fixture
async def gw(adapters: Adapters, services: Services) -> AsyncIterator[httpx.AsyncClient]:
    adapters.upstreams = {name: f"http://{name}.test" for name in OTHERS}
    adapters.upstream_client = httpx.AsyncClient(transport=httpx.MockTransport(services))
    app: FastAPI = create_app(IntakeSettings(environment="test", internal_signing_key=keypair()[0]), adapters=adapters)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as c:
            yield c


async def _ticket(gw: httpx.AsyncClient, auth: dict[str, str], body: dict[str, Any]) -> str:
    created = await gw.post("/api/v1/tickets", json=body, headers=auth)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def test_every_service_is_asked_as_the_caller_and_the_counts_add_up(  # type: ignore[no-untyped-def]
    gw, services, adapters, auth, ticket_body, as_user: Callable[[str], dict[str, str]],
) -> None:
    await _ticket(gw, auth, ticket_body)
    own = await adapters.store.audit_verify()
    assert own.ok and own.checked >= 2  # the ticket's first status and its audit entry

    for who, role in (("auditor1", "auditor"), ("agency1", "agency")):
        services.asked.clear()
        answer = await gw.get("/api/v1/audit/verify", headers=as_user(who))

        assert answer.status_code == 200, answer.text
        assert answer.json() == {"ok": True, "checked": own.checked + 2 * len(OTHERS), "first_broken": None}
        assert sorted(services.asked) == sorted((name, "/api/v1/audit/verify", role) for name in OTHERS)


async def test_a_changed_ticket_record_is_named_with_the_service(  # type: ignore[no-untyped-def]
    gw, adapters, auth, ticket_body, as_user,
) -> None:
    ticket_id = await _ticket(gw, auth, ticket_body)
    store = adapters.store
    assert isinstance(store, MemoryTicketStore)
    history = store.sealed[ticket_id]["history"]
    history[0] = {**history[0], "by": "someone-else"}

    answer = (await gw.get("/api/v1/audit/verify", headers=as_user("manager1"))).json()

    assert answer["ok"] is False
    assert answer["first_broken"] == f"intake:ticket/{ticket_id}/history#0: hash does not match the record (the record was changed)"


async def test_another_service_s_break_or_silence_is_not_ok(gw, services, as_user) -> None:  # type: ignore[no-untyped-def]
    services.verdicts["dispatch"] = {"ok": False, "checked": 3, "first_broken": "assignment/t-1/history#2: unsealed"}
    answer = (await gw.get("/api/v1/audit/verify", headers=as_user("admin1"))).json()
    assert answer["first_broken"] == "dispatch:assignment/t-1/history#2: unsealed"

    services.verdicts["dispatch"] = 503
    answer = (await gw.get("/api/v1/audit/verify", headers=as_user("admin1"))).json()
    assert (answer["ok"], answer["first_broken"]) == (False, "dispatch:answered 503")


@pytest.mark.parametrize("who", ["eng1", "agent1", "req-office"])
async def test_only_those_who_oversee_may_verify(gw, services, as_user, who: str) -> None:  # type: ignore[no-untyped-def]
    answer = await gw.get("/api/v1/audit/verify", headers=as_user(who))
    assert answer.status_code == 403
    assert services.asked == []
