"""Dispatch's `GET /api/v1/audit/verify` (issue 16): its assignments' history chains, read-only, for those who oversee."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from dispatch.adapters.memory import MemoryAssignmentStore
from dispatch.domain import Assignment, Step
from dispatch.main import Adapters

AT = datetime(2026, 3, 14, 9, 30, 0, 123000, tzinfo=UTC)


async def _stored(adapters: Adapters) -> MemoryAssignmentStore:
    store = adapters.assignments
    assert isinstance(store, MemoryAssignmentStore)
    steps = (Step(action="assigned", at=AT, by="dispatch", engineer_id="eng-onsite-1"),
             Step(action="accepted", at=AT, by="eng-onsite-1", engineer_id="eng-onsite-1"))
    await store.add(Assignment(id="a-1", ticket_id="t-1", ticket_number="INC-2026-000001", engineer_id="eng-onsite-1",
                               engineer_name="陳志強", reason="chosen", score=1.0, assigned_at=AT, history=steps), [])
    return store


@pytest.mark.parametrize("role", ["auditor", "agency", "manager", "admin"])
async def test_an_intact_trail_verifies_with_its_count(client: httpx.AsyncClient, adapters: Adapters, role: str) -> None:
    await _stored(adapters)
    answer = await client.get("/api/v1/audit/verify", headers={"X-Opsdesk-Role": role, "X-Opsdesk-User": "u1"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"ok": True, "checked": 2, "first_broken": None}


async def test_a_changed_step_is_named(client: httpx.AsyncClient, adapters: Adapters) -> None:
    store = await _stored(adapters)
    store.sealed["t-1"]["history"][1] = {**store.sealed["t-1"]["history"][1], "by": "eng-onsite-2"}
    answer = (await client.get("/api/v1/audit/verify", headers={"X-Opsdesk-Role": "manager"})).json()
    assert answer == {"ok": False, "checked": 2,
                      "first_broken": "assignment/t-1/history#1: hash does not match the record (the record was changed)"}


@pytest.mark.parametrize("role", ["engineer", "agent", "requester"])
async def test_the_team_s_workers_may_not_verify(client: httpx.AsyncClient, role: str) -> None:
    answer = await client.get("/api/v1/audit/verify", headers={"X-Opsdesk-Role": role, "X-Opsdesk-User": "u1"})
    assert answer.status_code == 403
