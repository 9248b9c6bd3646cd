"""The agency's oversight at dispatch's HTTP and bus edges (memory adapters, internal tokens): an engineer's act on
work awaiting the agency's authorization (or declined by it) is refused 409 and announced as
assignment.violation_detected; replacement requests are the agency's to ask (others 403) and the project manager's to
answer (409 once answered, 422 on a past date), listed with their due time and whether the answer is late."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from faststream.nats import NatsBroker, TestNatsBroker

from dispatch.agency.calendar import FixedDeadlines
from dispatch.entrypoints import bus
from dispatch.main import Adapters
from dispatch.settings import DispatchSettings
from opsdesk_shared.bus import EVENTS_STREAM, make_broker
from opsdesk_shared.contracts import Envelope, Requester, TicketCreatedV1, subjects
from opsdesk_shared.contracts.authorizations import TicketAuthorizationDeclinedV1, TicketAuthorizedV1

ENGINEER = {"X-Opsdesk-Role": "engineer", "X-Opsdesk-Engineer": "eng-onsite-1", "X-Opsdesk-User": "user-eng-onsite-1"}


def _as(role: str, user: str | None = None) -> dict[str, str]:
    return {"X-Opsdesk-Role": role, "X-Opsdesk-User": user or f"user-{role}"}


@pytest.fixture
def broker(adapters: Adapters, settings: DispatchSettings) -> NatsBroker:
    b = make_broker("nats://127.0.0.1:4222", name="dispatch-oversight-test")
    bus.register(b, roster=adapters.roster, assignments=adapters.assignments, outbox=adapters.outbox, settings=settings,
                 oversight=adapters.oversight)
    return b


async def _send(broker: NatsBroker, envelope: Envelope, subject: str, durable: str) -> None:
    async with TestNatsBroker(broker) as br:
        await br.publish(envelope.to_wire(), subject=subject, stream=EVENTS_STREAM,
                         reply_to=f"$JS.ACK.{EVENTS_STREAM}.{durable}.1.7.7.1767225600000000000.0")


def _created(ticket_id: str) -> Envelope:
    event = TicketCreatedV1(
        ticket_id=ticket_id, number="INC-2026-000016", title="服务器内存扩容", channel="web", service_code="RS-ONSITE",
        requester=Requester(name="王小明"), reported_at=datetime.now(UTC), skill="printer", awaiting_authorization=True,
    )
    return Envelope.wrap(event, producer="intake", correlation_id=f"corr-{ticket_id}", subject_id=ticket_id)


def _violations(adapters: Adapters) -> list[Envelope]:
    return [e for e in adapters.oversight.violation_outbox.published if e.type == subjects.ASSIGNMENT_VIOLATION_DETECTED]  # type: ignore[attr-defined]


async def test_an_engineer_accepting_work_awaiting_authorization_is_refused_and_announced(client, broker, adapters) -> None:  # type: ignore[no-untyped-def]
    ticket_id = str(uuid.uuid4())
    await _send(broker, _created(ticket_id), subjects.TICKET_CREATED, "dispatch-ticket-created")

    refused = await client.post(f"/api/v1/assignments/{ticket_id}/accept", headers={**ENGINEER, "Accept-Language": "en"})
    by_number = await client.post("/api/v1/assignments/INC-2026-000016/help", json={"question": "能先去看看吗"}, headers=ENGINEER)

    assert refused.status_code == 409 and refused.json()["allowed"] == [] and refused.json()["code"] == "unauthorized_work", refused.text
    assert "security incident" in refused.json()["detail"]
    assert by_number.status_code == 409, by_number.text
    first, second = _violations(adapters)
    assert first.data["actor"] == "user-eng-onsite-1" and first.data["act"] == "assignment.accept"
    assert first.data["ticket_id"] == ticket_id and first.data["ticket_status"] == "awaiting_authorization"
    assert second.data["act"] == "assignment.help" and first.event_id != second.event_id
    # The desk's own steps in dispatch are not engineer acts: 404 as before, nothing announced.
    assert (await client.post(f"/api/v1/assignments/{ticket_id}/confirm", json={}, headers=_as("agent"))).status_code == 404
    assert len(_violations(adapters)) == 2


async def test_once_authorized_the_ticket_is_worked_and_a_declined_one_is_refused_again(client, broker, adapters) -> None:  # type: ignore[no-untyped-def]
    ticket_id, declined_id = str(uuid.uuid4()), str(uuid.uuid4())
    await _send(broker, _created(ticket_id), subjects.TICKET_CREATED, "dispatch-ticket-created")
    now = datetime.now(UTC)
    authorized = TicketAuthorizedV1(
        ticket_id=ticket_id, number="INC-2026-000016", title="服务器内存扩容", channel="web", service_code="RS-ONSITE",
        requester=Requester(name="王小明"), reported_at=now, skill="printer", authorized_at=now, by="zhou", basis="decision",
        dispatch=True,
    )
    await _send(broker, Envelope.wrap(authorized, producer="intake", correlation_id="c", subject_id=ticket_id),
                subjects.TICKET_AUTHORIZED, "dispatch-ticket-authorized")
    declined = TicketAuthorizationDeclinedV1(ticket_id=declined_id, number="INC-2026-000017", service_code="RS-ONSITE",
                                             note="不需要", declined_at=now, by="zhou")
    await _send(broker, Envelope.wrap(declined, producer="intake", correlation_id="c", subject_id=declined_id),
                subjects.TICKET_AUTHORIZATION_DECLINED, "dispatch-ticket-authorization-declined")

    held = (await adapters.assignments.get(ticket_id)).engineer_id
    engineer = {"X-Opsdesk-Role": "engineer", "X-Opsdesk-Engineer": held, "X-Opsdesk-User": f"user-{held}"}
    assert (await client.post(f"/api/v1/assignments/{ticket_id}/accept", headers=engineer)).status_code == 200
    assert (await client.post(f"/api/v1/assignments/{declined_id}/accept", headers=engineer)).status_code == 409
    [violation] = _violations(adapters)
    assert violation.data["ticket_id"] == declined_id and violation.data["ticket_status"] == "cancelled"


@pytest.fixture
def due(adapters: Adapters) -> FixedDeadlines:
    deadlines = FixedDeadlines(datetime.now(UTC) + timedelta(days=7))
    adapters.oversight.deadlines = deadlines
    return deadlines


@pytest.mark.parametrize("role", ["agent", "manager", "admin", "auditor", "engineer"])
async def test_only_the_agency_asks_for_a_replacement(client, due, role: str) -> None:  # type: ignore[no-untyped-def]
    refused = await client.post("/api/v1/engineers/eng-onsite-1/replacement-requests", json={"reason": "x"}, headers=_as(role))
    assert refused.status_code == 403, refused.text


async def test_a_replacement_request_answered_with_a_plan(client, adapters, due) -> None:  # type: ignore[no-untyped-def]
    path = "/api/v1/engineers/eng-onsite-1/replacement-requests"
    made = await client.post(path, json={"reason": "多次未按时到场"}, headers={**_as("agency", "zhou"), "Idempotency-Key": "k1"})
    again = await client.post(path, json={"reason": "多次未按时到场"}, headers={**_as("agency", "zhou"), "Idempotency-Key": "k1"})
    assert made.status_code == 201 and again.status_code == 200 and again.json()["id"] == made.json()["id"], made.text
    request = made.json()
    assert request["state"] == "requested" and request["requested_by"] == "zhou" and request["late"] is False
    assert due.asked and due.asked[0][1] == 5
    assert (await client.post(f"{path}/x", json={}, headers=_as("agency"))).status_code in (404, 405)
    assert (await client.post("/api/v1/engineers/nobody/replacement-requests", json={"reason": "x"}, headers=_as("agency"))).status_code == 404

    answer = f"{path}/{request['id']}/answer"
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    assert (await client.post(answer, json={"plan": "x", "replace_by": tomorrow}, headers=_as("agency"))).status_code == 403
    past = await client.post(answer, json={"plan": "x", "replace_by": "2020-01-01"}, headers=_as("manager"))
    assert past.status_code == 422 and past.json()["detail"][0]["loc"] == ["body", "replace_by"], past.text
    done = await client.post(answer, json={"plan": "由李工接替", "replace_by": tomorrow}, headers=_as("manager", "mgr-li"))
    assert done.status_code == 200 and done.json()["state"] == "answered" and done.json()["answered_by"] == "mgr-li", done.text
    twice = await client.post(answer, json={"plan": "y", "replace_by": tomorrow}, headers=_as("manager"))
    assert twice.status_code == 409 and twice.json()["allowed"] == []

    listed = await client.get("/api/v1/replacement-requests", headers=_as("auditor"))
    [shown] = listed.json()["items"]
    assert shown["plan"] == "由李工接替" and shown["late"] is False and [h["step"] for h in shown["history"]] == ["requested", "answered"]
    assert (await client.get(path, headers=_as("engineer"))).status_code == 403
    published = [e.type for e in adapters.oversight.replacement_outbox.published]
    assert published == [subjects.REPLACEMENT_REQUESTED, subjects.REPLACEMENT_ANSWERED]


async def test_an_answer_past_its_due_time_is_late_and_a_calendar_outage_is_503(client, adapters, due) -> None:  # type: ignore[no-untyped-def]
    due.due_at = datetime.now(UTC) - timedelta(minutes=1)
    made = (await client.post("/api/v1/engineers/eng-onsite-1/replacement-requests", json={"reason": "r"}, headers=_as("agency"))).json()
    assert made["late"] is True
    due.down = True
    down = await client.post("/api/v1/engineers/eng-onsite-1/replacement-requests", json={"reason": "r"}, headers=_as("agency"))
    assert down.status_code == 503, down.text
    assert len(await adapters.oversight.replacements.list()) == 1
