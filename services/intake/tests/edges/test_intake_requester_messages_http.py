"""What a requester reads on their ticket (issue 13, item 17): texts written for them, never the staff's reasons;
the engineer's acceptance and ETA; a cancel until the engineer accepts."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from intake import service
from intake.wiring import Adapters
from opsdesk_shared.contracts import AssignmentAcceptedV1, AssignmentConfirmedV1, TicketAssignedV1, TicketReassignedV1

Headers = Callable[[str], dict[str, str]]
SCORING = "skill match (printer), on duty on site, load 2/8, role mobile, score 13.25"
DELAY = "車輛故障,司機請假"
DESK_REASON = "黃工上週投訴過該科室,換人"


async def _requester_ticket(client: httpx.AsyncClient, as_user: Headers) -> dict[str, Any]:
    body = {"title": "打印機卡紙", "description": "三樓打印機卡紙", "channel": "web", "service_code": "RS-REPAIR"}
    response = await client.post("/api/v1/tickets", json=body, headers=as_user("req-office"))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def _assign(adapters: Adapters, ticket_id: str, *, assignment_id: str = "a-1") -> None:
    await service.record_assignment(
        TicketAssignedV1(ticket_id=ticket_id, assignment_id=assignment_id, engineer_id="eng1", engineer_name="陳志強",
                         reason=SCORING, assigned_at=datetime.now(UTC)),
        desk=adapters.desk,
    )


async def _reassign(adapters: Adapters, ticket_id: str, *, reason: str, by: str) -> None:
    await service.record_reassignment(
        TicketReassignedV1(ticket_id=ticket_id, assignment_id=f"a-{uuid.uuid4()}", previous_engineer_id="eng1",
                           engineer_id="eng2", engineer_name="黃偉明", reason=reason, by=by, reassigned_at=datetime.now(UTC)),
        desk=adapters.desk,
    )


async def _read(client: httpx.AsyncClient, headers: dict[str, str], ticket_id: str) -> tuple[dict[str, Any], str]:
    response = await client.get(f"/api/v1/tickets/{ticket_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json(), response.text


async def test_after_a_delay_re_dispatch_the_requester_sees_neither_the_reason_nor_the_scoring(
    client: httpx.AsyncClient, adapters: Adapters, as_user: Headers
) -> None:
    ticket = await _requester_ticket(client, as_user)
    await _assign(adapters, ticket["id"])
    await _reassign(adapters, ticket["id"], reason=f"re-dispatch after delay ({DELAY}); {SCORING}", by="dispatch")

    seen, raw = await _read(client, as_user("req-office"), ticket["id"])
    assert "黃偉明" in raw  # the body is not \u-escaped, so a Chinese reason would show here
    for secret in (DELAY, "score 13.25", "load 2/8", "role mobile"):
        assert secret not in raw
    assert seen["assignee"]["engineer_name"] == "黃偉明"
    told = [c["body"] for c in seen["comments"]]
    assert told == ["您的工單 " + ticket["number"] + " 已改由工程師 黃偉明 負責，我們會盡快為您處理。"]  # written in 繁體

    staff, _ = await _read(client, as_user("agent1"), ticket["id"])
    notes = [c for c in staff["comments"] if c["internal"]]
    assert len(notes) == 1 and DELAY in notes[0]["body"] and "score 13.25" in notes[0]["body"]
    assert staff["assignee"]["reason"].endswith(SCORING) and staff["assignee"]["note"] is None
    assert staff["assignee"]["decided_by"] == "dispatch"
    assert seen["assignee"]["reason"] is None and seen["assignee"]["notice"].startswith("您的工單")


async def test_a_desk_reassign_reason_stays_with_the_staff(client: httpx.AsyncClient, adapters: Adapters, as_user: Headers) -> None:
    ticket = await _requester_ticket(client, as_user)
    await _assign(adapters, ticket["id"])
    await _reassign(adapters, ticket["id"], reason=DESK_REASON, by="agent1")

    _, raw = await _read(client, as_user("req-office"), ticket["id"])
    assert DESK_REASON not in raw and "agent1" not in raw
    _, colleague = await _read(client, as_user("req-office2"), ticket["id"])  # the department sees the ticket too
    assert DESK_REASON not in colleague
    staff, _ = await _read(client, as_user("agent1"), ticket["id"])
    assert any(c["internal"] and DESK_REASON in c["body"] for c in staff["comments"])
    # The agent's words are their note, not dispatch's reason: each assignee field keeps one meaning.
    shown = staff["assignee"]
    assert (shown["reason"], shown["note"], shown["decided_by"]) == (None, DESK_REASON, "agent1")
    assert shown["notice"] == f"您的工單 {ticket['number']} 已指派給工程師 黃偉明，我們會盡快為您處理。"


async def test_the_requester_sees_the_engineer_accept_and_the_eta(client: httpx.AsyncClient, adapters: Adapters, as_user: Headers) -> None:
    ticket = await _requester_ticket(client, as_user)
    await _assign(adapters, ticket["id"])
    now = datetime.now(UTC)
    eta = now + timedelta(minutes=25)
    accepted = AssignmentAcceptedV1(ticket_id=ticket["id"], assignment_id="a-1", engineer_id="eng1", accepted_at=now)
    assert await service.record_acceptance(accepted, desk=adapters.desk) is True
    assert await service.record_acceptance(accepted, desk=adapters.desk) is False  # a redelivery changes nothing
    other = AssignmentConfirmedV1(ticket_id=ticket["id"], assignment_id="a-old", engineer_id="eng9", eta=now, confirmed_at=now)
    assert await service.record_confirmation(other, desk=adapters.desk) is False  # another assignment's news
    confirmed = AssignmentConfirmedV1(ticket_id=ticket["id"], assignment_id="a-1", engineer_id="eng1", eta=eta, confirmed_at=now)
    assert await service.record_confirmation(confirmed, desk=adapters.desk) is True

    seen, _ = await _read(client, as_user("req-office"), ticket["id"])
    assignee = seen["assignee"]
    assert assignee["accepted_at"] is not None and assignee["confirmed_at"] is not None
    assert datetime.fromisoformat(assignee["eta"]) == eta.replace(microsecond=eta.microsecond // 1000 * 1000)
    assert assignee["notice"] == f"您的工單 {ticket['number']} 已指派給工程師 陳志強，我們會盡快為您處理。"
    # One meaning per field: dispatch's reason, a person's note and who decided are the staff's, never a requester's.
    assert (assignee["reason"], assignee["note"], assignee["decided_by"], assignee["withdrawn_reason"]) == (None, None, None, None)


async def test_a_requester_cancels_an_assigned_ticket_until_the_engineer_accepts(
    client: httpx.AsyncClient, adapters: Adapters, as_user: Headers
) -> None:
    first = await _requester_ticket(client, as_user)
    await _assign(adapters, first["id"])
    cancel = {"status": "cancelled", "reason": "自己修好了"}
    response = await client.post(f"/api/v1/tickets/{first['id']}/status", json=cancel, headers=as_user("req-office"))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"

    second = await _requester_ticket(client, as_user)
    await _assign(adapters, second["id"], assignment_id="a-2")
    await service.record_acceptance(
        AssignmentAcceptedV1(ticket_id=second["id"], assignment_id="a-2", engineer_id="eng1", accepted_at=datetime.now(UTC)),
        desk=adapters.desk,
    )
    response = await client.post(f"/api/v1/tickets/{second['id']}/status", json=cancel, headers=as_user("req-office"))
    # A state conflict, not a question of rights (H12): 409 naming what the requester may still do.
    assert response.status_code == 409, response.text
    assert "cancelled" not in response.json()["allowed"]
