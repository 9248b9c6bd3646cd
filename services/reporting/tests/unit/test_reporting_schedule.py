"""The report calendar on an injected clock: due reports generated once; reports not submitted to the agency by their due
time alerted once (missing), a first submission after it alerted once (late)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from opsdesk_shared.contracts import subjects
from reporting import periods, reports, service
from reporting.adapters.memory import MemoryPublisher, MemoryReadModels, MemoryReportStore
from reporting.sample_month import generate
from reporting.scheduler import ReportScheduler

TZ = periods.TZ


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


class RecordingDelivery:
    def __init__(self) -> None:
        self.sent: list[tuple[str, set[str]]] = []

    async def deliver(self, *, report: dict[str, Any], files: dict[str, bytes]) -> list[str]:
        self.sent.append((report["_id"], set(files)))
        return ["webhook"]


@pytest.fixture
async def models() -> MemoryReadModels:
    m = MemoryReadModels()
    for envelope in generate(tickets=40).events:
        await service.project(envelope, models=m)
    return m


def scheduler(models: MemoryReadModels, clock: Clock, **kw: Any) -> tuple[ReportScheduler, MemoryReportStore, MemoryPublisher]:
    store, publisher = MemoryReportStore(), MemoryPublisher()
    store.since = datetime(2026, 11, 15, tzinfo=TZ)  # the calendar has been running since mid-November
    return ReportScheduler(models=lambda: models, store=store, publisher=publisher, clock=clock, **kw), store, publisher


def test_due_dates_follow_the_contract() -> None:
    assert reports.due_at(reports.KINDS["service-summary"], "2026-11") == datetime(2026, 12, 5, tzinfo=TZ)
    assert reports.due_at(reports.KINDS["repair-summary"], "2026-11") == datetime(2026, 12, 10, tzinfo=TZ)
    assert reports.due_at(reports.KINDS["om-quarterly"], "2026-Q4") == datetime(2027, 1, 10, tzinfo=TZ)
    assert reports.due_at(reports.KINDS["om-annual"], "2026") == datetime(2027, 1, 15, tzinfo=TZ)


def test_previous_period_is_in_shanghai_time() -> None:
    # 2026-11-30 16:30 UTC is already 1 December in Guangzhou: November is the previous month.
    assert periods.previous("month", datetime(2026, 11, 30, 16, 30, tzinfo=periods.TZ).astimezone(periods.TZ)) == "2026-10"
    assert periods.previous("month", datetime.fromisoformat("2026-11-30T16:30:00+00:00")) == "2026-11"
    assert periods.previous("quarter", datetime(2027, 1, 2, tzinfo=TZ)) == "2026-Q4"
    assert periods.previous("year", datetime(2027, 1, 2, tzinfo=TZ)) == "2026"


async def test_nothing_is_generated_before_the_period_has_settled(models: MemoryReadModels) -> None:
    job, store, publisher = scheduler(models, Clock(datetime(2026, 12, 1, 0, 30, tzinfo=TZ)))
    assert await job.step() == []
    assert publisher.published == []


async def test_monthly_reports_are_generated_once_stored_announced_and_delivered(models: MemoryReadModels) -> None:
    delivery = RecordingDelivery()
    job, store, publisher = scheduler(models, Clock(datetime(2026, 12, 1, 2, 0, tzinfo=TZ)), delivery=delivery)

    done = await job.step()
    again = await job.step()

    monthly = {k.name for k in reports.SCHEDULED if k.cadence == "month"}
    assert set(done) == {f"{k}:2026-11:zh-CN" for k in monthly}
    assert again == []
    stored = await store.get("service-summary:2026-11:zh-CN")
    assert stored is not None and stored["generated_late"] is False and stored["delivered"] == ["webhook"]
    assert (stored["state"], stored["revision"]) == ("draft", 1)  # waiting to be submitted to the agency
    assert (await store.file("service-summary:2026-11:zh-CN", "pdf") or b"").startswith(b"%PDF")
    assert [e.type for e in publisher.published] == [subjects.REPORT_GENERATED] * len(monthly)
    assert {e.data["period"] for e in publisher.published} == {"2026-11"}
    assert all(files == {"json", "xlsx", "pdf"} for _, files in delivery.sent)


async def test_a_report_generated_but_not_submitted_by_its_due_time_is_missing_and_alerted_once(models: MemoryReadModels) -> None:
    clock = Clock(datetime(2026, 12, 1, 2, 0, tzinfo=TZ))
    job, store, publisher = scheduler(models, clock)
    await job.step()  # generated on the 1st, on time; nobody submits
    assert not [e for e in publisher.published if e.type == subjects.REPORT_OVERDUE]

    clock.at = datetime(2026, 12, 5, 0, 1, tzinfo=TZ)
    await job.step()
    await job.step()

    overdue = [e for e in publisher.published if e.type == subjects.REPORT_OVERDUE]
    assert {e.data["kind"] for e in overdue} == {"service-summary", "om-monthly", "inspection", "quality-self-check", "security-analysis"}
    assert all(e.data["reason"] == "missing" for e in overdue)  # generated on time does not meet the 5th: submission does


async def test_a_report_submitted_before_its_due_time_is_not_missing_and_one_submitted_after_is_late(models: MemoryReadModels) -> None:
    from reporting import signing

    clock = Clock(datetime(2026, 12, 1, 2, 0, tzinfo=TZ))
    job, store, publisher = scheduler(models, clock)
    await job.step()
    sources = signing.Sources(models=models)
    manager = signing.Actor(by="pm-chen", role="manager")
    await signing.submit("service-summary:2026-11:zh-CN", actor=manager, store=store, publisher=publisher, sources=sources,
                         now=datetime(2026, 12, 4, 18, 0, tzinfo=TZ))

    clock.at = datetime(2026, 12, 5, 0, 1, tzinfo=TZ)
    await job.step()
    missing = {e.data["kind"] for e in publisher.published if e.type == subjects.REPORT_OVERDUE}
    assert "service-summary" not in missing and "om-monthly" in missing

    late = await signing.submit("repair-summary:2026-11:zh-CN", actor=manager, store=store, publisher=publisher, sources=sources,
                                now=datetime(2026, 12, 10, 9, 0, tzinfo=TZ))  # the 10th began at midnight
    assert (late["state"], late["submitted_by"]) == ("submitted", "pm-chen")
    alerts = [e.data for e in publisher.published if e.type == subjects.REPORT_OVERDUE and e.data["kind"] == "repair-summary"]
    assert [a["reason"] for a in alerts] == ["late"]
    submitted = [e.data for e in publisher.published if e.type == subjects.REPORT_SUBMITTED]
    assert [(d["report_id"], d["on_time"]) for d in submitted] == [("service-summary:2026-11:zh-CN", True),
                                                                    ("repair-summary:2026-11:zh-CN", False)]


async def test_a_report_that_cannot_be_generated_past_its_due_date_is_missing(models: MemoryReadModels, monkeypatch: pytest.MonkeyPatch) -> None:
    from reporting import generation

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("renderer down")

    monkeypatch.setattr(generation, "generate", broken)
    clock = Clock(datetime(2026, 12, 3, tzinfo=TZ))
    job, store, publisher = scheduler(models, clock)
    await job.step()
    assert publisher.published == []  # failing, but not due yet

    clock.at = datetime(2026, 12, 5, 0, 1, tzinfo=TZ)
    await job.step()
    await job.step()
    missing = [e.data["kind"] for e in publisher.published if e.type == subjects.REPORT_OVERDUE]
    assert sorted(missing) == sorted(["service-summary", "om-monthly", "inspection", "quality-self-check", "security-analysis"])

    clock.at += timedelta(days=6)  # the repair summary's 10th has passed too
    await job.step()
    assert sum(1 for e in publisher.published if e.data.get("kind") == "repair-summary") == 1


async def test_reports_due_before_the_calendar_started_are_not_owed(models: MemoryReadModels) -> None:
    store, publisher = MemoryReportStore(), MemoryPublisher()
    job = ReportScheduler(models=lambda: models, store=store, publisher=publisher, clock=Clock(datetime(2026, 12, 1, 2, tzinfo=TZ)))

    done = await job.step()

    assert store.since == datetime(2026, 12, 1, 2, tzinfo=TZ)
    assert not any(":2026-Q3:" in r or ":2025:" in r for r in done)  # due in October and in January: before it started
    assert "service-summary:2026-11:zh-CN" in done
    assert not [e for e in publisher.published if e.type == subjects.REPORT_OVERDUE]


async def test_each_configured_language_is_stored(models: MemoryReadModels) -> None:
    job, store, _ = scheduler(models, Clock(datetime(2026, 12, 1, 2, 0, tzinfo=TZ)), langs=("zh-CN", "en"))
    await job.step()
    english = await store.get("repair-summary:2026-11:en")
    assert english is not None and english["title"] == "Monthly repair summary 2026-11"
