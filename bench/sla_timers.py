"""SLA monitor at scale: N open timers in the database; the monitor's start-up load time and memory, and how late
breaches are published after their due time.

Timers are written straight into the monitor's collection (as its Mongo adapter writes them), most due weeks
ahead and `--due` of them spread over a window that opens once the monitor is up. Lateness is the JetStream
timestamp of each sla.breached message minus the timer's due time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pymongo import AsyncMongoClient

from opsdesk_devstack.stack import Stack
from sla_monitor.adapters.slots import slot_id


def timer_doc(i: int, due_at: datetime, started_at: datetime) -> dict[str, object]:
    ticket = f"bench-{i:07d}"
    return {
        "_id": f"{ticket}:response", "ticket_id": ticket, "name": "response", "status": "running",
        "started_at": started_at, "due_at": due_at, "warning_at": due_at - timedelta(minutes=12),
        "stopped_at": None, "breached_at": None, "correlation_id": ticket, "policy": "response",
        "calendar": "office-hours", "business_minutes": 60.0, "warned_at": started_at, "approximate": False,
        "_outbox": [],
    }


async def seed(url: str, database: str, *, n: int, due: int, window_start: datetime, window_s: float) -> float:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(url)
    timers = client[database]["timers"]
    slot_entries: dict[str, list[dict[str, object]]] = defaultdict(list)
    await timers.create_index([("status", 1), ("due_at", 1)])  # as the monitor's first start left it
    started = time.perf_counter()
    now = datetime.now(UTC)
    batch: list[dict[str, object]] = []
    for i in range(n):
        if i < due:
            due_at = window_start + timedelta(seconds=window_s * i / max(due, 1))
        else:
            due_at = now + timedelta(days=7 + (i % 30), seconds=i % 86_400)
        doc = timer_doc(i, due_at.replace(microsecond=(due_at.microsecond // 1000) * 1000), now - timedelta(hours=1))
        batch.append(doc)
        # The slot index the monitor's adapter keeps beside the timers (warnings already sent: none to index).
        slot_entries[slot_id("t", doc["due_at"])].append({"k": doc["_id"], "t": int(doc["due_at"].timestamp() * 1000), "w": None})  # type: ignore[attr-defined]
        if len(batch) == 10_000:
            await timers.insert_many(batch, ordered=False)
            batch = []
    if batch:
        await timers.insert_many(batch, ordered=False)
    slots = client[database]["timer_slots"]
    docs = [{"_id": sid, "entries": entries} for sid, entries in slot_entries.items()]
    for start in range(0, len(docs), 10_000):
        await slots.insert_many(docs[start : start + 10_000], ordered=False)
    # As if a monitor had been running until a moment ago.
    await slots.insert_one({"_id": "watermark", "swept_until": now - timedelta(seconds=30)})
    await client.close()
    return time.perf_counter() - started


async def breach_lateness(url: str, *, want: int, timeout_s: float) -> list[float]:
    nc = await nats.connect(url)
    js = nc.jetstream()
    sub = await js.pull_subscribe(
        "sla.breached", durable=None, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE)
    )
    import json

    lateness: list[float] = []
    deadline = time.monotonic() + timeout_s
    while len(lateness) < want and time.monotonic() < deadline:
        try:
            msgs = await sub.fetch(min(1000, want - len(lateness)), timeout=1.0)
        except Exception:
            continue
        for m in msgs:
            due_at = datetime.fromisoformat(json.loads(m.data)["data"]["due_at"])
            lateness.append((m.metadata.timestamp - due_at).total_seconds() * 1000)
    await nc.close()
    return lateness


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timers", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=2_000, help="timers falling due in the measured window")
    parser.add_argument("--window", type=float, default=20.0, help="seconds over which those fall due")
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="opsdesk-sla-bench-"))
    stack = Stack(var_dir=var, extra_env={"SLA_SWEEP_INTERVAL_S": "0.1"})
    stack.start_infra()
    assert stack.nats and stack.database
    try:
        # The window opens well after the expected load, so every due timer is already in the monitor's queue.
        budget_s = 30 + args.timers / 20_000
        window_start = datetime.now(UTC) + timedelta(seconds=budget_s + 60)
        seed_s = asyncio.run(seed(stack.database.url, "opsdesk_sla_monitor", n=args.timers, due=args.due, window_start=window_start, window_s=args.window))
        monitor = stack.service("sla-monitor")
        t0 = time.perf_counter()
        monitor.start()
        monitor.wait_ready(timeout=600)
        load_s = time.perf_counter() - t0
        assert monitor.process is not None
        rss = rss_mib(monitor.process.proc.pid)
        wait = (window_start - datetime.now(UTC)).total_seconds() + args.window
        lateness = breach_lateness(stack.observer_url(), want=args.due, timeout_s=wait + 60) if wait > -args.window else []
        lateness = asyncio.run(lateness) if asyncio.iscoroutine(lateness) else lateness
        rss_after = rss_mib(monitor.process.proc.pid)
    finally:
        stack.stop()

    print(f"\nOpsdesk SLA monitor at scale — {datetime.now().date()} — {platform.node()} ({os.cpu_count()} cores), "
          f"database {stack.database.kind if stack.database else '?'}")
    print("| open timers | seeding (s) | start-up to ready (s) | RSS after load (MiB) | RSS after breaches (MiB) "
          "| breaches published | lateness p50 (ms) | lateness p99 (ms) | max (ms) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.timers:,} | {seed_s:.1f} | {load_s:.1f} | {rss:.0f} | {rss_after:.0f} | {len(lateness)}/{args.due} "
          f"| {pct(lateness, 50):.0f} | {pct(lateness, 99):.0f} | {max(lateness, default=float('nan')):.0f} |")
    if lateness:
        print(f"mean lateness {statistics.mean(lateness):.0f} ms")


if __name__ == "__main__":
    main()
