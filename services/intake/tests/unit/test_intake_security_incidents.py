"""The security incident's rules, pure: recorded from a violation with a derived id, acknowledged only by the agency
and only when open, closed only by the project manager and only once acknowledged; which tickets are unauthorized."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from intake.oversight import domain
from intake.oversight.domain import NotYours, StepRefused
from opsdesk_shared.contracts.security import ViolationDetected

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
