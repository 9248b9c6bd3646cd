"""What a requester may reach on their own ticket (issue 13, H1 item 5): the suggestions the ticket shows them, through
the knowledge route too (404 for a ticket they may not see), and only the transitions they may take."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from intake import service
from intake.domain import Suggestion
from intake.wiring import Adapters
from opsdesk_shared.contracts import TicketAssignedV1

Headers = Callable[[str], dict[str, str]]
PRINTER = {"title": "打印機卡紙", "description": "三樓打印機卡紙", "channel": "web", "service_code": "RS-REPAIR"}


async def _mine(client: httpx.AsyncClient, as_user: Headers) -> dict[str, Any]:
    response = await client.post("/api/v1/tickets", json=PRINTER, headers=as_user("req-office"))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_requester_reads_the_suggestions_of_their_own_ticket_and_not_of_anothers(
    client: httpx.AsyncClient, adapters: Adapters, as_user: Headers
) -> None:
    ticket = await _mine(client, as_user)
    article = Suggestion(article_id="kb-demo-printer-jam", title="打印機卡紙的處理", score=3.5)
    await service.record_suggestions(ticket["id"], [article], desk=adapters.desk, now=datetime.now(UTC))

    shown = (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=as_user("req-office"))).json()["suggestions"]
    for ref in (ticket["id"], ticket["number"]):
        read = await client.get(f"/api/v1/kb/suggestions/{ref}", headers=as_user("req-office"))
        assert read.status_code == 200, read.text
        body = read.json()
        assert body["ticket_id"] == ticket["id"]
        assert [a["article_id"] for a in body["articles"]] == [s["article_id"] for s in shown] == ["kb-demo-printer-jam"]
    others = await client.get(f"/api/v1/kb/suggestions/{ticket['id']}", headers=as_user("req-finance"))
    assert others.status_code == 404, others.text
    unknown = await client.get("/api/v1/kb/suggestions/no-such-ticket", headers=as_user("req-office"))
    assert unknown.status_code == 404


async def test_a_requester_is_offered_only_the_transitions_they_may_take(
    client: httpx.AsyncClient, adapters: Adapters, as_user: Headers
) -> None:
    ticket = await _mine(client, as_user)
    assert ticket["allowed_transitions"] == ["cancelled"]  # not "assigned", "in_progress", "resolved": the desk's
    await service.record_assignment(
        TicketAssignedV1(ticket_id=ticket["id"], assignment_id="a-1", engineer_id="eng1", engineer_name="陳志強", reason="skill",
                         assigned_at=datetime.now(UTC)),
        desk=adapters.desk,
    )
    def offered(who: str) -> Any:
        return client.get(f"/api/v1/tickets/{ticket['id']}", headers=as_user(who))

    assert (await offered("req-office")).json()["allowed_transitions"] == ["cancelled"]
    assert (await offered("req-office2")).json()["allowed_transitions"] == []  # a colleague sees it, cancels nothing
    assert (await offered("agent1")).json()["allowed_transitions"] == ["in_progress", "pending", "resolved", "cancelled"]
    assert (await offered("eng1")).json()["allowed_transitions"] == ["in_progress", "pending", "resolved"]
    assert (await offered("auditor1")).json()["allowed_transitions"] == []
    resolved = await client.post(f"/api/v1/tickets/{ticket['id']}/resolve", json={"resolution": "換了硒鼓"}, headers=as_user("agent1"))
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["allowed_transitions"] == ["closed", "in_progress"]
    assert (await offered("req-office")).json()["allowed_transitions"] == ["closed", "in_progress"]  # close, or reopen
    assert (await offered("req-office2")).json()["allowed_transitions"] == ["in_progress"]  # reopen, not close
