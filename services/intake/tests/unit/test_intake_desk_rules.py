"""Issue 12 at the desk: who holds a ticket, what a requester may report, who closes and rates, whose mail threads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from intake import lifecycle, service
from intake.access import Forbidden, can_see, holds, may_thread
from intake.adapters.memory import MemoryOutbox, MemoryTicketStore
from intake.catalog import SEED_BY_CODE
from intake.domain import Actor, Assignee, InvalidField, NewTicket, Ticket, open_ticket
from intake.mail import Mail
from intake.service import Desk
from opsdesk_shared.contracts import Requester, TicketAssignedV1

NOW = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)
AGENT = Actor(subject="agent1", name="周敏", role="agent")
OWNER = Actor(subject="req1", name="王小明", role="requester", department="辦公室")
COLLEAGUE = Actor(subject="req2", name="李四", role="requester", department="辦公室")
HOLDER = Actor(subject="chen.eng", name="陳工", role="engineer", engineer_id="E-7")
OTHER_ENGINEER = Actor(subject="li.eng", name="李工", role="engineer", engineer_id="E-8")
# A user whose username equals the assigned roster id, but whose account is not linked to it.
NAME_TWIN = Actor(subject="E-7", name="E-7", role="engineer")


def ticket_in(status: str, **extra: Any) -> Ticket:
    cmd = NewTicket(
        title="打印機卡紙", description="三樓", requester=Requester(name="王小明", department="辦公室", email="Wang@Agency.example"),
        channel="web", service_code="RS-REPAIR", requester_id="req1",
    )
    ticket, _ = open_ticket(cmd, service=SEED_BY_CODE["RS-REPAIR"], ticket_id="t-1", number="INC-2026-000001", now=NOW - timedelta(hours=2))
    assignee = Assignee(assignment_id="a-1", engineer_id="E-7", engineer_name="陳工", reason="skill", assigned_at=NOW - timedelta(hours=1))
    fields: dict[str, Any] = {"status": status, "assignee": None if status == "new" else assignee}
    if status in ("resolved", "closed"):
        fields["resolved_at"] = NOW - timedelta(minutes=30)
    fields.update(extra)
    return ticket.model_copy(update=fields)


def report(**overrides: Any) -> NewTicket:
    fields: dict[str, Any] = {
        "title": "打印機卡紙", "description": "三樓", "channel": "web", "service_code": "RS-REPAIR",
        "requester": Requester(name="王小明", department="办公室", phone="020-1234", email="me@agency.example"),
    }
    fields.update(overrides)
    return NewTicket(**fields)


def opened(cmd: NewTicket, actor: Actor) -> Ticket:
    ticket, _ = open_ticket(cmd, service=SEED_BY_CODE["RS-REPAIR"], ticket_id="t-9", number="INC-2026-000009", now=NOW, actor=actor)
    return ticket


# --- holding a ticket is the roster link, not the username ------------------------------------------------------------

def test_engineer_holds_a_ticket_by_their_roster_link() -> None:
    ticket = ticket_in("assigned")
    assert holds(HOLDER, ticket) and can_see(HOLDER, ticket)
    assert not holds(OTHER_ENGINEER, ticket) and not can_see(OTHER_ENGINEER, ticket)


def test_a_username_equal_to_the_engineer_id_holds_nothing() -> None:
    ticket = ticket_in("assigned")
    assert not holds(NAME_TWIN, ticket)
    with pytest.raises(Forbidden, match="not assigned to you"):
        lifecycle.change_status(ticket, target="in_progress", actor=NAME_TWIN, now=NOW)


# --- requesters report, the desk decides -----------------------------------------------------------------------------

def test_requesters_identity_fills_the_requester_fields() -> None:
    ticket = opened(report(), OWNER)
    assert (ticket.requester_id, ticket.requester.name, ticket.requester.department) == ("req1", "王小明", "辦公室")
    assert (ticket.requester.phone, ticket.requester.email) == ("020-1234", "me@agency.example")  # contact as given


@pytest.mark.parametrize(("given", "named"), [
    (Requester(name="冒名者", department="辦公室"), "name"), (Requester(name="王小明", department="財務科"), "department"),
])
def test_a_requester_naming_someone_else_is_refused_naming_the_field(given: Requester, named: str) -> None:
    with pytest.raises(InvalidField) as refused:
        opened(report(requester=given), OWNER)
    assert refused.value.loc == ("body", "requester", named)


def test_requester_cannot_file_under_another_requesters_id() -> None:
    with pytest.raises(InvalidField) as refused:
        opened(report(requester_id="req2"), OWNER)
    assert refused.value.loc == ("body", "requester_id")
    assert opened(report(requester_id="req1"), OWNER).requester_id == "req1"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("impact", "high"), ("urgency", "high"), ("major_incident", True), ("reported_at", NOW - timedelta(days=6)),
        ("priority", "P1"), ("priority_reason", "urgent"),
    ],
)
def test_requester_setting_a_triage_field_is_refused_naming_it(field: str, value: Any) -> None:
    extra = {"priority": "P1", "priority_reason": "x"} if field.startswith("priority") else {field: value}
    with pytest.raises(InvalidField) as refused:
        opened(report(**extra), OWNER)
    assert refused.value.loc[0] == "body" and refused.value.loc[1] in extra


def test_desk_keeps_its_triage_powers_and_files_for_anyone() -> None:
    cmd = report(impact="high", urgency="high", major_incident=True, reported_at=NOW - timedelta(hours=3), requester_id="req7")
    ticket = opened(cmd, AGENT)
    assert (ticket.priority, ticket.major_incident, ticket.requester_id, ticket.requester.name) == ("P1", True, "req7", "王小明")
    assert ticket.reported_at == NOW - timedelta(hours=3)


@pytest.mark.parametrize(
    ("fields", "priority", "named"),
    [({"impact": "high"}, None, "impact"), ({"major_incident": True}, None, "major_incident"), ({}, "P1", "priority")],
)
def test_requester_patch_of_a_triage_field_is_refused_naming_it(fields: dict[str, Any], priority: Any, named: str) -> None:
    with pytest.raises(InvalidField) as refused:
        lifecycle.update_fields(
            ticket_in("new"), actor=OWNER, now=NOW, fields=fields, priority=priority, priority_reason="x" if priority else None
        )
    assert refused.value.loc == ("body", named)


def test_requester_patch_of_other_fields_is_forbidden_and_the_desk_edits() -> None:
    with pytest.raises(Forbidden):
        lifecycle.update_fields(ticket_in("new"), actor=OWNER, now=NOW, fields={"title": "x"})
    updated, _ = lifecycle.update_fields(ticket_in("new"), actor=AGENT, now=NOW, fields={"impact": "high", "urgency": "high"})
    assert updated.priority == "P1"


# --- closing and satisfaction ----------------------------------------------------------------------------------------

def test_own_requester_closes_and_rates() -> None:
    closed, _ = lifecycle.close(ticket_in("resolved"), actor=OWNER, now=NOW, satisfaction=5, comment="快")
    assert (closed.status, closed.satisfaction, closed.satisfaction_comment) == ("closed", 5, "快")


@pytest.mark.parametrize("satisfaction", [None, 4])
def test_department_colleague_sees_but_cannot_close_or_rate(satisfaction: int | None) -> None:
    ticket = ticket_in("resolved")
    assert can_see(COLLEAGUE, ticket)
    with pytest.raises(Forbidden, match="own requester"):
        lifecycle.close(ticket, actor=COLLEAGUE, now=NOW, satisfaction=satisfaction)


@pytest.mark.parametrize("satisfaction", [None, 5])
def test_engineer_cannot_close_or_rate_a_ticket_they_hold(satisfaction: int | None) -> None:
    with pytest.raises(Forbidden):
        lifecycle.close(ticket_in("resolved"), actor=HOLDER, now=NOW, satisfaction=satisfaction)


def test_desk_closes_without_a_score_of_its_own() -> None:
    closed, _ = lifecycle.close(ticket_in("resolved"), actor=AGENT, now=NOW)
    assert (closed.status, closed.satisfaction) == ("closed", None)
    for rating in ({"satisfaction": 5}, {"comment": "滿意"}):
        with pytest.raises(Forbidden, match="requester's own"):
            lifecycle.close(ticket_in("resolved"), actor=AGENT, now=NOW, **rating)  # type: ignore[arg-type]


# --- mail threading --------------------------------------------------------------------------------------------------

def test_reply_threads_only_from_the_requester_or_staff() -> None:
    ticket = ticket_in("assigned")
    assert may_thread(ticket, sender="wang@agency.EXAMPLE", requester_account_email=None, staff=[])
    assert may_thread(ticket, sender="wang.home@mail.example", requester_account_email="Wang.Home@mail.example", staff=[])
    assert may_thread(ticket, sender="desk@agency.example", requester_account_email=None, staff=[AGENT])
    assert may_thread(ticket, sender="chen@agency.example", requester_account_email=None, staff=[HOLDER])
    assert not may_thread(ticket, sender="li@agency.example", requester_account_email=None, staff=[OTHER_ENGINEER])
    assert not may_thread(ticket, sender="attacker@evil.example", requester_account_email=None, staff=[])
    assert not may_thread(ticket_in("assigned", requester=Requester(name="x")), sender="", requester_account_email=None, staff=[])


class FakeSenders:
    """MailSenders answering from a fixed table, as identity's users would."""

    def __init__(self, staff: dict[str, list[Actor]] | None = None, emails: dict[str, str] | None = None) -> None:
        self._staff = staff or {}
        self._emails = emails or {}

    async def staff(self, address: str) -> list[Actor]:
        return self._staff.get(address.casefold(), [])

    async def email_of(self, username: str) -> str | None:
        return self._emails.get(username)


def mail(sender: str, subject: str, message_id: str, reply: str = "還是卡紙") -> Mail:
    return Mail(message_id=message_id, from_name=sender.split("@")[0], from_address=sender, subject=subject, body=reply,
                ticket_number=subject.split("[")[1].split("]")[0] if "[" in subject else None, reply=reply)


async def _desk_with_ticket(actor: Actor = OWNER) -> tuple[Desk, Ticket]:
    desk = Desk.on(MemoryTicketStore(), MemoryOutbox())
    ticket, _ = await service.open_ticket(
        NewTicket(title="打印機卡紙", description="三樓", channel="web", service_code="RS-REPAIR",
                  requester=Requester(name="王小明", email="wang@agency.example")),
        desk=desk, now=NOW, correlation_id="c", actor=actor,
    )
    return desk, ticket


async def _receive(desk: Desk, m: Mail, senders: FakeSenders | None = None) -> tuple[Ticket, str]:
    gateway = Actor(subject="key:mail-gateway", name="mail", role="agent", source="email")
    return await service.receive_mail(
        m, desk=desk, senders=senders or FakeSenders(), actor=gateway, now=NOW, correlation_id="c", service_code="RS-INTAKE"
    )


async def test_requesters_reply_threads_onto_their_ticket() -> None:
    desk, ticket = await _desk_with_ticket()
    stored, outcome = await _receive(desk, mail("WANG@agency.example", f"Re: [{ticket.number}] 卡紙", "<r1@x>"))
    assert (outcome, stored.id) == ("threaded", ticket.id)
    assert [c.internal for c in stored.comments] == [False]


async def test_reply_from_the_requesters_account_address_threads() -> None:
    desk, ticket = await _desk_with_ticket()
    senders = FakeSenders(emails={"req1": "wang.home@mail.example"})
    stored, outcome = await _receive(desk, mail("wang.home@mail.example", f"Re: [{ticket.number}]", "<r2@x>"), senders)
    assert (outcome, stored.id) == ("threaded", ticket.id)


async def test_strangers_reply_opens_a_new_ticket_that_notes_the_quoted_number() -> None:
    desk, ticket = await _desk_with_ticket()
    stored, outcome = await _receive(desk, mail("attacker@evil.example", f"Re: [{ticket.number}] 請付款", "<evil@x>"))
    assert outcome == "created" and stored.id != ticket.id
    assert stored.requester.email == "attacker@evil.example"
    [note] = stored.comments
    assert note.internal and ticket.number in note.body and "attacker@evil.example" in note.body
    assert any(entry.action == "work_note" for entry in stored.audit)
    untouched = await desk.store.get(ticket.id)
    assert untouched is not None and untouched.comments == () and untouched.version == ticket.version
    again, outcome = await _receive(desk, mail("attacker@evil.example", f"Re: [{ticket.number}] 請付款", "<evil@x>"))
    assert (outcome, again.id, len(again.comments)) == ("duplicate", stored.id, 1)


async def test_staff_reply_threads_and_an_engineer_only_on_a_ticket_they_hold() -> None:
    desk, ticket = await _desk_with_ticket(AGENT)
    await service.record_assignment(
        TicketAssignedV1(ticket_id=ticket.id, assignment_id="a-1", engineer_id="E-7", engineer_name="陳工", reason="t", assigned_at=NOW),
        desk=desk,
    )
    senders = FakeSenders(staff={"desk@agency.example": [AGENT], "chen@agency.example": [HOLDER], "li@agency.example": [OTHER_ENGINEER]})
    for sender, message_id in (("desk@agency.example", "<s1@x>"), ("chen@agency.example", "<s2@x>")):
        stored, outcome = await _receive(desk, mail(sender, f"Re: [{ticket.number}]", message_id), senders)
        assert (outcome, stored.id) == ("threaded", ticket.id), sender
    other, outcome = await _receive(desk, mail("li@agency.example", f"Re: [{ticket.number}]", "<s3@x>"), senders)
    assert outcome == "created" and other.id != ticket.id
