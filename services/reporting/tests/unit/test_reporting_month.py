"""A generated month of events with known answers: the projection's figures must equal them, whatever the order."""

from __future__ import annotations

import random
from typing import Any

import pytest

from reporting import figures, service, sketch
from reporting.adapters.memory import MemoryEventSource, MemoryGenerations, MemoryReadModels
from reporting.rebuild import Projection, rebuild
from reporting.sample_month import Month, generate


@pytest.fixture(scope="module")
def month() -> Month:
    return generate(tickets=200)


async def project_all(month: Month, models: Any, *, order: list[int] | None = None) -> None:
    for index in order if order is not None else range(len(month.events)):
        await service.project(month.events[index], models=models)


async def month_figures(models: Any, period: str) -> dict[str, Any]:
    return figures.compute(await figures.gather(models, period))


@pytest.fixture
async def projected(month: Month) -> dict[str, Any]:
    models = MemoryReadModels()
    await project_all(month, models)
    return await month_figures(models, month.period)


def counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {r["key"]: r["count"] for r in rows}


async def test_volumes_by_service_channel_priority_and_department(month: Month, projected: dict[str, Any]) -> None:
    assert projected["volumes"]["total"] == month.expected["total"]
    for dim in ("service", "channel", "priority", "department"):
        assert counts(projected["volumes"][f"by_{dim}"]) == month.expected["by"][dim], dim


async def test_median_and_p90_of_each_duration_within_the_sketch_error(month: Month, projected: dict[str, Any]) -> None:
    for timer, (median, p90) in month.expected["quantiles"].items():
        got = projected["times"][timer]
        assert got["count"] == len(month.durations[timer]), timer
        assert got["median_s"] == pytest.approx(median, rel=sketch.RELATIVE_ERROR + 0.001), timer
        assert got["p90_s"] == pytest.approx(p90, rel=sketch.RELATIVE_ERROR + 0.001), timer
        assert got["mean_s"] == pytest.approx(sum(month.durations[timer]) / len(month.durations[timer]), abs=0.1)


async def test_desk_share_is_resolved_at_the_desk_over_all_resolved(month: Month, projected: dict[str, Any]) -> None:
    desk = projected["desk"]
    assert (desk["resolved"], desk["at_desk"]) == (month.expected["resolved"], month.expected["desk"])
    assert desk["share"] == pytest.approx(month.expected["desk"] / month.expected["resolved"])
    assert desk["within_target"] is True


async def test_sla_breaches_and_warnings_per_timer_are_listed(month: Month, projected: dict[str, Any]) -> None:
    rows = {r["timer"]: r for r in projected["sla"]}
    assert rows["response"]["breached"] == month.expected["breaches"]
    assert rows["response"]["started"] == month.expected["total"]
    assert rows["response"]["compliance"] == pytest.approx(1 - month.expected["breaches"] / month.expected["total"], abs=1e-4)
    assert rows["dispatch"]["warned"] == month.expected["warnings"]
    assert len(projected["breaches"]) == month.expected["breaches"]
    assert all(b["number"].startswith("INC-") and b["timer"] == "response" for b in projected["breaches"])


async def test_recurrence_counts_repeats_on_an_asset_and_article_resolutions(month: Month, projected: dict[str, Any]) -> None:
    r = projected["recurrence"]
    assert r["repeat_asset"] == month.expected["repeat_asset"]
    assert r["with_article"] == month.expected["with_article"]


async def test_repairs_by_vendor_turnaround_on_time_and_progress_updates(month: Month, projected: dict[str, Any]) -> None:
    vendors = {v["vendor"]: v for v in projected["repairs"]["vendors"]}
    assert set(vendors) == set(month.expected["vendors"])
    for name, want in month.expected["vendors"].items():
        got = vendors[name]
        assert (got["sent"], got["returned"], got["on_time"]) == (want["sent"], want["returned"], want["on_time"]), name
        assert (got["updates_ok"], got["updates_late"]) == (want["ok"], want["late"]), name
        median = sorted(want["turnaround"])[len(want["turnaround"]) // 2 - 1]  # nearest rank of 6 values at 0.5 is the 3rd
        assert got["turnaround_median_s"] == pytest.approx(median, rel=sketch.RELATIVE_ERROR + 0.001)


async def test_top_assets_engineer_workload_satisfaction_escalations(month: Month, projected: dict[str, Any]) -> None:
    assert [(r["key"], r["count"]) for r in projected["top_assets"]] == month.expected["top_assets"]
    workload = {e["engineer_id"]: {k: e[k] for k in ("assigned", "completed", "resolved")} for e in projected["engineers"]}
    assert workload == month.expected["engineers"]
    assert projected["engineers"][0]["name"] in ("李华", "张伟", "陈静", "刘洋")
    sat = month.expected["satisfaction"]
    assert projected["satisfaction"]["responses"] == len(sat)
    assert projected["satisfaction"]["mean"] == pytest.approx(sum(sat) / len(sat), abs=1e-4)
    assert projected["escalations"]["total"] == month.expected["escalations"]
    assert projected["majors"]["total"] == month.expected["majors"] == len(projected["majors"]["list"])
    assert projected["reopened"] == month.expected["reopened"]


def interleaved(month: Month, seed: int) -> list[int]:
    """Each family's consumer keeps stream order; families interleave at random, and some events come twice."""
    queues: dict[str, list[int]] = {}
    for index, envelope in enumerate(month.events):
        queues.setdefault(envelope.type.split(".")[0], []).append(index)
    rng = random.Random(seed)
    order: list[int] = []
    while queues:
        family = rng.choice(sorted(queues))
        order.append(queues[family].pop(0))
        if rng.random() < 0.2:
            order.append(rng.choice(order))  # a redelivery
        if not queues[family]:
            del queues[family]
    return order


@pytest.mark.parametrize("seed", [7, 8, 9])
async def test_interleaved_families_and_redeliveries_give_the_same_figures(month: Month, projected: dict[str, Any], seed: int) -> None:
    order = interleaved(month, seed)
    models = MemoryReadModels()
    await project_all(month, models, order=order)
    assert await month_figures(models, month.period) == projected


async def test_rebuild_from_the_stream_equals_the_incremental_projection(month: Month, projected: dict[str, Any]) -> None:
    generations = MemoryGenerations()
    holder = Projection(models=generations.models(1), generation=1)
    source = MemoryEventSource()
    for envelope in month.events:
        source.events.append(envelope)
        await service.project(envelope, models=holder.models, live=holder.live)
    live_before = holder.live

    result = await rebuild(holder, source=source, generations=generations)

    assert result["generation"] == 2 and result["events"] == len(month.events)
    assert holder.generation == 2 and generations.active == 2 and 1 not in generations.generations
    assert await month_figures(holder.models, month.period) == projected
    assert holder.live.state == {k: v for k, v in live_before.state.items()}


async def test_a_quarter_merges_its_months(month: Month, projected: dict[str, Any]) -> None:
    models = MemoryReadModels()
    await project_all(month, models)
    quarter = await month_figures(models, "2026-Q4")
    assert quarter["volumes"] == projected["volumes"]
    assert quarter["times"] == projected["times"]
    assert (await month_figures(models, "2026-10"))["volumes"]["total"] == 0


async def test_inspections_are_counted_and_listed_for_the_monthly_inspection_report(month: Month, projected: dict[str, Any]) -> None:
    inspections = projected["inspections"]
    assert inspections["total"] == month.expected["inspections"] == len(inspections["list"])
    assert counts(inspections["by_result"]) == {"ok": 6 - month.expected["inspections_needing_work"],
                                                "needs_work": month.expected["inspections_needing_work"]}
    assert inspections["findings"] == month.expected["inspections_needing_work"]
    assert all(item["inspector"] == "李华" for item in inspections["list"])


async def test_a_spare_issue_is_kept_on_its_ticket_for_the_requisition_form() -> None:
    from datetime import UTC, datetime

    from opsdesk_shared.contracts import Envelope

    models = MemoryReadModels()
    data = {"issue_id": "s1", "part_type": "硒鼓", "site": "A栋", "quantity": 2, "ticket_id": "t-1", "remaining": 3,
            "below_minimum": False, "issued_by": "李华", "issued_at": "2026-11-05T02:00:00Z"}
    envelope = Envelope(type="cmdb.spare_issued", version=1, producer="assets", correlation_id="c", subject_id="t-1", data=data,
                        occurred_at=datetime(2026, 11, 5, 2, tzinfo=UTC))
    assert await service.project(envelope, models=models) is True
    assert await service.project(envelope, models=models) is False
    ticket = await models.entity("tickets", "t-1")
    assert ticket is not None and [(s["part"], s["quantity"]) for s in ticket["spares"]] == [("硒鼓", 2)]
    assert (await models.bucket("m:2026-11") or {})["spares"]["issued"] == 2
