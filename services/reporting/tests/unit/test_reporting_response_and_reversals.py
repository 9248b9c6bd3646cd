"""Issue 13, item 20 and item 9 in reporting's projection: first response stops at the first human act (never at
the automatic assignment), and a reversed spare issue is no consumption, whatever order the events arrive in."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from opsdesk_shared.contracts import (
    AssignmentAcceptedV1,
    Envelope,
    EventData,
    Requester,
    TicketAssignedV1,
    TicketCreatedV1,
    TicketDispatchRequestedV1,
    TicketResolvedV1,
)
from opsdesk_shared.contracts.cmdb import SpareIssuedV1, SpareIssueReversedV1
from reporting import figures, service
from reporting.adapters.memory import MemoryReadModels

REPORTED = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)


def _wrap(data: EventData, at: datetime) -> Envelope:
    return Envelope.wrap(data, producer="test", correlation_id="c", subject_id="t-1", occurred_at=at)


def _created() -> Envelope:
    return _wrap(TicketCreatedV1(ticket_id="t-1", number="INC-2026-000001", title="打印机卡纸", channel="hotline",
                                 service_code="RS-REPAIR", requester=Requester(name="王小明", department="办公室"),
                                 reported_at=REPORTED), REPORTED + timedelta(seconds=1))


def _assigned() -> Envelope:
    at = REPORTED + timedelta(seconds=1, milliseconds=20)  # dispatch assigns about 20 ms after the ticket is logged
    return _wrap(TicketAssignedV1(ticket_id="t-1", assignment_id="a-1", engineer_id="E-1", engineer_name="李工", reason="r",
                                  assigned_at=at), at)


def _accepted(minutes: int) -> Envelope:
    at = REPORTED + timedelta(minutes=minutes)
    return _wrap(AssignmentAcceptedV1(ticket_id="t-1", assignment_id="a-1", engineer_id="E-1", accepted_at=at), at)


def _resolved(minutes: int, *, at_desk: bool) -> Envelope:
    at = REPORTED + timedelta(minutes=minutes)
    return _wrap(TicketResolvedV1(ticket_id="t-1", number="INC-2026-000001", service_code="RS-REPAIR", priority="P3",
                                  channel="hotline", resolved_at_desk=at_desk, resolution="已解决", reported_at=REPORTED,
                                  resolved_at=at, by="agent1"), at)


async def _first_response(events: list[Envelope]) -> dict[str, Any]:
    models = MemoryReadModels()
    for envelope in events:
        await service.project(envelope, models=models)
    return figures.compute(await figures.gather(models, "2026-11"))["times"]["first_response"]


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
async def test_first_response_is_the_engineers_acceptance_not_the_automatic_assignment(order: tuple[int, ...]) -> None:
    events = [_created(), _assigned(), _accepted(12), _resolved(90, at_desk=False)]
    got = await _first_response([events[i] for i in order])
    assert got["count"] == 1
    assert got["median_s"] == pytest.approx(12 * 60, rel=0.02)  # not 0.0 (the assignment), not 90 minutes


async def test_the_desk_resolving_at_first_contact_is_the_first_response() -> None:
    got = await _first_response([_resolved(7, at_desk=True), _created()])
    assert (got["count"], got["median_s"]) == (1, pytest.approx(7 * 60, rel=0.02))


async def test_an_assignment_alone_is_no_response_yet() -> None:
    assert (await _first_response([_created(), _assigned()]))["count"] == 0


async def test_the_desk_sending_a_ticket_on_is_a_response_a_window_running_out_is_not() -> None:
    def requested(minutes: int, reason: str) -> Envelope:
        at = REPORTED + timedelta(minutes=minutes)
        return _wrap(TicketDispatchRequestedV1(
            ticket_id="t-1", number="INC-2026-000001", title="打印机卡纸", channel="hotline", service_code="RS-REPAIR",
            requester=Requester(name="王小明"), reported_at=REPORTED, reason=reason, requested_at=at, by="agent1",  # type: ignore[arg-type]
        ), at)

    assert (await _first_response([_created(), requested(5, "window_elapsed")]))["count"] == 0
    got = await _first_response([_created(), requested(3, "desk"), _accepted(20)])
    assert (got["count"], got["median_s"]) == (1, pytest.approx(3 * 60, rel=0.02))


def _issued(issue_id: str, quantity: int) -> Envelope:
    at = datetime(2026, 11, 5, 2, tzinfo=UTC)
    return _wrap(SpareIssuedV1(issue_id=issue_id, part_type="硒鼓", site="主楼", quantity=quantity, ticket_id="t-1", remaining=3,
                               below_minimum=False, issued_by="李华", issued_at=at), at)


def _reversed(issue_id: str, quantity: int) -> Envelope:
    at = datetime(2026, 12, 2, 2, tzinfo=UTC)  # taken back next month: November's consumption goes down
    return _wrap(SpareIssueReversedV1(issue_id=issue_id, part_type="硒鼓", site="主楼", quantity=quantity, ticket_id="t-1",
                                      issued_at=datetime(2026, 11, 5, 2, tzinfo=UTC), remaining=5, reason="未使用",
                                      reversed_by="李华", reversed_at=at), at)


@pytest.mark.parametrize("reversal_first", [False, True])
async def test_a_reversed_issue_no_longer_counts_as_consumption(reversal_first: bool) -> None:
    models = MemoryReadModels()
    events = [_issued("s1", 2), _issued("s2", 1), _reversed("s1", 2)]
    for envelope in ([events[2], events[0], events[1]] if reversal_first else events):
        assert await service.project(envelope, models=models) is True
    assert await service.project(events[2], models=models) is False  # a redelivered reversal changes nothing

    assert (await models.bucket("m:2026-11") or {})["spares"]["issued"] == 1
    assert (await models.bucket("m:2026-12") or {})["spares"]["reversed"] == 2
    ticket = await models.entity("tickets", "t-1")
    assert ticket is not None and [(s["issue_id"], s["quantity"]) for s in ticket["spares"]] == [("s2", 1)]
