"""The monthly summary counts what the SLA monitor decided and says it in Chinese: remote guidance is 远程指导 with its
starts counted, a cancelled clock is in no rate, and the commentary never calls every timer fine over a breach it
missed. On the memory read models and on the real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from opsdesk_shared.contracts import (
    Envelope,
    EventData,
    Requester,
    SlaBreachedV1,
    SlaTimerStartedV1,
    SlaTimerStoppedV1,
    TicketCreatedV1,
    TicketUpdatedV1,
)
from reporting import figures, reports, service
from reporting.adapters.memory import MemoryReadModels
from reporting.adapters.mongo import MongoGenerations

T0 = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)  # 10:00 in Guangzhou
MIN = timedelta(minutes=1)


@pytest.fixture(params=["memory", "mongo"])
def models(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return MemoryReadModels()
    return MongoGenerations(request.getfixturevalue("mongo_db")).models(1)


def wrap(event: EventData, subject: str, at: datetime) -> Envelope:
    return Envelope.wrap(event, producer="test", correlation_id="c", subject_id=subject, occurred_at=at)


def created(tid: str, n: int) -> Envelope:
    return wrap(TicketCreatedV1(ticket_id=tid, number=f"INC-2026-{n:06d}", title="打印机卡纸", channel="hotline",
                                service_code="RS-ONSITE", requester=Requester(name="王小明"), reported_at=T0), tid, T0)


def guidance(tid: str, at: datetime) -> Envelope:
    return wrap(TicketUpdatedV1(ticket_id=tid, number="x", by="agent1", updated_at=at,
                                changes={"guidance_started_at": {"old": None, "new": at.isoformat()}}), tid, at)


def verdict(tid: str, timer: str, outcome: str, start: datetime, minutes: int, stop: datetime) -> Envelope:
    return wrap(SlaTimerStoppedV1(ticket_id=tid, timer=timer, outcome=outcome, started_at=start,  # type: ignore[arg-type]
                                  due_at=start + minutes * MIN, stopped_at=stop), tid, stop)


def breach(tid: str, timer: str, start: datetime, minutes: int, policy: str) -> Envelope:
    due = start + minutes * MIN
    return wrap(SlaBreachedV1(ticket_id=tid, timer=timer, started_at=start, due_at=due, breached_at=due, policy=policy), tid, due)


async def summary(models: Any, events: list[Envelope]) -> tuple[dict[str, Any], list[str]]:
    for envelope in events:
        await service.project(envelope, models=models)
    f = figures.compute(await figures.gather(models, "2026-11"))
    return {r["timer"]: r for r in f["sla"]}, reports.commentary(f, "zh-CN", previous=None, service=lambda code: code)


async def test_guidance_starts_are_counted_labelled_in_chinese_and_a_low_rate_is_named(models: Any) -> None:
    g1, g2 = T0 + MIN, T0 + 2 * MIN
    rows, text = await summary(models, [
        created("t1", 1), created("t2", 2), guidance("t1", g1), guidance("t2", g2),
        verdict("t1", "remote_guidance", "met", g1, 5, g1 + 3 * MIN),
        breach("t2", "remote_guidance", g2, 5, "remote_guidance/24x7/5"),
        verdict("t2", "remote_guidance", "breached", g2, 5, g2 + 40 * MIN),
    ])

    assert (rows["remote_guidance"]["started"], rows["remote_guidance"]["compliance"]) == (2, 0.5)
    joined = "\n".join(text)
    assert "remote_guidance" not in joined
    assert "低于 95% 目标的时限：远程指导 50.0%" in joined and "均不低于" not in joined
    assert any("INC-2026-000002" in p and "远程指导未在" in p for p in text)


async def test_a_cancelled_clock_is_in_no_rate(models: Any) -> None:
    rows, _ = await summary(models, [
        created("t3", 3), created("t4", 4),
        verdict("t3", "dispatch", "cancelled", T0, 10, T0 + 5 * MIN),  # cancelled while held
        verdict("t3", "response", "cancelled", T0, 60, T0 + 5 * MIN),
        verdict("t4", "dispatch", "breached", T0, 10, T0 + 30 * MIN),
        verdict("t4", "response", "met", T0, 60, T0 + 30 * MIN),
    ])

    assert (rows["dispatch"]["cancelled"], rows["dispatch"]["compliance"]) == (1, 0.0)
    assert rows["response"]["compliance"] == 1.0


async def test_a_breach_under_a_timer_with_no_verdict_yet_is_not_covered_by_every_timer_kept_95(models: Any) -> None:
    # The guidance clock breached and is still running at month end: no verdict, and its start was last month.
    start = datetime(2026, 10, 31, 15, 58, tzinfo=UTC)
    events = [created("t5", 5), breach("t5", "remote_guidance", start, 5, "remote_guidance/24x7/5")]
    events += [created(f"r{i}", 10 + i) for i in range(3)]
    events += [verdict(f"r{i}", "response", "met", T0, 60, T0 + 10 * MIN) for i in range(3)]
    rows, text = await summary(models, events)

    assert rows["remote_guidance"]["compliance"] == 0.0
    assert not any("均不低于" in p for p in text)


async def test_every_timer_above_95_with_a_breach_says_which_timer_still_had_one(models: Any) -> None:
    events = [created(f"k{i}", 100 + i) for i in range(20)]
    events += [verdict(f"k{i}", "response", "met", T0, 60, T0 + 10 * MIN) for i in range(20)]
    events += [breach("k0", "response", T0, 60, "response/office-hours/60")]
    _, text = await summary(models, events)

    line = next(p for p in text if "均不低于" in p)
    assert "响应仍有违约" in line


async def test_a_running_clock_announced_only_by_its_start_is_counted_once(models: Any) -> None:
    """sla.timer_started (issue 16): the agency's authorization clock on emergency work, running, never warned:
    counted (计时 1, no rate yet); its redelivery and its later verdict are the same cycle."""
    start = T0 + 5 * MIN
    opened = wrap(SlaTimerStartedV1(ticket_id="t1", timer="authorization", started_at=start, due_at=start + 240 * MIN), "t1", start)
    rows, _ = await summary(models, [created("t1", 1), opened, opened])
    assert (rows["authorization"]["started"], rows["authorization"]["compliance"]) == (1, None)
    rows, _ = await summary(models, [verdict("t1", "authorization", "met", start, 240, start + 60 * MIN)])
    assert (rows["authorization"]["started"], rows["authorization"]["met"]) == (1, 1)
