"""Which counters each event moves, and how counter keys are spelled and read back."""

from __future__ import annotations

import pytest

from opsdesk_shared.contracts import EventData
from reporting import domain
from reporting.domain import Tally


def test_ticket_created_counts_by_channel_and_service(ticket_created: object) -> None:
    envelope, data = ticket_created(channel="email", service_code="RS-PRINT")  # type: ignore[operator]

    assert domain.counter_keys(envelope, data) == ['["tickets_created",["email","RS-PRINT"]]']


def test_ticket_assigned_counts_by_engineer(ticket_assigned: object) -> None:
    envelope, data = ticket_assigned(engineer_id="eng-7")  # type: ignore[operator]

    assert domain.counter_keys(envelope, data) == ['["tickets_assigned",["eng-7"]]']


def test_sla_breached_counts_by_timer(sla_breached: object) -> None:
    envelope, data = sla_breached(timer="response")  # type: ignore[operator]

    assert domain.counter_keys(envelope, data) == ['["sla_breaches",["response"]]']


def test_repair_updated_counts_by_status(repair_updated: object) -> None:
    envelope, data = repair_updated(status="returned")  # type: ignore[operator]

    assert domain.counter_keys(envelope, data) == ['["repair_updates",["returned"]]']


def test_an_event_reporting_does_not_know_moves_no_counter(ticket_created: object) -> None:
    class SomethingNew(EventData):
        event_type = "ticket.reopened"
        event_version = 1

    envelope, _ = ticket_created()  # type: ignore[operator]

    assert domain.counter_keys(envelope, SomethingNew()) == []


def test_counter_key_orders_labels_as_declared_not_as_passed() -> None:
    assert domain.counter_key("tickets_created", service_code="S", channel="web") == '["tickets_created",["web","S"]]'


def test_counter_key_needs_every_declared_label() -> None:
    with pytest.raises(KeyError):
        domain.counter_key("tickets_created", channel="web")


@pytest.mark.parametrize(
    ("name", "labels"),
    [
        ("tickets_created", {"channel": "walk_in", "service_code": "RS-REPAIR"}),
        ("tickets_assigned", {"engineer_id": "eng-1"}),
        ("sla_breaches", {"timer": "response"}),
        ("repair_updates", {"status": "sent_to_vendor"}),
        ("tickets_created", {"channel": "web", "service_code": "a=b"}),
        ("tickets_created", {"channel": "web", "service_code": "網絡-故障"}),
        ("tickets_assigned", {"engineer_id": ""}),
    ],
)
def test_counter_key_and_parse_key_roundtrip(name: str, labels: dict[str, str]) -> None:
    assert domain.parse_key(domain.counter_key(name, **labels)) == (name, labels)


def test_counter_key_roundtrips_a_label_containing_the_separator() -> None:
    """Contracts do not forbid '|' in a service code or engineer id; such an event must not corrupt its counter."""
    labels = {"channel": "api", "service_code": "RS|PRINT"}

    assert domain.parse_key(domain.counter_key("tickets_created", **labels)) == ("tickets_created", labels)


def test_tally_summary_lists_every_counter_with_labels_and_counts() -> None:
    tally = Tally()
    web = domain.counter_key("tickets_created", channel="web", service_code="S1")
    hotline = domain.counter_key("tickets_created", channel="hotline", service_code="S1")

    tally.add([web, hotline])
    tally.add([web])

    summary = tally.summary()
    assert set(summary) == set(domain.COUNTERS)
    assert summary["tickets_created"] == [
        {"labels": {"channel": "hotline", "service_code": "S1"}, "count": 1},
        {"labels": {"channel": "web", "service_code": "S1"}, "count": 2},
    ]
    assert summary["sla_breaches"] == []


def test_sla_warning_counts_by_timer() -> None:
    from datetime import UTC, datetime

    from opsdesk_shared.contracts import Envelope, SlaWarningV1

    now = datetime(2026, 11, 26, tzinfo=UTC)
    data = SlaWarningV1(ticket_id="t", timer="dispatch", started_at=now, warning_at=now, due_at=now)
    envelope = Envelope.wrap(data, producer="sla-monitor", correlation_id="c", subject_id="t")
    assert domain.counter_keys(envelope, data) == [domain.counter_key("sla_warnings", timer="dispatch")]


def test_reassignments_count_by_who_decided_and_escalations_by_kind() -> None:
    from datetime import UTC, datetime

    from opsdesk_shared.contracts import Envelope, EscalationRaisedV1, TicketReassignedV1

    now = datetime(2026, 11, 26, tzinfo=UTC)
    moved = TicketReassignedV1(ticket_id="t", assignment_id="a", previous_engineer_id="e1", engineer_id="e2", engineer_name="n", reason="r", by="desk-王", reassigned_at=now)
    raised = EscalationRaisedV1(escalation_id="x", ticket_id="t", engineer_id="e1", kind="technical", description="d", notify=["pm"], raised_at=now)
    for data, key in ((moved, domain.counter_key("tickets_reassigned", by="desk")), (raised, domain.counter_key("escalations_raised", kind="technical"))):
        envelope = Envelope.wrap(data, producer="dispatch", correlation_id="c", subject_id="t")
        assert domain.counter_keys(envelope, data) == [key]
