"""Issue 16, the tamper-evident trail on the real stack: someone with the database but not the audit key changes a
stored history record directly (pymongo, the service's own database credentials: intake's tickets, dispatch's
assignments, assets' register versions), and the gateway's
`GET /api/v1/audit/verify` names that record; put back as it was, the trail verifies again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from opsdesk_devstack.stack import Stack

from .support import sign_in, wait_for

pytestmark = pytest.mark.e2e

TAG = "GZ-2026-000001"  # seeded by the demo register
CHANGED = "hash does not match the record (the record was changed)"


def _verify(stack: Stack, headers: dict[str, str]) -> dict[str, Any]:
    answer = httpx.get(f"{stack.gateway}/api/v1/audit/verify", headers=headers, timeout=60)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


@pytest.fixture(scope="module")
def lived(stack: Stack, engineers: dict[str, dict[str, str]]) -> dict[str, Any]:
    """A ticket through the gateway: filed, assigned by dispatch, accepted by its engineer."""
    requester = sign_in(stack, "requester", department="财务科", prefix="audit-req")
    agent = sign_in(stack, "agent", prefix="audit-desk")
    body = {"title": "打印机卡纸", "description": "三楼财务科打印机卡纸", "channel": "web", "service_code": "RS-REPAIR", "asset_tag": TAG}
    created = httpx.post(f"{stack.gateway}/api/v1/tickets", json=body, headers=requester, timeout=15)
    assert created.status_code == 201, created.text
    tid = created.json()["id"]
    holder_id = wait_for(lambda: (t := httpx.get(f"{stack.gateway}/api/v1/tickets/{tid}", headers=agent, timeout=15).json())
                         .get("assignee") and t["assignee"]["engineer_id"])
    accepted = httpx.post(f"{stack.gateway}/api/v1/assignments/{tid}/accept", headers=engineers[holder_id], timeout=15)
    assert accepted.status_code == 200, accepted.text
    # The ticket hears of the acceptance through the bus: new, assigned, in_progress in its status history.
    wait_for(lambda: httpx.get(f"{stack.gateway}/api/v1/tickets/{tid}", headers=agent, timeout=15).json()["status"] == "in_progress")
    return {"tid": tid, "engineer": engineers[holder_id], "auditor": sign_in(stack, "auditor", prefix="audit-aud")}


@pytest.fixture
def databases(stack: Stack) -> Iterator[dict[str, Any]]:
    """Each service's own database, opened as that service (what a stolen database password gives)."""
    assert stack.database is not None
    clients = {name: MongoClient(stack.database.url_for(name), serverSelectionTimeoutMS=5000) for name in ("intake", "dispatch", "assets")}
    try:
        yield {name: client[f"opsdesk_{name}"] for name, client in clients.items()}
    finally:
        for client in clients.values():
            client.close()


def _tampered(collection: Any, doc_id: str, path: str, value: Any) -> Any:
    """Set one field of a stored, sealed history record (`path` ends in the field); the value it had, to put back."""
    doc = collection.find_one({"_id": doc_id})
    assert doc is not None
    *steps, field = path.split(".")
    record = doc
    for step in steps:
        record = record[int(step)] if isinstance(record, list) else record[step]
    assert "hash" in record, record  # sealed when written (the demo register as it was seeded)
    before = record[field]
    assert collection.update_one({"_id": doc_id}, {"$set": {path: value}}).modified_count == 1
    return before


def test_the_trail_of_a_lived_ticket_verifies(stack: Stack, lived: dict[str, Any]) -> None:
    verdict = _verify(stack, lived["auditor"])
    assert verdict["ok"] is True, verdict
    assert verdict["checked"] > 0 and verdict["first_broken"] is None


def test_an_engineer_may_not_ask(stack: Stack, lived: dict[str, Any]) -> None:
    answer = httpx.get(f"{stack.gateway}/api/v1/audit/verify", headers=lived["engineer"], timeout=60)
    assert answer.status_code == 403, answer.text


# Where someone with the database changes a record, and the record the verification must name ("{tid}": the lived
# ticket): intake's ticket history, dispatch's assignment steps, assets' register versions.
TAMPERED = [
    pytest.param("intake", "tickets", "{tid}", "history.1.by", "mallory", "intake:ticket/{tid}/history#1", id="ticket-history"),
    pytest.param("dispatch", "assignments", "{tid}", "history.0.engineer_id", "eng-someone-else",
                 "dispatch:assignment/{tid}/history#0", id="assignment-step"),
    pytest.param("assets", "asset_versions", f"{TAG}#1", "by", "mallory", f"assets:asset-versions/{TAG}#0", id="register-version"),
]


@pytest.mark.parametrize(("service", "collection", "doc_id", "path", "value", "named"), TAMPERED)
def test_a_history_record_changed_in_the_database_is_named(
    stack: Stack, lived: dict[str, Any], databases: dict[str, Any],
    service: str, collection: str, doc_id: str, path: str, value: Any, named: str,
) -> None:
    stored, doc_id = databases[service][collection], doc_id.format(tid=lived["tid"])
    before = _tampered(stored, doc_id, path, value)
    try:
        verdict = _verify(stack, lived["auditor"])
        assert verdict["ok"] is False
        assert verdict["first_broken"] == f"{named.format(tid=lived['tid'])}: {CHANGED}"
    finally:
        stored.update_one({"_id": doc_id}, {"$set": {path: before}})
    assert _verify(stack, lived["auditor"])["ok"] is True
