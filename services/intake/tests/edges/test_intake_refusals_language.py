"""Intake's refusals in the caller's language (issue 13 item 12, H12): a walk of refusals a person meets at the desk
and in identity, under zh-CN (no ASCII-only sentence in `message`, `detail` or a field's `msg`) and en (still
English); a requester cancelling after acceptance is a 409 with what is allowed; an Idempotency-Key replayed with
another body is a 422 naming the header."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from intake import service
from intake.wiring import Adapters
from opsdesk_shared.contracts import AssignmentAcceptedV1, TicketAssignedV1

Headers = Callable[[str], dict[str, str]]
HAN = re.compile(r"[\u4e00-\u9fff]")
CATALOG_EXAMPLE: dict[str, Any] = {
    "family": "responsive", "name": {"zh-CN": "视频会议支持", "zh-TW": "視訊會議支援", "en": "Video conference support"},
    "deliverable": {"zh-CN": "支持服务记录", "zh-TW": "支援服務記錄", "en": "Support record"},
    "service_level": {"zh-CN": "5X8驻场", "zh-TW": "5X8駐場", "en": "5x8 on site"},
    "cadence": "on_demand", "ticket_type": "service_request", "default_priority": "P2",
    "sla_profile": "responsive", "skill": "application", "active": True,
}


def _texts(body: dict[str, Any]) -> list[str]:
    detail = body.get("detail")
    found = [str(body.get("message", ""))]
    if isinstance(detail, list):
        found += [str(d.get("msg", "")) for d in detail]
    elif detail is not None:
        found.append(str(detail))
    return found


def _own(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "requester"}


async def _ticket(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]) -> str:
    created = await client.post("/api/v1/tickets", json=body, headers=headers)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def _assign(adapters: Adapters, ticket_id: str, *, accepted: bool = False) -> None:
    assignment = f"a-{uuid.uuid4()}"
    await service.record_assignment(
        TicketAssignedV1(ticket_id=ticket_id, assignment_id=assignment, engineer_id="eng1", engineer_name="eng1",
                         reason="test", assigned_at=datetime.now(UTC)),
        desk=adapters.desk,
    )
    if accepted:
        await service.record_acceptance(
            AssignmentAcceptedV1(ticket_id=ticket_id, assignment_id=assignment, engineer_id="eng1", accepted_at=datetime.now(UTC)),
            desk=adapters.desk,
        )


async def _walk(client: httpx.AsyncClient, adapters: Adapters, as_user: Headers, ticket_body: dict[str, Any], lang: str) -> list[tuple[str, int, dict[str, Any]]]:
    req, agent, eng = as_user("req-office"), as_user("agent1"), as_user("eng1")
    ticket = await _ticket(client, req, _own(ticket_body))
    await _assign(adapters, ticket)
    said: list[tuple[str, int, dict[str, Any]]] = []

    async def ask(name: str, method: str, path: str, headers: dict[str, str], body: Any = None) -> None:
        answer = await client.request(method, path, json=body, headers={**headers, "Accept-Language": lang})
        said.append((name, answer.status_code, answer.json()))

    await ask("unknown ticket", "GET", "/api/v1/tickets/INC-2026-999999", agent)
    await ask("history for requesters", "GET", f"/api/v1/tickets/{ticket}/history", req)
    await ask("desk decides", "POST", "/api/v1/tickets", req, {**_own(ticket_body), "desk_first": True})
    await ask("unknown service", "POST", "/api/v1/tickets", agent, {**ticket_body, "service_code": "RS-NOPE"})
    await ask("pending without reason", "POST", f"/api/v1/tickets/{ticket}/status", eng, {"status": "pending"})
    await ask("cancel without reason", "POST", f"/api/v1/tickets/{ticket}/status", agent, {"status": "cancelled"})
    await ask("return without note", "POST", f"/api/v1/tickets/{ticket}/service-record/review", agent, {"decision": "return"})
    await ask("requester edits", "PATCH", f"/api/v1/tickets/{ticket}", req, {"title": "x"})
    await ask("user exists", "POST", "/api/v1/users", as_user("admin1"),
              {"username": "agent1", "name": "A", "role": "agent", "password": "a-long-enough-password-1"})
    await ask("bad date", "POST", "/api/v1/tickets", agent, {**ticket_body, "reported_at": "20x6-11-30T10:00:00+08:00"})
    await ask("no credentials", "GET", "/api/v1/tickets", {})
    await ask("unknown catalog service", "GET", "/api/v1/catalog/RS-NOPE", agent)
    await ask("catalog for admins", "PUT", "/api/v1/catalog/RS-NOPE", agent, CATALOG_EXAMPLE)
    await ask("bad cursor", "GET", "/api/v1/tickets?cursor=nonsense", agent)
    await ask("null on edit", "PATCH", f"/api/v1/tickets/{ticket}", agent, {"title": None})
    await ask("user not found", "GET", "/api/v1/users/nobody", as_user("admin1"))
    await ask("requires admin", "GET", "/api/v1/users", req)
    return said


@pytest.mark.parametrize("lang", ["zh-CN", "zh-TW"])
async def test_refusals_are_chinese_for_a_chinese_reader(
    client: httpx.AsyncClient, adapters: Adapters, as_user: Headers, ticket_body: dict[str, Any], lang: str
) -> None:
    said = await _walk(client, adapters, as_user, ticket_body, lang)
    statuses = {name: status for name, status, _ in said}
    assert statuses["catalog for admins"] == 403 and statuses["return without note"] == 409 and statuses["null on edit"] == 422
    assert all(status >= 400 for _, status, _ in said), [(n, s, b) for n, s, b in said]
    english = [(name, text) for name, _, body in said for text in _texts(body) if text and not HAN.search(text)]
    assert english == []


async def test_refusals_stay_english_for_an_english_reader(
    client: httpx.AsyncClient, adapters: Adapters, as_user: Headers, ticket_body: dict[str, Any]
) -> None:
    said = dict((name, body) for name, _, body in await _walk(client, adapters, as_user, ticket_body, "en"))
    assert said["unknown ticket"]["detail"] == "ticket INC-2026-999999 not found"
    assert said["history for requesters"]["detail"] == "the change history is for the desk and auditors"
    chinese = [(name, text) for name, body in said.items() for text in _texts(body) if HAN.search(text)]
    assert chinese == []


async def test_a_requester_cancelling_after_acceptance_hears_409_with_what_is_allowed(
    client: httpx.AsyncClient, adapters: Adapters, as_user: Headers, ticket_body: dict[str, Any]
) -> None:
    req = as_user("req-office")
    ticket = await _ticket(client, req, _own(ticket_body))
    await _assign(adapters, ticket, accepted=True)
    refused = await client.post(f"/api/v1/tickets/{ticket}/status", json={"status": "cancelled", "reason": "好了"},
                                headers={**req, "Accept-Language": "zh-CN"})
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["code"] == "illegal_transition" and "cancelled" not in body["allowed"]
    assert HAN.search(body["detail"])


async def test_an_idempotency_key_replayed_with_another_body_is_422_naming_the_header(
    client: httpx.AsyncClient, auth: dict[str, str], ticket_body: dict[str, Any]
) -> None:
    headers = {**auth, "Idempotency-Key": f"k-{uuid.uuid4()}", "Accept-Language": "zh-CN"}
    first = await client.post("/api/v1/tickets", json=ticket_body, headers=headers)
    same = await client.post("/api/v1/tickets", json=ticket_body, headers=headers)
    other = await client.post("/api/v1/tickets", json={**ticket_body, "title": "另一件事"}, headers=headers)
    assert (first.status_code, same.status_code, other.status_code) == (201, 200, 422), other.text
    body = other.json()
    assert body["code"] == "idempotency_key_reused"
    assert body["detail"][0]["loc"] == ["header", "Idempotency-Key"] and HAN.search(body["detail"][0]["msg"])


@pytest.mark.parametrize(("lang", "start", "comma"), [("zh-CN", "您的工单", "，"), ("zh-TW", "您的工單", "，"), ("en", "Your ticket", ";")])
async def test_the_requesters_notice_is_in_the_readers_language(
    client: httpx.AsyncClient, adapters: Adapters, as_user: Headers, ticket_body: dict[str, Any], lang: str, start: str,
    comma: str,
) -> None:
    req = as_user("req-office")
    ticket = await _ticket(client, req, _own(ticket_body))  # written in 繁體
    await _assign(adapters, ticket)
    shown = await client.get(f"/api/v1/tickets/{ticket}", headers={**req, "Accept-Language": lang})
    notice = shown.json()["assignee"]["notice"]
    assert notice.startswith(start) and comma in notice and ("," not in notice if lang != "en" else True), notice


async def test_a_badly_written_time_says_what_is_wrong_in_chinese(client: httpx.AsyncClient, as_user: Headers, ticket_body: dict[str, Any]) -> None:
    refused = await client.post("/api/v1/tickets", json={**ticket_body, "reported_at": "20x6-11-30T10:00:00+08:00"},
                                headers={**as_user("agent1"), "Accept-Language": "zh-CN"})
    assert refused.status_code == 422
    msgs = [d["msg"] for d in refused.json()["detail"] if d["loc"][-1] == "reported_at"]
    assert msgs and "年份中有无效字符" in msgs[0] and "invalid" not in msgs[0], msgs
