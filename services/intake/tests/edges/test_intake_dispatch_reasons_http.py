"""Issue 13 (dispatch seams, item 3): the desk reads what dispatch decided in its own language. Dispatch announces its
reasons as codes with parameters (ticket.assigned, ticket.reassigned, assignment.withdrawn); the ticket keeps them and
renders them for staff in the caller's language (Accept-Language), never dispatch's English text; requesters see none
of them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from intake import service
from intake.wiring import Adapters
from opsdesk_shared.contracts import AssignmentWithdrawnV1, TicketAssignedV1, TicketReassignedV1

Headers = Callable[[str], dict[str, str]]
CHOSEN = {"matched": "match", "skill": "printer", "duty": "onsite", "load": 2, "capacity": 8, "role": "onsite",
          "score": 13.75, "over_capacity": False}
ENGLISH = "skill match (printer), on duty on site, load 2/8, role onsite, score 13.75"


async def _ticket(client: httpx.AsyncClient, as_user: Headers) -> dict[str, Any]:
    body = {"title": "打印机卡纸", "description": "三楼打印机卡纸", "channel": "web", "service_code": "RS-REPAIR"}
    response = await client.post("/api/v1/tickets", json=body, headers=as_user("req-office"))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def _assign(adapters: Adapters, ticket_id: str) -> str:
    assignment_id = f"a-{uuid.uuid4()}"
    await service.record_assignment(
        TicketAssignedV1(ticket_id=ticket_id, assignment_id=assignment_id, engineer_id="eng1", engineer_name="陈志强",
                         reason=ENGLISH, reason_code="chosen", reason_params=CHOSEN, assigned_at=datetime.now(UTC)),
        desk=adapters.desk,
    )
    return assignment_id


async def _assignee(client: httpx.AsyncClient, headers: dict[str, str], ticket_id: str, language: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/tickets/{ticket_id}", headers={**headers, "Accept-Language": language})
    assert response.status_code == 200, response.text
    assignee: dict[str, Any] = response.json()["assignee"]
    return assignee


async def test_the_desk_reads_dispatchs_choice_in_its_own_language(
    client: httpx.AsyncClient, adapters: Adapters, as_user: Headers
) -> None:
    ticket = await _ticket(client, as_user)
    await _assign(adapters, ticket["id"])

    zh = await _assignee(client, as_user("agent1"), ticket["id"], "zh-CN")
    tw = await _assignee(client, as_user("agent1"), ticket["id"], "zh-TW")
    en = await _assignee(client, as_user("agent1"), ticket["id"], "en")

    assert zh["reason"] == "技能匹配（printer），驻场值班，负载 2/8，驻场工程师，评分 13.75"
    assert tw["reason"] == "技能匹配（printer），駐場值班，負載 2/8，駐場工程師，評分 13.75"
    assert en["reason"] == ENGLISH
    assert zh["reason_code"] == "chosen" and zh["reason_params"]["load"] == 2
    requester = await _assignee(client, as_user("req-office"), ticket["id"], "zh-CN")
    assert requester["reason"] is None and requester["reason_code"] is None and requester["reason_params"] == {}


async def test_a_re_dispatch_by_dispatch_reads_in_the_desks_language(
    client: httpx.AsyncClient, adapters: Adapters, as_user: Headers
) -> None:
    ticket = await _ticket(client, as_user)
    await _assign(adapters, ticket["id"])
    params = {**CHOSEN, "delay": "车坏了", "duty": "called_in"}
    await service.record_reassignment(
        TicketReassignedV1(ticket_id=ticket["id"], assignment_id=f"a-{uuid.uuid4()}", previous_engineer_id="eng1",
                           engineer_id="eng2", engineer_name="黄伟明", reason="re-dispatch after delay (车坏了); ...",
                           reason_code="redispatch", reason_params=params, by="dispatch", reassigned_at=datetime.now(UTC)),
        desk=adapters.desk,
    )

    zh = await _assignee(client, as_user("agent1"), ticket["id"], "zh-CN")
    assert zh["engineer_name"] == "黄伟明"
    assert zh["reason"].startswith("延误后重新派工（车坏了）；技能匹配（printer），非值班时段召回"), zh["reason"]


async def test_a_withdrawal_reads_in_the_desks_language(client: httpx.AsyncClient, adapters: Adapters, as_user: Headers) -> None:
    ticket = await _ticket(client, as_user)
    assignment_id = await _assign(adapters, ticket["id"])
    await service.record_withdrawal(
        AssignmentWithdrawnV1(ticket_id=ticket["id"], assignment_id=assignment_id, engineer_id="eng1",
                              reason="ticket resolved by agent1", withdrawn_at=datetime.now(UTC), reason_code="withdrawn",
                              reason_params={"status": "resolved", "by": "agent1"}),
        desk=adapters.desk,
    )

    zh = await _assignee(client, as_user("agent1"), ticket["id"], "zh-CN")
    en = await _assignee(client, as_user("agent1"), ticket["id"], "en")
    assert zh["withdrawn_reason"] == "工单已解决（agent1）" and en["withdrawn_reason"] == "ticket resolved by agent1"
    requester = await _assignee(client, as_user("req-office"), ticket["id"], "zh-CN")
    assert requester["withdrawn_reason"] is None and requester["withdrawn_reason_code"] is None


async def test_an_assignment_recorded_without_codes_keeps_dispatchs_text(
    client: httpx.AsyncClient, adapters: Adapters, as_user: Headers
) -> None:
    ticket = await _ticket(client, as_user)
    await service.record_assignment(
        TicketAssignedV1(ticket_id=ticket["id"], assignment_id="a-old", engineer_id="eng1", engineer_name="陈志强",
                         reason=ENGLISH, assigned_at=datetime.now(UTC)),
        desk=adapters.desk,
    )

    assert (await _assignee(client, as_user("agent1"), ticket["id"], "zh-CN"))["reason"] == ENGLISH
