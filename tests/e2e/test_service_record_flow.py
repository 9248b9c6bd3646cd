"""One service record, end to end through the gateway: the engineer (a user linked to the roster) completes with the
record through dispatch, it lands on the ticket, the desk returns it and then approves it on the ticket, and the
ticket and the assignment agree at every step; nobody closes while the record waits."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from opsdesk_devstack.people import create_user, engineer, sign_in, token_for, wait_for
from opsdesk_devstack.stack import Stack

from .test_ticket_flow import TICKET, StreamReader

pytestmark = pytest.mark.e2e


def test_the_engineers_record_is_reviewed_once_on_the_ticket_and_the_assignment_follows(stack: Stack) -> None:
    gw = stack.gateway
    requester = sign_in(stack, "requester", department="辦公室", name=TICKET["requester"]["name"], prefix="wang.xm")
    desk_user = create_user(stack, "agent", department="服務台", prefix="desk.zhou")["username"]
    desk = token_for(stack, desk_user)
    own = {k: v for k, v in TICKET.items() if k != "requester"}
    created = httpx.post(f"{gw}/api/v1/tickets", json=own, headers=requester, timeout=15)
    assert created.status_code == 201, created.text
    tid = created.json()["id"]
    assigned = wait_for(lambda: (t := httpx.get(f"{gw}/api/v1/tickets/{tid}", headers=desk).json())["status"] == "assigned" and t)
    holder = engineer(stack, assigned["assignee"]["engineer_id"])

    def ticket() -> dict[str, Any]:
        return httpx.get(f"{gw}/api/v1/tickets/{tid}", headers=desk, timeout=15).json()  # type: ignore[no-any-return]

    def assignment() -> dict[str, Any]:
        return httpx.get(f"{gw}/api/v1/assignments/{tid}", headers=desk, timeout=15).json()  # type: ignore[no-any-return]

    def agree(ticket_state: tuple[str, str], assignment_state: tuple[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Waits until the ticket (status, record review) and the assignment (status, record review) read as given."""
        def both() -> tuple[dict[str, Any], dict[str, Any]] | None:
            t, a = ticket(), assignment()
            seen_t = (t["status"], (t["service_record"] or {}).get("review"))
            seen_a = (a["status"], (a.get("service_record") or {}).get("review"))
            return (t, a) if (seen_t, seen_a) == (ticket_state, assignment_state) else None
        return wait_for(both)  # type: ignore[no-any-return]

    assert httpx.post(f"{gw}/api/v1/assignments/{tid}/accept", headers=holder, timeout=15).status_code == 200
    # The engineer no longer writes the record on the ticket: they complete through dispatch.
    refused = httpx.put(f"{gw}/api/v1/tickets/{tid}/service-record", json={"work_done": "x"}, headers=holder, timeout=15)
    assert refused.status_code == 403, refused.text

    record = {"work_done": "更換搓紙輪,打印測試正常", "parts_used": [{"part": "搓紙輪", "sku": "pickup-roller", "quantity": 1}],
              "minutes_on_site": 35}
    done = httpx.post(f"{gw}/api/v1/assignments/{tid}/complete", json=record, headers=holder, timeout=15)
    assert done.status_code == 200, done.text
    t, a = agree(("resolved", "pending"), ("completed", "pending"))
    assert t["service_record"]["work_done"] == record["work_done"] and t["service_record"]["minutes_on_site"] == 35
    assert t["service_record"]["parts_used"] == [{"part": "搓紙輪", "sku": "pickup-roller", "quantity": 1}]
    assert t["service_record"]["assignment_id"] == a["id"] and t["resolution"] == record["work_done"]

    # Nobody closes while the record waits for review: not the requester, not the desk.
    for who in (requester, desk):
        waiting = httpx.post(f"{gw}/api/v1/tickets/{tid}/close", json={}, headers=who, timeout=15)
        assert waiting.status_code == 409, waiting.text
    # Dispatch's own review is gone: the ticket's review is the one.
    assert httpx.post(f"{gw}/api/v1/assignments/{tid}/review", json={"approved": True}, headers=desk, timeout=15).status_code in (404, 405)

    back = httpx.post(f"{gw}/api/v1/tickets/{tid}/service-record/review", json={"decision": "return", "note": "請補充序號"},
                      headers=desk, timeout=15)
    assert back.status_code == 200, back.text
    t, a = agree(("in_progress", "returned"), ("confirmed", "returned"))
    assert t["service_record"]["review_note"] == "請補充序號" and a["history"][-1]["action"] == "record returned"
    assert httpx.post(f"{gw}/api/v1/tickets/{tid}/close", json={}, headers=desk, timeout=15).status_code == 409

    again = httpx.post(f"{gw}/api/v1/assignments/{tid}/complete", json={**record, "work_done": "更換搓紙輪 SN-8841"}, headers=holder, timeout=15)
    assert again.status_code == 200, again.text
    agree(("resolved", "pending"), ("completed", "pending"))

    approved = httpx.post(f"{gw}/api/v1/tickets/{tid}/service-record/review", json={"decision": "approve"}, headers=desk, timeout=15)
    assert approved.status_code == 200, approved.text
    t, a = agree(("resolved", "approved"), ("reviewed", "approved"))
    assert a["service_record"]["reviewed_by"] == t["service_record"]["reviewed_by"] == desk_user

    closed = httpx.post(f"{gw}/api/v1/tickets/{tid}/close", json={"satisfaction": 5}, headers=requester, timeout=15)
    assert closed.status_code == 200 and closed.json()["status"] == "closed", closed.text
    assert assignment()["status"] == "reviewed"  # a closed ticket does not withdraw reviewed work

    reader = StreamReader(stack.observer_url())
    verdicts = [e["body"]["data"] for e in reader.events("ticket.service_record_reviewed", want=2,
                                                         where=lambda e: e["body"]["subject_id"] == tid)]
    assert [v["decision"] for v in verdicts] == ["returned", "approved"]
    assert {v["assignment_id"] for v in verdicts} == {a["id"]}
