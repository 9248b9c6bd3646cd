"""Reporting benchmark: a monthly report for 1,000,000 tickets, and how fast the projection catches up.

Part 1 builds the aggregates a month of N tickets leaves behind (default 1,000,000) with the projection's own key
shapes (`Effects.inc` / `Effects.duration`, one call per figure per ticket, as the event handlers make them), stores
them in the real database, then times the report: figures from the buckets (`generation.compose`) and each format
rendered (JSON, XLSX, PDF with charts). Peak Python memory (tracemalloc) and process RSS are measured around the
report only: what a monthly report costs, which does not grow with the number of tickets.

Part 2 publishes a generated month of real contract events (default 2,000 tickets, about 9,500 events) to JetStream and
rebuilds the projection from the stream into the real database (`rebuild`: ordered replay, one `service.project` per
event), which is the catch-up path. Events per second is the figure; a million-ticket month (~4.7 M events) takes
that many events divided by this rate.

    .venv/bin/python bench/report_month.py [--tickets 1000000] [--replay-tickets 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import resource
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from authed import broker_as, start_bus, start_db

from opsdesk_devstack.infra import Nats
from opsdesk_shared.bus import JetStreamPublisher, declare_streams
from opsdesk_shared.bus_permissions import TEST_USER
from opsdesk_shared.mongo import connect
from reporting import generation, periods, reports, sketch
from reporting.adapters.mongo import MongoGenerations
from reporting.adapters.nats import StreamSource
from reporting.projection import LIST_CAP, Effects, asset_bucket, enc
from reporting.rebuild import Projection, rebuild
from reporting.sample_month import generate

MONTH = "2026-11"
# A request gets a few seconds to draw a file (then a 503); the bench measures how long drawing takes, so it waits.
BENCH_BUDGET_S = 600.0
SERVICES = [f"RS-{i:02d}" for i in range(30)]
DEPARTMENTS = [f"部门{i:02d}" for i in range(40)]
ENGINEERS = [f"eng-{i:02d}" for i in range(50)]
VENDORS = ["惠普", "联想", "戴尔", "华为", "佳能"]
CHANNELS = ["hotline", "email", "web", "api", "remote_desktop", "walk_in"]


def synthetic_month(n: int, *, seed: int = 1) -> tuple[Effects, list[dict[str, object]]]:
    """The month buckets N tickets produce: the same paths the event handlers increment, one call per figure."""
    rng = random.Random(seed)
    fx = Effects()
    bucket = f"m:{MONTH}"
    start = datetime(2026, 11, 1, tzinfo=periods.TZ)
    breaches: list[dict[str, object]] = []
    at = start + timedelta(days=15)
    for i in range(n):
        fx.inc(bucket, "created.total")
        fx.inc(bucket, f"created.service.{enc(rng.choice(SERVICES))}")
        fx.inc(bucket, f"created.channel.{rng.choice(CHANNELS)}")
        fx.inc(bucket, f"created.priority.P{rng.randint(1, 4)}")
        fx.inc(bucket, f"created.department.{enc(rng.choice(DEPARTMENTS))}")
        fx.inc(bucket, "created.type.incident")
        fx.inc(asset_bucket(MONTH, tag := f"GZ-{rng.randrange(60000):06d}"), enc(tag))
        fx.inc(bucket, "sla.response.started")
        fx.inc(bucket, "sla.dispatch.started")
        fx.inc(bucket, "resolved.total")
        fx.duration(at, "first_response", rng.lognormvariate(6.0, 0.8))
        fx.duration(at, "resolution", rng.lognormvariate(9.0, 1.0))
        if rng.random() < 0.4:
            fx.inc(bucket, "resolved.desk")
        else:
            engineer = enc(rng.choice(ENGINEERS))
            fx.inc(bucket, f"engineer.{engineer}.assigned")
            fx.inc(bucket, f"engineer.{engineer}.resolved")
            fx.inc(bucket, "sla.confirmation.started")
            fx.duration(at, "dispatch", rng.lognormvariate(5.5, 0.7))
            fx.duration(at, "confirmation", rng.lognormvariate(6.5, 0.6))
        if rng.random() < 0.03:
            fx.inc(bucket, "sla.response.breached")
            if len(breaches) < LIST_CAP:
                breaches.append({"ticket_id": f"t-{i}", "number": f"INC-2026-{i:07d}", "timer": "response", "due_at": at, "breached_at": at})
        if i % 2 == 0:
            score = rng.randint(3, 5)
            fx.inc(bucket, "satisfaction.n")
            fx.inc(bucket, "satisfaction.sum", score)
            fx.inc(bucket, f"satisfaction.score.{score}")
        if i % 50 == 0:
            vendor = enc(rng.choice(VENDORS))
            fx.inc(bucket, f"vendor.{vendor}.sent")
            fx.inc(bucket, f"vendor.{vendor}.returned")
            fx.inc(bucket, f"vendor.{vendor}.on_time")
            fx.inc(bucket, f"vendor.{vendor}.updates_ok", 2)
            fx.duration(at, vendor, rng.lognormvariate(13.0, 0.4), prefix="turnaround")
    for name in ENGINEERS:
        fx.set(bucket, f"engineer_names.{enc(name)}", f"工程师{name[-2:]}")
    return fx, breaches


async def part1(url: str, tickets: int) -> None:
    client = connect(url)
    db = client["bench_report_month"]
    await client.drop_database("bench_report_month")
    models = MongoGenerations(db).models(1)
    t0 = time.perf_counter()
    fx, breaches = synthetic_month(tickets)
    built = time.perf_counter() - t0
    await models.apply(fx)
    await db["p1_lists"].replace_one({"_id": f"m:{MONTH}:breaches"}, {"n": len(breaches), "items": breaches}, upsert=True)
    hist_buckets = sum(1 for k in fx.incs[f"m:{MONTH}"] if ".h." in k)
    print(f"aggregates for {tickets:,} tickets built in {built:.1f} s; month bucket {len(fx.incs[f'm:{MONTH}']):,} fields "
          f"({hist_buckets} histogram buckets), {len(fx.incs) - 1} asset shards")

    kind = reports.KINDS["service-summary"]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    rows = []
    t = time.perf_counter()
    report = await generation.compose(kind, MONTH, models=models, lang="zh-CN", now=datetime.now(UTC))
    rows.append(("figures from buckets (compose)", time.perf_counter() - t, 0))
    for fmt in ("json", "xlsx", "pdf", "pdf"):
        t = time.perf_counter()
        data = await generation.render(report, fmt, budget=BENCH_BUDGET_S)
        warm = " (again, fonts loaded)" if any(r[0] == f"render {fmt}" for r in rows) else ""
        rows.append((f"render {fmt}{warm}", time.perf_counter() - t, len(data)))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    total = sum(r[1] for r in rows[:4])
    f = report["figures"]
    assert f["volumes"]["total"] == tickets
    print(f"\nMonthly service summary, {tickets:,} tickets (machine: {platform.processor() or platform.machine()}, {datetime.now(UTC):%Y-%m-%d})")
    print(f"{'step':<34}{'seconds':>10}{'bytes':>12}")
    for name, seconds, size in rows:
        print(f"{name:<34}{seconds:>10.3f}{size:>12,}")
    print(f"{'total (first four rows)':<34}{total:>10.3f}")
    print(f"peak Python allocations during the report: {peak / 2**20:.1f} MiB; process max RSS {rss_before / 1024:.0f} -> {rss_after / 1024:.0f} MiB")
    print(f"check: median first response {f['times']['first_response']['median_s']} s (sketch error <= {sketch.RELATIVE_ERROR:.1%}), "
          f"desk share {f['desk']['share']}, breaches {f['breaches_total']:,}")
    await client.drop_database("bench_report_month")
    await client.close()


async def part2(url: str, bus: Nats, tickets: int) -> None:
    month = generate(tickets=tickets)
    # The month's events come from every service, so the bench publishes them as the test user (who may publish
    # anything); the rebuild then reads them as reporting does, with reporting's own user.
    producers = broker_as(bus, TEST_USER, name="bench-producers")
    await producers.connect()
    await declare_streams(producers)
    publisher = JetStreamPublisher(producers)
    t = time.perf_counter()
    for envelope in month.events:
        await publisher.publish(envelope)
    published = time.perf_counter() - t
    await producers.stop()
    broker = broker_as(bus, "reporting", name="bench")
    await broker.connect()
    client = connect(url)
    db = client["bench_report_replay"]
    await client.drop_database("bench_report_replay")
    generations = MongoGenerations(db)
    holder = Projection(models=generations.models(1), generation=1)
    t = time.perf_counter()
    result = await rebuild(holder, source=StreamSource(broker), generations=generations)
    seconds = time.perf_counter() - t
    rate = result["events"] / seconds
    events_1m = len(month.events) / tickets * 1_000_000
    print(f"\nProjection catch-up (rebuild from JetStream into the database), {tickets:,} tickets = {len(month.events):,} events "
          f"(published in {published:.1f} s)")
    print(f"{'events':>10}{'seconds':>10}{'events/s':>10}")
    print(f"{result['events']:>10,}{seconds:>10.1f}{rate:>10.0f}")
    print(f"extrapolated: a 1,000,000-ticket month (~{events_1m / 1e6:.1f} M events) catches up in ~{events_1m / rate / 60:.0f} min at this rate")
    print(f"process max RSS after the rebuild: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB "
          f"(the rebuild stages every entity of the stream in memory before writing it in bulk)")
    await client.drop_database("bench_report_replay")
    await client.close()
    await broker.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--replay-tickets", type=int, default=20_000)
    parser.add_argument("--skip-report", action="store_true", help="only the projection catch-up")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        database = start_db(root / "db", "reporting", log=root / "db.log")
        nats = start_bus(root / "nats", "reporting", TEST_USER, log=root / "nats.log")
        try:
            print(f"database: {database.kind}")
            if not args.skip_report:
                await part1(database.url_for("reporting"), args.tickets)
            await part2(database.url_for("reporting"), nats, args.replay_tickets)
        finally:
            nats.process.stop()
            database.stop()


if __name__ == "__main__":
    asyncio.run(main())
