"""Start-to-ready of every service at the benchmarks' data sizes (issue 14: within 10 s each).

The databases are filled as the other benchmarks fill them, straight into the collections each service loads at
start-up: intake 100,000 tickets (bench/intake_search.py), the SLA monitor 1,000,000 open timers with their slot
index (bench/sla_timers.py), assets 50,000 items and 200,000 relations (bench/cmdb_impact.py), dispatch 1,000
engineers and 10,000 open assignments (bench/dispatch_decision.py), reporting 100,000 ticket.created events in its
projection (the tally is rebuilt from them at start), knowledge its demo articles (its 20,000-article figure in
bench/kb_search.py is an in-memory index build, 9.3 s). `--scale` multiplies every size (0.1 for a quick look).

Each service is then started as its own process, alone and in turn, and timed from the process start to the first
`/readyz` 200, which since issue 14 means: database and NATS answer, the service's local views are loaded and every
durable consumer it subscribed to exists on the server. Then all six are started at once (a node restart), which
measures the same under contention. Prints a table; paste it into bench/RESULTS.md with the date and machine.
`--services a,b` seeds and times only those; `--var DIR` keeps the data for a later `--no-seed` run; `--starts N`
starts each service N times alone (the first after seeding has no snapshot yet; the others are restarts); each
start's 'views loaded' line (seconds per start-up phase) is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cmdb_impact import estate
from intake_search import fill
from pymongo import AsyncMongoClient
from sla_timers import seed as seed_timers

from opsdesk_devstack.services import SERVICES
from opsdesk_devstack.stack import Stack

BASE_SIZES = {"intake": 100_000, "sla-monitor": 1_000_000, "assets": (50_000, 200_000), "dispatch": (1_000, 10_000), "reporting": 100_000}


async def seed_assets(url: str, items: int, relations: int) -> None:
    from assets.domain import Asset, Location
    from assets.relations import Relation

    kinds, rels = estate(items, relations, random.Random(5))
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    db = client["opsdesk_assets"]
    docs = [{"_id": t, **Asset(tag=t, type=k, location=Location(building="主樓")).model_dump(mode="json", exclude={"tag"})}
            for t, k in kinds.items()]
    for start in range(0, len(docs), 5_000):
        await db["assets"].insert_many(docs[start:start + 5_000], ordered=False)
    rel_docs = [{"_id": Relation(source=s, type=t, target=d).id, "source": s, "type": t, "target": d} for s, t, d in rels]
    for start in range(0, len(rel_docs), 5_000):
        await db["relations"].insert_many(rel_docs[start:start + 5_000], ordered=False)
    await client.close()


async def seed_dispatch(url: str, engineers: int, assignments: int) -> None:
    from dispatch_decision import roster

    from dispatch.adapters.mongo import MongoRoster

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    db = client["opsdesk_dispatch"]
    people = roster(engineers, random.Random(3))
    await MongoRoster(db).seed(people)
    now = datetime.now(UTC)
    docs = [{"_id": f"open-{i}", "id": f"a-{i}", "ticket_number": f"INC-2025-{i:06d}", "engineer_id": people[i % len(people)].id,
             "engineer_name": people[i % len(people)].name, "reason": "seeded", "score": 1.0,
             "assigned_at": now - timedelta(hours=1), "status": "open", "_outbox": []} for i in range(assignments)]
    for start in range(0, len(docs), 5_000):
        await db["assignments"].insert_many(docs[start:start + 5_000], ordered=False)
    await client.close()


async def seed_reporting(url: str, events: int) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    coll = client["opsdesk_reporting"]["events"]
    now = datetime.now(UTC)
    batch = []
    for i in range(events):
        tid = f"bench-{i:07d}"
        batch.append({
            "_id": f"ev-{i:07d}", "type": "ticket.created", "version": 1, "occurred_at": now - timedelta(minutes=i % 40_000),
            "subject_id": tid, "producer": "intake",
            "data": {"ticket_id": tid, "number": f"INC-2026-{i:06d}", "title": "打印機卡紙", "channel": "hotline",
                     "service_code": "RS-REPAIR", "priority": "P3", "requester": {"name": "王小明"},
                     "reported_at": (now - timedelta(minutes=i % 40_000)).isoformat()},
            "keys": ['["tickets_created",["hotline","RS-REPAIR"]]'],
        })
        if len(batch) == 5_000:
            await coll.insert_many(batch, ordered=False)
            batch = []
    if batch:
        await coll.insert_many(batch, ordered=False)
    await client.close()


def ready_after(stack: Stack, names: list[str], timeout: float = 300.0) -> dict[str, float]:
    """Start `names` at once; seconds from each process start to its first /readyz 200."""
    started = {}
    for name in names:
        started[name] = time.monotonic()
        stack.service(name).start()
    out: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while len(out) < len(names) and time.monotonic() < deadline:
        for name in names:
            if name in out:
                continue
            try:
                if httpx.get(f"{stack.service(name).url}/readyz", timeout=1.0).status_code == 200:
                    out[name] = time.monotonic() - started[name]
            except httpx.HTTPError:
                pass
        time.sleep(0.05)
    return out


def seed(url: str, names: list[str], k: float) -> None:
    if "intake" in names:
        asyncio.run(fill(url, "opsdesk_intake", int(BASE_SIZES["intake"] * k)))
    if "sla-monitor" in names:
        window = datetime.now(UTC) + timedelta(days=1)
        asyncio.run(seed_timers(url, "opsdesk_sla_monitor", n=int(1_000_000 * k), due=0, window_start=window, window_s=1))
    if "assets" in names:
        asyncio.run(seed_assets(url, int(50_000 * k), int(200_000 * k)))
    if "dispatch" in names:
        asyncio.run(seed_dispatch(url, max(int(1_000 * k), 10), int(10_000 * k)))
    if "reporting" in names:
        asyncio.run(seed_reporting(url, int(100_000 * k)))


def phases(log: Path, offset: int) -> str:
    """The 'views loaded' line (seconds per start-up phase) the service logged since `offset`: where the time went."""
    if not log.exists():
        return ""
    with log.open("rb") as f:
        f.seek(offset)
        lines = f.read().decode(errors="replace").splitlines()
    return " ".join(line.strip()[-400:] for line in lines if "views loaded" in line)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every data size (default: the benchmarks' own)")
    parser.add_argument("--services", default=",".join(SERVICES), help="comma-separated services to seed and time (default: all)")
    parser.add_argument("--var", type=Path, default=None,
                        help="keep the stack's data here (seeded once; a later run with --no-seed reuses it)")
    parser.add_argument("--no-seed", action="store_true", help="the databases in --var are already filled")
    parser.add_argument("--no-together", action="store_true", help="skip the all-at-once start")
    parser.add_argument("--kill", action="store_true", help="end each start with SIGKILL (restarts after a crash)")
    parser.add_argument("--starts", type=int, default=2,
                        help="starts of each service alone: the first after seeding (no snapshot yet), then restarts")
    args = parser.parse_args()
    k = args.scale
    names = [n for n in args.services.split(",") if n]
    unknown = set(names) - set(SERVICES)
    if unknown:
        parser.error(f"unknown services {sorted(unknown)}")
    with tempfile.TemporaryDirectory(prefix="opsdesk-bench-ready-") as tmp:
        var = args.var or Path(tmp) / "var"
        stack = Stack(var_dir=var, extra_env={"DISPATCH_SEED_DEMO": "false"})
        stack.start_infra()
        assert stack.database is not None
        url = stack.database.url
        seeded_s = 0.0
        try:
            if not args.no_seed:
                seeding = time.perf_counter()
                seed(url, names, k)
                seeded_s = time.perf_counter() - seeding
            first: dict[str, float] = {}
            alone: dict[str, float] = {}
            for name in names:  # dependencies first is not needed: a service is ready without the others
                for start in range(max(args.starts, 1)):
                    log = var / "logs" / f"{name}.log"
                    offset = log.stat().st_size if log.exists() else 0
                    took = ready_after(stack, [name])
                    (first if start == 0 else alone).update(took)
                    if args.kill:
                        stack.service(name).kill()
                    stack.service(name).stop()
                    print(f"{name} start {start + 1}: {took.get(name)} s {phases(log, offset)}", flush=True)
                alone.setdefault(name, first.get(name, float("nan")))
            together = {} if args.no_together else ready_after(stack, names)
        finally:
            stack.stop()
    sizes = {
        "intake": f"{int(100_000 * k):,} tickets", "sla-monitor": f"{int(1_000_000 * k):,} open timers",
        "assets": f"{int(50_000 * k):,} items, {int(200_000 * k):,} relations",
        "dispatch": f"{max(int(1_000 * k), 10):,} engineers, {int(10_000 * k):,} open assignments",
        "reporting": f"{int(100_000 * k):,} projected events", "knowledge": "demo articles",
    }
    load = os.getloadavg()
    print(f"\nstart-to-ready (process start to /readyz 200), scale {k}; seeded in {seeded_s:.0f} s; "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M}, {platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}, "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print("| service | data at start | first start after seeding (s) | restart alone (s) | all at once (s) | within 10 s |")
    print("|---|---|---:|---:|---:|---|")
    for name in names:
        f, a, t = first.get(name), alone.get(name), together.get(name)
        ok = "yes" if a is not None and a <= 10 and (args.no_together or (t is not None and t <= 10)) else "no"
        cells = [x if x is None else round(x, 1) for x in (f, a, t)]
        print(f"| {name} | {sizes.get(name, '-')} | {cells[0]} | {cells[1]} | {cells[2]} | {ok} |")


if __name__ == "__main__":
    main()
