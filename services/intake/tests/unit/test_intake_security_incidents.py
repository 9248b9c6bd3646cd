"""The security incident's rules, pure: recorded from a violation with a derived id, acknowledged only by the agency
and only when open, closed only by the project manager and only once acknowledged; which tickets are unauthorized."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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


def _attempt(at: datetime, *, actor: str = "agent1", ticket: str = "t-1", refused: bool = True, **extra: object) -> ViolationDetected:
    fields: dict[str, object] = {
        "rule": "unauthorized_ticket_act", "actor": actor, "actor_role": "agent", "act": "ticket.status:in_progress",
        "what": "服务台把工单改为「处理中」被拒绝", "occurred_at": at, "detected_by": "intake", "ticket_id": ticket,
        "refused": refused, **extra,
    }
    return ViolationDetected.model_validate(fields)


def test_severity_by_kind_a_refused_attempt_is_low_an_act_that_happened_is_high() -> None:
    """Issue 16's policy: a refused click is an attempt (low); a CI changed or a device sent out happened (high)."""
    attempt, raised = domain.record(_attempt(NOW), violation_id="v-1", now=NOW)
    done, _ = domain.record(_attempt(NOW, refused=False, rule="unauthorized_ci_change"), violation_id="v-2", now=NOW)
    major, _ = domain.record(_attempt(NOW, refused=False, severity="major"), violation_id="v-3", now=NOW)
    assert (attempt.severity, raised.severity, done.severity, major.severity) == ("low", "low", "high", "major")
    assert (attempt.attempts, attempt.occurrences, attempt.violation_ids) == (1, (NOW,), ("v-1",))


def test_repeated_attempts_fold_into_the_open_incident_within_the_window_only() -> None:
    first, _ = domain.record(_attempt(NOW), violation_id="v-1", now=NOW)
    later = NOW + domain.FOLD_WINDOW
    folded = domain.fold_into(first, _attempt(later), violation_id="v-2")
    assert folded is not None and (folded.attempts, folded.occurrences, folded.version) == (2, (NOW, later), 2)
    assert folded.violation_ids == ("v-1", "v-2") and folded.last_occurred_at == later
    # The window runs from the last attempt: another hour on still folds; past it, a new incident.
    assert domain.fold_into(folded, _attempt(later + domain.FOLD_WINDOW), violation_id="v-3") is not None
    assert domain.fold_into(folded, _attempt(later + domain.FOLD_WINDOW + timedelta(seconds=1)), violation_id="v-3") is None
    # Another actor, another ticket, an act that happened, an incident the agency acknowledged: no fold.
    assert domain.fold_into(first, _attempt(NOW, actor="agent2"), violation_id="v-4") is None
    assert domain.fold_into(first, _attempt(NOW, ticket="t-2"), violation_id="v-4") is None
    assert domain.fold_into(first, _attempt(NOW, refused=False), violation_id="v-4") is None
    acked = domain.acknowledge(first, role="agency", by="zhou", note=None, now=NOW)
    assert domain.fold_into(acked, _attempt(NOW + timedelta(minutes=1)), violation_id="v-4") is None


async def test_three_refused_clicks_are_one_incident_announced_once() -> None:
    outbox = MemoryOutbox()
    incidents = Incidents(store=MemoryIncidentStore(outbox), outbox=outbox)
    made = [
        await service.record_violation(_attempt(NOW + timedelta(minutes=n)), violation_id=f"v-{n}", incidents=incidents,
                                       now=NOW + timedelta(minutes=n), correlation_id="c")
        for n in range(3)
    ]
    assert [created for _, created in made] == [True, False, False]
    [incident] = await service.listed(incidents=incidents)
    assert (incident.attempts, incident.severity, len(incident.occurrences)) == (3, "low", 3)
    assert [e.type for e in outbox.published] == ["security.incident_raised"]
    # A redelivered second click adds nothing.
    again, created = await service.record_violation(_attempt(NOW + timedelta(minutes=1)), violation_id="v-1",
                                                    incidents=incidents, now=NOW, correlation_id="c")
    assert not created and again.attempts == 3
