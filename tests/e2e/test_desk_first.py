"""The desk's first contact on the real stack, through the gateway: a desk-first ticket waits at the desk while its
guidance window runs (a 2-second window here), survives a restart of intake, goes to dispatch once when the window
runs out, and the dispatch clock runs from the ticket's creation throughout; an agent can send one on sooner."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import httpx
import pytest

from opsdesk_devstack.stack import Stack

from .test_ticket_flow import TICKET, StreamReader, auth, direct

pytestmark = pytest.mark.e2e
WINDOW_S = 2.0


def _ticket(stack: Stack, ticket_id: str) -> dict[str, Any]:
    r = httpx.get(f"{stack.gateway}/api/v1/tickets/{ticket_id}", headers=auth(stack), timeout=15)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _wait(check: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def _timers(ticket: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in ticket["sla"] or []}


@pytest.mark.stack_env(INTAKE_GUIDANCE_WINDOW_S=str(WINDOW_S), INTAKE_HANDOVER_CHECK_S="0.3")
def test_a_desk_first_ticket_waits_for_the_desk_then_goes_to_dispatch_once(stack: Stack) -> None:
    gw = stack.gateway
    created = httpx.post(f"{gw}/api/v1/tickets", json={**TICKET, "desk_first": True}, headers=auth(stack), timeout=15)
    assert created.status_code == 201, created.text
    ticket = created.json()
    tid = ticket["id"]
    assert ticket["desk_first"] is True and ticket["status"] == "new"

    # While the desk holds it: no engineer, no assignment at dispatch; the dispatch clock runs from creation.
    held = _wait(lambda: (t := _ticket(stack, tid))["sla"] and "dispatch" in _timers(t) and t)
    assert held["status"] == "new" and held["assignee"] is None
    started = _timers(held)["dispatch"]
    assert started["state"] == "running" and "confirmation" not in _timers(held)
    with direct(stack, "dispatch") as dispatch:
        assert dispatch.get(f"/api/v1/assignments/{tid}").status_code == 404
    guided = httpx.post(f"{gw}/api/v1/tickets/{tid}/guidance", headers=auth(stack), timeout=15)
    assert guided.status_code == 200, guided.text

    # Intake restarts inside the window: the due time is in the database, so the new process hands it over.
    stack.restart("intake")

    assigned = _wait(lambda: (t := _ticket(stack, tid))["status"] == "assigned" and t, timeout=20)
    assert assigned["dispatch_requested_at"] is not None and assigned["assignee"]["engineer_id"]
    requested_at = datetime.fromisoformat(assigned["dispatch_requested_at"])
    created_at = datetime.fromisoformat(ticket["created_at"])
    assert (requested_at - created_at).total_seconds() >= WINDOW_S

    # The dispatch clock was neither restarted nor stopped by the hand-over: it started at creation and stopped at the
    # real assignment; the confirmation clock (the engineer's) started only then.
    after = _wait(lambda: (t := _ticket(stack, tid)) and _timers(t).get("dispatch", {}).get("state") == "met"
                  and "confirmation" in _timers(t) and t)
    dispatch_clock = _timers(after)["dispatch"]
    assert dispatch_clock["started_at"] == started["started_at"]
    assert datetime.fromisoformat(_timers(after)["confirmation"]["started_at"]) >= requested_at

    # Guidance on an assigned ticket is refused, naming the state it is allowed in.
    refused = httpx.post(f"{gw}/api/v1/tickets/{tid}/guidance", headers=auth(stack), timeout=15)
    assert refused.status_code == 409 and refused.json()["allowed"] == ["new"], refused.text

    # An agent sends another on before its window runs out; dispatch assigns it at once.
    other = httpx.post(f"{gw}/api/v1/tickets", json={**TICKET, "desk_first": True, "title": "显示器黑屏"}, headers=auth(stack), timeout=15).json()
    sent = httpx.post(f"{gw}/api/v1/tickets/{other['id']}/dispatch", headers=auth(stack), timeout=15)
    assert sent.status_code == 200, sent.text
    _wait(lambda: _ticket(stack, other["id"])["status"] == "assigned", timeout=10)

    time.sleep(WINDOW_S + 1)  # past the second ticket's window too: the checker sends nothing more
    reader = StreamReader(stack.observer_url())
    events = [e["body"] for e in reader.events("ticket.dispatch_requested", want=3, timeout=3)]
    by_ticket = sorted((e["subject_id"], e["data"]["reason"]) for e in events)
    assert by_ticket == sorted([(tid, "window_elapsed"), (other["id"], "desk")])
    assigned_events = [e["body"] for e in reader.events("ticket.assigned", want=3, timeout=3)]
    assert sum(e["subject_id"] == tid for e in assigned_events) == 1
