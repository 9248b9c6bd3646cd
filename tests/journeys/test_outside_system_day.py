"""An outside system's day through the gateway: with an API key the administrator made, it files tickets (a retry
with the same Idempotency-Key makes no duplicate), reads the merged OpenAPI and the AsyncAPI documents, follows its
ticket's events on NATS as the read-only observer under its own correlation id, and meets every error in one shape."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from intake.gateway.routing import ROUTES
from opsdesk_devstack.stack import Stack

from .people import TIMEOUT, admin, assigned, sign_in, wait_for

pytestmark = pytest.mark.e2e

ERROR_KEYS = {"code", "message", "detail"}


@pytest.fixture(scope="module")
def system(stack: Stack) -> dict[str, str]:
    """The hotline's ticketing system: an API key the administrator created for it (shown once)."""
    made = httpx.post(f"{stack.gateway}/api/v1/api-keys", json={"name": f"hotline-{uuid.uuid4().hex[:8]}", "role": "agent"},
                      headers=admin(stack), timeout=TIMEOUT)
    assert made.status_code == 201, made.text
    assert made.json()["role"] == "agent" and made.json()["key"]
    return {"Authorization": f"Bearer {made.json()['key']}"}


def _ticket_body(title: str) -> dict[str, Any]:
    return {"title": title, "description": "市民热线转来:打印机无法打印", "channel": "hotline", "service_code": "RS-REPAIR",
            "requester": {"name": "赵敏", "department": "财务科", "phone": "020-12345678"}, "site": "主楼"}


def _events(url: str, subject: str, *, ticket_id: str, want: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    """What reached JetStream on `subject` about one ticket, read from the start with a plain connection."""
    async def read() -> list[dict[str, Any]]:
        nc = await nats.connect(url)
        try:
            js = nc.jetstream()
            sub = await js.pull_subscribe(subject, durable=None, config=ConsumerConfig(
                deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE))
            got: list[dict[str, Any]] = []
            deadline = asyncio.get_running_loop().time() + timeout
            while len(got) < want and asyncio.get_running_loop().time() < deadline:
                try:
                    msgs = await sub.fetch(50, timeout=0.3)
                except Exception:  # a fetch that timed out: nothing new yet
                    continue
                for m in msgs:
                    body = json.loads(m.data)
                    if body.get("subject_id") == ticket_id or body.get("data", {}).get("ticket_id") == ticket_id:
                        got.append({"headers": dict(m.headers or {}), "body": body})
            await sub.unsubscribe()
            return got
        finally:
            await nc.close()

    return asyncio.run(read())


def test_a_retried_ticket_with_the_same_idempotency_key_is_filed_once(stack: Stack, system: dict[str, str]) -> None:
    title = f"热线工单 {uuid.uuid4().hex[:6]}"
    key = {"Idempotency-Key": f"hotline-{uuid.uuid4()}"}
    first = httpx.post(f"{stack.gateway}/api/v1/tickets", json=_ticket_body(title), headers={**system, **key}, timeout=TIMEOUT)
    assert first.status_code == 201, first.text
    assert first.json()["number"].startswith("INC-") and first.headers["Location"].endswith(first.json()["id"])
    retry = httpx.post(f"{stack.gateway}/api/v1/tickets", json=_ticket_body(title), headers={**system, **key}, timeout=TIMEOUT)
    assert retry.status_code == 200 and retry.headers.get("Idempotent-Replayed") == "true", retry.text
    assert retry.json()["id"] == first.json()["id"] and retry.json()["number"] == first.json()["number"]
    found = httpx.get(f"{stack.gateway}/api/v1/tickets", params={"q": title}, headers=system, timeout=TIMEOUT)
    assert found.status_code == 200 and [t["id"] for t in found.json()["items"]] == [first.json()["id"]], found.text
    # Another key is another ticket.
    other = httpx.post(f"{stack.gateway}/api/v1/tickets", json=_ticket_body(title),
                       headers={**system, "Idempotency-Key": f"hotline-{uuid.uuid4()}"}, timeout=TIMEOUT)
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


def test_the_merged_openapi_documents_every_routed_prefix(stack: Stack, system: dict[str, str]) -> None:
    assert httpx.get(f"{stack.gateway}/api/v1/openapi.json", timeout=60).status_code == 401
    doc = httpx.get(f"{stack.gateway}/api/v1/openapi.json", headers=system, timeout=60)
    assert doc.status_code == 200, doc.text[:500]
    spec = doc.json()
    assert spec["x-missing"] == []
    paths = set(spec["paths"])
    undocumented = [p for p in ROUTES if not any(path == f"/api/v1/{p}" or path.startswith(f"/api/v1/{p}/") for path in paths)]
    assert not undocumented, undocumented
    assert {"/api/v1/tickets", "/api/v1/assignments", "/api/v1/escalations", "/api/v1/repairs", "/api/v1/spares"} <= paths
    post = spec["paths"]["/api/v1/tickets"]["post"]
    assert any(p.get("name", "").lower() == "idempotency-key" for p in post.get("parameters", []))


def test_the_asyncapi_document_names_a_production_server_with_security(stack: Stack, system: dict[str, str]) -> None:
    assert httpx.get(f"{stack.gateway}/asyncapi.json", timeout=TIMEOUT).status_code == 401
    doc = httpx.get(f"{stack.gateway}/asyncapi.json", headers=system, timeout=TIMEOUT)
    assert doc.status_code == 200, doc.text[:500]
    spec = doc.json()
    production = spec["servers"]["production"]
    assert production["protocol"] == "nats" and production["security"]
    schemes = spec["components"]["securitySchemes"]
    assert all(ref["$ref"].split("/")[-1] in schemes for ref in production["security"])
    channels = json.dumps(spec["channels"])
    assert "ticket.created" in channels and "ticket.assigned" in channels


def test_the_system_follows_its_tickets_events_under_its_correlation_id(stack: Stack, system: dict[str, str]) -> None:
    correlation = f"hotline-{uuid.uuid4()}"
    filed = httpx.post(f"{stack.gateway}/api/v1/tickets", json=_ticket_body("热线:复印机卡纸"),
                       headers={**system, "X-Correlation-ID": correlation}, timeout=TIMEOUT)
    assert filed.status_code == 201, filed.text
    tid = filed.json()["id"]
    desk = sign_in(stack, "agent", department="服务台", prefix="desk")
    engineer = assigned(stack, tid, desk)["assignee"]["engineer_id"]

    created = _events(stack.observer_url(), "ticket.created", ticket_id=tid, want=1)
    assert len(created) == 1, created
    assert created[0]["body"]["correlation_id"] == correlation
    assert created[0]["headers"].get("correlation_id") == correlation
    assert created[0]["body"]["data"]["number"] == filed.json()["number"]
    got = wait_for(lambda: _events(stack.observer_url(), "ticket.assigned", ticket_id=tid, want=1, timeout=2))
    assert got[0]["body"]["correlation_id"] == correlation and got[0]["body"]["data"]["engineer_id"] == engineer

    # The observer only reads: it cannot publish into the event stream.
    async def publish() -> None:
        nc = await nats.connect(stack.observer_url())
        try:
            await nc.jetstream().publish("ticket.created", b"{}", timeout=2)
        finally:
            await nc.close()

    with pytest.raises(Exception):  # noqa: B017 - a permissions violation or a timed-out ack, either way refused
        asyncio.run(publish())


def test_every_error_comes_in_one_shape(stack: Stack, system: dict[str, str]) -> None:
    gw = f"{stack.gateway}/api/v1"
    unknown = "00000000-0000-0000-0000-000000000000"
    cases = [
        ("intake: unknown ticket", httpx.get(f"{gw}/tickets/{unknown}", headers=system, timeout=TIMEOUT), 404),
        ("intake: a bad body", httpx.post(f"{gw}/tickets", json={"title": ""}, headers=system, timeout=TIMEOUT), 422),
        ("intake: a time without offset", httpx.post(f"{gw}/tickets", json={**_ticket_body("x"), "reported_at": "2026-11-30 09:00"},
                                                     headers=system, timeout=TIMEOUT), 422),
        ("dispatch: unknown assignment", httpx.get(f"{gw}/assignments/{unknown}", headers=system, timeout=TIMEOUT), 404),
        ("reporting: a month that does not exist", httpx.get(f"{gw}/reports/service-summary/2026-13", headers=system,
                                                             timeout=TIMEOUT), 422),
        ("sla-monitor: unknown timer", httpx.get(f"{gw}/timers/{unknown}/confirmation", headers=system, timeout=TIMEOUT), 404),
        ("assets: unknown asset", httpx.get(f"{gw}/assets/NO-SUCH-TAG", headers=system, timeout=TIMEOUT), 404),
        ("gateway: no credential", httpx.get(f"{gw}/tickets", timeout=TIMEOUT), 401),
        ("gateway: a forged key", httpx.get(f"{gw}/tickets", headers={"Authorization": "Bearer forged"}, timeout=TIMEOUT), 401),
    ]
    for what, response, expected in cases:
        assert response.status_code == expected, (what, response.status_code, response.text)
        body = response.json()
        assert set(body) >= ERROR_KEYS, (what, body)
        assert isinstance(body["code"], str) and isinstance(body["message"], str) and body["message"], (what, body)
    offset = next(r for w, r, _ in cases if w == "intake: a time without offset").json()
    assert any(d["loc"][-1] == "reported_at" for d in offset["detail"]), offset
    # In the caller's language: the same refusal read in simplified Chinese.
    zh = httpx.get(f"{gw}/assignments/{unknown}", headers={**system, "Accept-Language": "zh-CN"}, timeout=TIMEOUT).json()
    assert set(zh) >= ERROR_KEYS and any("\u4e00" <= ch <= "\u9fff" for ch in zh["message"]), zh
