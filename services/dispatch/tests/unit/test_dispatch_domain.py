"""Choosing an engineer: skill first, then load; only available field engineers with room."""

from __future__ import annotations

import re

import pytest

from dispatch.domain import DEMO_ROSTER, NoEngineerAvailable, assign, choose_engineer, score


def test_skill_match_beats_lower_load(engineer, ticket) -> None:  # type: ignore[no-untyped-def]
    busy_printer_expert = engineer("eng-a", skills=("printer",), open_load=6)
    idle_generalist = engineer("eng-b", skills=("desktop",), open_load=0)

    chosen, _, _ = choose_engineer(ticket(service_code="RS-REPAIR"), [idle_generalist, busy_printer_expert])

    assert chosen.id == "eng-a"


def test_lower_load_wins_between_skill_matches(engineer, ticket) -> None:  # type: ignore[no-untyped-def]
    roster = [engineer("eng-a", open_load=3), engineer("eng-b", open_load=1), engineer("eng-c", open_load=2)]
    chosen, _, _ = choose_engineer(ticket(), roster)
    assert chosen.id == "eng-b"


def test_onsite_engineer_preferred_over_mobile_reserve_at_equal_load(engineer, ticket) -> None:  # type: ignore[no-untyped-def]
    roster = [engineer("eng-a-mobile", role="mobile"), engineer("eng-z-onsite", role="onsite")]
    chosen, _, _ = choose_engineer(ticket(), roster)
    assert chosen.id == "eng-z-onsite"


@pytest.mark.parametrize("role", ["senior", "project_manager"])
def test_escalation_roles_are_never_picked(engineer, ticket, role) -> None:  # type: ignore[no-untyped-def]
    # The escalation target is idle and skilled; the field engineer is busy and unskilled, yet still chosen.
    roster = [engineer("eng-escalation", role=role, skills=("printer",)), engineer("eng-field", skills=(), open_load=7)]
    chosen, _, _ = choose_engineer(ticket(service_code="RS-REPAIR"), roster)
    assert chosen.id == "eng-field"


def test_only_escalation_roles_on_duty_means_no_engineer(engineer, ticket) -> None:  # type: ignore[no-untyped-def]
    roster = [engineer("eng-senior", role="senior"), engineer("eng-pm", role="project_manager")]
    with pytest.raises(NoEngineerAvailable):
        choose_engineer(ticket(), roster)


@pytest.mark.parametrize("status", ["busy", "off_duty", "on_leave"])
def test_unavailable_engineers_are_skipped(engineer, ticket, status) -> None:  # type: ignore[no-untyped-def]
    roster = [engineer("eng-a", status=status), engineer("eng-b", open_load=5)]
    chosen, _, _ = choose_engineer(ticket(), roster)
    assert chosen.id == "eng-b"


def test_full_engineers_are_skipped(engineer, ticket) -> None:  # type: ignore[no-untyped-def]
    roster = [engineer("eng-a", open_load=8, capacity=8), engineer("eng-b", skills=(), open_load=7, capacity=8)]
    chosen, _, _ = choose_engineer(ticket(service_code="RS-REPAIR"), roster)
    assert chosen.id == "eng-b"


def test_everyone_away_means_no_engineer(engineer, ticket) -> None:  # type: ignore[no-untyped-def]
    roster = [engineer("eng-b", status="on_leave"), engineer("eng-c", role="senior"), engineer("eng-d", status="off_duty")]
    with pytest.raises(NoEngineerAvailable, match="printer"):
        choose_engineer(ticket(service_code="RS-REPAIR"), roster)


def test_when_everyone_is_full_the_least_overloaded_engineer_gets_it_and_the_reason_says_so(engineer, ticket) -> None:  # type: ignore[no-untyped-def]
    roster = [engineer("eng-a", open_load=12), engineer("eng-b", open_load=9), engineer("eng-c", status="on_leave")]
    chosen, chosen_score, reason = choose_engineer(ticket(service_code="RS-REPAIR"), roster)
    assert chosen.id == "eng-b"
    assert chosen_score < 0
    assert reason.startswith("over capacity")


def test_empty_roster_means_no_engineer(ticket) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NoEngineerAvailable):
        choose_engineer(ticket(), [])


def test_ticket_without_a_skill_goes_to_anyone_available(engineer, ticket) -> None:  # type: ignore[no-untyped-def]
    roster = [engineer("eng-a", skills=("printer",), open_load=4), engineer("eng-b", skills=(), open_load=0)]
    chosen, _, reason = choose_engineer(ticket(service_code="RS-REPAIR", skill=None), roster)
    assert chosen.id == "eng-b"
    assert reason.startswith("skill match (any)")


def test_reason_explains_choice_and_mentions_score(engineer, ticket) -> None:  # type: ignore[no-untyped-def]
    chosen, best_score, reason = choose_engineer(ticket(service_code="RS-REPAIR"), [engineer("eng-a", open_load=2)])

    assert best_score == pytest.approx(score(chosen, skill="printer"))
    assert best_score == pytest.approx(10 + 5 * (1 - 2 / 8))
    match = re.search(r"score (\d+\.\d\d)", reason)
    assert match is not None
    assert float(match.group(1)) == pytest.approx(best_score, abs=0.005)
    assert "skill match (printer)" in reason
    assert "load 2/8" in reason
    assert "role onsite" in reason


def test_reason_admits_missing_skill(engineer, ticket) -> None:  # type: ignore[no-untyped-def]
    _, _, reason = choose_engineer(ticket(service_code="RS-REPAIR"), [engineer("eng-a", skills=("desktop",))])
    assert reason.startswith("no skill match (printer)")


def test_full_engineer_scores_below_any_engineer_with_room(engineer) -> None:  # type: ignore[no-untyped-def]
    full = score(engineer("eng-a", open_load=8, capacity=8), skill=None)
    fuller = score(engineer("eng-a", open_load=16, capacity=8), skill=None)
    no_skill_almost_full = score(engineer("eng-b", skills=(), open_load=7, capacity=8), skill="printer")
    assert fuller < full < 0 < no_skill_almost_full


def test_demo_roster_sends_application_ticket_to_the_application_engineer(ticket) -> None:  # type: ignore[no-untyped-def]
    chosen, _, _ = choose_engineer(ticket(service_code="RS-OTHER", skill="application"), list(DEMO_ROSTER))
    assert chosen.id == "eng-onsite-2"


def test_the_catalogs_skill_decides_not_the_service_code(engineer, ticket) -> None:  # type: ignore[no-untyped-def]
    # An admin changed RS-REPAIR's skill in the catalog to network: the network engineer gets it, though busier.
    roster = [engineer("eng-printer", skills=("printer",)), engineer("eng-network", skills=("network",), open_load=5)]
    chosen, _, reason = choose_engineer(ticket(service_code="RS-REPAIR", skill="network"), roster)
    assert chosen.id == "eng-network"
    assert reason.startswith("skill match (network)")


def test_assignment_keeps_the_skill_for_re_dispatch(engineer, ticket, now) -> None:  # type: ignore[no-untyped-def]
    assignment, _ = assign(ticket(skill="network"), [engineer("eng-a")], now=now)
    assert assignment.skill == "network"


def test_assign_builds_matching_assignment_and_event(engineer, ticket, now) -> None:  # type: ignore[no-untyped-def]
    created = ticket()
    assignment, event = assign(created, [engineer("eng-a")], now=now)

    assert assignment.ticket_id == event.ticket_id == created.ticket_id
    assert assignment.ticket_number == created.number
    assert assignment.id == event.assignment_id
    assert assignment.engineer_id == event.engineer_id == "eng-a"
    assert assignment.engineer_name == event.engineer_name == "name of eng-a"
    assert assignment.reason == event.reason
    assert assignment.assigned_at == event.assigned_at == now
    assert assignment.status == "open"


def test_each_assignment_gets_its_own_id(engineer, ticket, now) -> None:  # type: ignore[no-untyped-def]
    created = ticket()
    first, _ = assign(created, [engineer("eng-a")], now=now)
    second, _ = assign(created, [engineer("eng-a")], now=now)
    assert first.id != second.id
