"""Who may do what to an assignment: the pure rules in domain, table by table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dispatch import domain
from dispatch.domain import Actor, Assignment, Escalation

NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
HELD = Assignment(
    id="a-1", ticket_id="t-1", ticket_number="INC-2026-000001", engineer_id="eng-onsite-1", engineer_name="陳志強",
    reason="r", score=1.0, assigned_at=NOW,
)
HOLDER = Actor(subject="chen.zq", role="engineer", engineer_id="eng-onsite-1")
COLLEAGUE = Actor(subject="li.jx", role="engineer", engineer_id="eng-onsite-2")
UNLINKED = Actor(subject="new.hire", role="engineer")
AGENT = Actor(subject="desk.zhou", role="agent")
MANAGER = Actor(subject="boss", role="manager")
ADMIN = Actor(subject="root", role="admin")
AUDITOR = Actor(subject="audit", role="auditor")
REQUESTER = Actor(subject="wang.xm", role="requester")
SERVICE = Actor(subject="service:intake", role="service")

# Expected rights, written out rather than derived from STEP_PARTIES, so a change to the table shows up here.
EXPECTED: dict[str, set[str]] = {
    "accept": {"chen.zq"},
    "confirm": {"desk.zhou", "boss", "root"},
    "delay": {"chen.zq", "desk.zhou", "boss", "root"},
    "reassign": {"desk.zhou", "boss", "root"},
    "escalate": {"chen.zq", "desk.zhou", "boss", "root"},
    "help": {"chen.zq"},
    "complete": {"chen.zq"},
}
EVERYONE = (HOLDER, COLLEAGUE, UNLINKED, AGENT, MANAGER, ADMIN, AUDITOR, REQUESTER, SERVICE)


@pytest.mark.parametrize("step", sorted(EXPECTED))
def test_each_step_is_open_only_to_its_parties(step: str) -> None:
    allowed = {actor.subject for actor in EVERYONE if domain.may_take(actor, step, HELD)}
    assert allowed == EXPECTED[step]
    assert set(domain.STEP_PARTIES) == set(EXPECTED)


def test_a_desk_member_on_the_roster_holds_what_the_desk_gave_them_but_an_auditor_never_acts() -> None:
    given = HELD.model_copy(update={"engineer_id": "eng-pm-1"})
    pm = Actor(subject="liu.ml", role="manager", engineer_id="eng-pm-1")
    assert domain.may_take(pm, "complete", given) and not domain.may_take(pm, "complete", HELD)
    assert not domain.may_take(Actor(subject="audit", role="auditor", engineer_id="eng-pm-1"), "complete", given)


def test_an_engineer_acts_only_on_what_they_hold_and_is_told_so() -> None:
    with pytest.raises(domain.Forbidden, match="does not hold"):
        domain.complete(HELD, work_done="done", actor=COLLEAGUE, now=NOW)
    with pytest.raises(domain.Forbidden):
        domain.accept(HELD, actor=UNLINKED, now=NOW)
    waiting = HELD.model_copy(update={"engineer_id": "", "status": "unassigned"})
    assert not domain.holds(UNLINKED, waiting)  # an unlinked engineer does not "hold" a ticket nobody holds


def test_the_refusal_comes_before_the_state_so_it_reveals_nothing() -> None:
    done = HELD.model_copy(update={"status": "reviewed"})
    with pytest.raises(domain.Forbidden):
        domain.accept(done, actor=COLLEAGUE, now=NOW)
    with pytest.raises(domain.IllegalStep):
        domain.accept(done, actor=HOLDER, now=NOW)


def test_the_actor_is_recorded_as_who_took_the_step() -> None:
    accepted, event = domain.accept(HELD, actor=HOLDER, now=NOW)
    assert accepted.history[-1].by == "chen.zq" and event.engineer_id == "eng-onsite-1"
    moved, reassigned = domain.reassign(accepted, to=domain.DEMO_ROSTER[1], reason="技能", actor=AGENT, now=NOW)
    assert moved.history[-1].by == "desk.zhou" and reassigned.model_dump()["by"] == "desk.zhou"


@pytest.mark.parametrize(
    ("kind", "may"),
    [
        # Raised to the project manager only: managers and the engineer linked to the roster's PM.
        ("other", {"boss", "liu.ml"}),
        # Technical: the senior engineer too.
        ("technical", {"boss", "liu.ml", "zhang.gh"}),
    ],
)
def test_an_escalation_is_acknowledged_only_by_those_it_was_raised_to(kind: str, may: set[str]) -> None:
    a, _ = domain.escalate(HELD, kind=kind, description="核心交換機異常", actor=HOLDER, roster=list(domain.DEMO_ROSTER), now=NOW)  # type: ignore[arg-type]
    escalation: Escalation = a.escalations[-1]
    pm = Actor(subject="liu.ml", role="engineer", engineer_id="eng-pm-1")
    senior = Actor(subject="zhang.gh", role="engineer", engineer_id="eng-senior-1")
    # An auditor or requester linked to a named engineer is still not one who acts.
    odd = Actor(subject="odd", role="auditor", engineer_id="eng-pm-1")
    candidates = (*EVERYONE, pm, senior, odd)
    assert {c.subject for c in candidates if domain.may_acknowledge(c, escalation)} == may
    with pytest.raises(domain.Forbidden):
        domain.acknowledge(a, escalation_id=escalation.id, actor=HOLDER, now=NOW)  # raising it is not receiving it
    acked, event = domain.acknowledge(a, escalation_id=escalation.id, actor=MANAGER, now=NOW)
    assert acked.escalations[-1].acknowledged_by == "boss" and event.by == "boss"


def test_reads_engineers_see_what_they_hold_staff_and_services_everything_requesters_nothing() -> None:
    assert {a.subject for a in EVERYONE if domain.may_read(a, HELD)} == {"chen.zq", "desk.zhou", "boss", "root", "audit", "service:intake"}
    assert domain.assignment_view(REQUESTER) == "none" and domain.assignment_view(COLLEAGUE) == "held"
    assert {a.subject for a in EVERYONE if domain.may_read_roster(a)} == {a.subject for a in EVERYONE} - {"wang.xm"}
    assert {a.subject for a in EVERYONE if domain.may_edit_roster(a)} == {"desk.zhou", "boss", "root"}


def test_status_engineers_set_their_own_the_desk_anyones() -> None:
    assert domain.may_set_status(HOLDER, "eng-onsite-1")
    assert not domain.may_set_status(HOLDER, "eng-onsite-2")
    assert not domain.may_set_status(UNLINKED, "eng-onsite-1")
    assert all(domain.may_set_status(a, "eng-onsite-2") for a in (AGENT, MANAGER, ADMIN))
    assert not any(domain.may_set_status(a, "eng-onsite-2") for a in (AUDITOR, REQUESTER, SERVICE))
