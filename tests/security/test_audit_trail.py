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
    """Set one field of a stored history record; the value it had, to put back."""
    doc = collection.find_one({"_id": doc_id})
    assert doc is not None
    field, index, key = path.split(".")
    before = doc[field][int(index)][key]
    assert collection.update_one({"_id": doc_id}, {"$set": {path: value}}).modified_count == 1
    return before


def test_the_trail_of_a_lived_ticket_verifies(stack: Stack, lived: dict[str, Any]) -> None:
    verdict = _verify(stack, lived["auditor"])
    assert verdict["ok"] is True, verdict
    assert verdict["checked"] > 0 and verdict["first_broken"] is None


def test_an_engineer_may_not_ask(stack: Stack, lived: dict[str, Any]) -> None:
    answer = httpx.get(f"{stack.gateway}/api/v1/audit/verify", headers=lived["engineer"], timeout=60)
    assert answer.status_code == 403, answer.text


def test_a_ticket_history_record_changed_in_the_database_is_named(
    stack: Stack, lived: dict[str, Any], databases: dict[str, Any],
) -> None:
    tickets, tid = databases["intake"]["tickets"], lived["tid"]
    before = _tampered(tickets, tid, "history.1.by", "mallory")
    try:
        verdict = _verify(stack, lived["auditor"])
        assert verdict["ok"] is False
        assert verdict["first_broken"] == f"intake:ticket/{tid}/history#1: {CHANGED}"
    finally:
        tickets.update_one({"_id": tid}, {"$set": {"history.1.by": before}})
    assert _verify(stack, lived["auditor"])["ok"] is True


def test_an_assignment_step_changed_in_the_database_is_named(
    stack: Stack, lived: dict[str, Any], databases: dict[str, Any],
) -> None:
    assignments, tid = databases["dispatch"]["assignments"], lived["tid"]
    before = _tampered(assignments, tid, "history.0.engineer_id", "eng-someone-else")
    try:
        verdict = _verify(stack, lived["auditor"])
        assert verdict["ok"] is False
        assert verdict["first_broken"] == f"dispatch:assignment/{tid}/history#0: {CHANGED}"
    finally:
        assignments.update_one({"_id": tid}, {"$set": {"history.0.engineer_id": before}})
    assert _verify(stack, lived["auditor"])["ok"] is True


def test_an_item_version_in_the_register_changed_in_the_database_is_named(
    stack: Stack, lived: dict[str, Any], databases: dict[str, Any],
) -> None:
    versions = databases["assets"]["asset_versions"]
    before = versions.find_one({"_id": f"{TAG}#1"})
    assert before is not None and "hash" in before  # the demo register was sealed as it was seeded
    versions.update_one({"_id": f"{TAG}#1"}, {"$set": {"by": "mallory"}})
    try:
        verdict = _verify(stack, lived["auditor"])
        assert verdict["first_broken"] == f"assets:asset-versions/{TAG}#0: {CHANGED}"
    finally:
        versions.update_one({"_id": f"{TAG}#1"}, {"$set": {"by": before["by"]}})
    assert _verify(stack, lived["auditor"])["ok"] is True
