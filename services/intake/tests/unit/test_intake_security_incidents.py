"""The security incident's rules, pure: recorded from a violation with a derived id, acknowledged only by the agency
and only when open, closed only by the project manager and only once acknowledged; which tickets are unauthorized."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from intake.domain import Actor
from intake.oversight import domain, service
from intake.oversight.domain import NotYours, StepRefused
from intake.oversight.service import Incidents
from intake.oversight.store import MemoryIncidentStore
from opsdesk_shared.contracts.security import ViolationDetected
from opsdesk_shared.outbox import MemoryOutbox

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def _incident() -> domain.Incident:
    violation = ViolationDetected(rule="unauthorized_ticket_act", actor="eng-1", actor_role="engineer", act="assignment.accept",
                                  what="接受未经授权的派工", occurred_at=NOW, detected_by="dispatch", ticket_id="t-1")
    incident, raised = domain.record(violation, violation_id="v-1", now=NOW)
    assert raised.incident_id == incident.id == domain.incident_id_for("v-1") and raised.kind == "unauthorized_ticket_act"
    return incident


def test_the_same_violation_always_makes_the_same_incident_id() -> None:
    assert domain.incident_id_for("v-1") == domain.incident_id_for("v-1") != domain.incident_id_for("v-2")


@pytest.mark.parametrize("role", ["manager", "admin", "auditor", "agent", "engineer"])
def test_only_the_agency_acknowledges(role: str) -> None:
    with pytest.raises(NotYours):
        domain.acknowledge(_incident(), role=role, by="x", note=None, now=NOW)


@pytest.mark.parametrize("role", ["agency", "admin", "auditor", "agent"])
def test_only_the_project_manager_closes(role: str) -> None:
    acked = domain.acknowledge(_incident(), role="agency", by="zhou", note=None, now=NOW)
    with pytest.raises(NotYours):
        domain.close(acked, role=role, by="x", note="n", now=NOW)


def test_the_steps_go_open_acknowledged_closed_and_say_what_is_allowed() -> None:
    incident = _incident()
    with pytest.raises(StepRefused) as early:
        domain.close(incident, role="manager", by="mgr", note="n", now=NOW)
    assert early.value.allowed == ("acknowledge",)
    acked = domain.acknowledge(incident, role="agency", by="zhou", note="已知悉", now=NOW)
    closed = domain.close(acked, role="manager", by="mgr", note="已处理", now=NOW)
    assert (acked.state, closed.state, closed.version) == ("acknowledged", "closed", 3)
    assert domain.allowed_steps(closed) == ()
    with pytest.raises(StepRefused):
        domain.acknowledge(closed, role="agency", by="zhou", note=None, now=NOW)


def test_unauthorized_tickets_are_the_waiting_and_the_declined() -> None:
    assert domain.unauthorized("awaiting_authorization", "awaiting")
    assert domain.unauthorized("cancelled", "declined")
    assert not domain.unauthorized("new", "approved") and not domain.unauthorized("cancelled", None)


class _Identity:
    """People as identity knows them (ports.People): one engineer with an account."""

    async def actor_of(self, subject: str) -> Actor | None:
        return Actor(subject="eng-1", name="李工", role="engineer", source="bus") if subject == "eng-1" else None

    async def engineer(self, engineer_id: str) -> Actor | None:
        return None


async def test_an_incident_another_service_detected_names_the_actor_as_identity_knows_them() -> None:
    """Dispatch and assets know user ids, not names: intake, which knows people, fills the name in the record."""
    outbox = MemoryOutbox()
    incidents = Incidents(store=MemoryIncidentStore(outbox), outbox=outbox, people=_Identity())
    violation = ViolationDetected(rule="unauthorized_ticket_act", actor="eng-1", actor_role="engineer", act="assignment.accept",
                                  what="接受未经授权的派工", occurred_at=NOW, detected_by="dispatch", ticket_id="t-1")
    incident, created = await service.record_violation(violation, violation_id="v-9", incidents=incidents, now=NOW, correlation_id="c")
    assert created and incident.actor_name == "李工"
    assert (await service.get(incident.id, incidents=incidents)).actor_name == "李工"
    stranger = violation.model_copy(update={"actor": "api-key-7"})
    unknown, _ = await service.record_violation(stranger, violation_id="v-10", incidents=incidents, now=NOW, correlation_id="c")
    assert unknown.actor_name is None  # nobody identity knows: no name invented


def test_a_refused_status_change_is_told_as_the_step_in_words() -> None:
    """The incident's text names the state the desk tried to set, not the act's code (the agency reads it)."""
    from intake.oversight.domain import desk_act_what

    said = desk_act_what(act="ticket.status:in_progress", number="INC-2026-000002", status="awaiting_authorization")
    assert said == "服务台对未经授权的工单 INC-2026-000002（待信息中心授权）把工单改为「处理中」被拒绝"
    assert "执行「cmdb.change」" in desk_act_what(act="cmdb.change", number="N", status="cancelled")
