"""Intake load benchmark: all services running on real NATS and the database, wrk driving POST /api/v1/tickets.

Prints, per concurrency: tickets/s accepted, p50/p99 of the POST, and p50/p99 from ticket.created to ticket.assigned
(from the events' own timestamps), beside the ceiling wrk reaches on an empty FastAPI endpoint.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import httpx
import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from opsdesk_devstack.infra import free_port, wait_for_port
from opsdesk_devstack.stack import Stack

HERE = Path(__file__).parent


def wrk(url: str, *, connections: int, seconds: int, env: dict[str, str]) -> dict[str, float]:
    threads = max(1, min(2, connections))
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", str(HERE / "post_ticket.lua"), url],
        capture_output=True, text=True, env={**os.environ, **env}, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: .*", out)

    def pct(p: str) -> float:
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)\b", out)
        assert m, out
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    return {
        "rps": rps, "total": total, "non2xx": int(bad.group(1)) if bad else 0, "p50": pct("50"), "p99": pct("99"),
        "socket_errors": 1.0 if errors else 0.0,
    }


async def read_subject(url: str, subject: str) -> list[dict[str, object]]:
    import json

    nc = await nats.connect(url)
    js = nc.jetstream()
    sub = await js.pull_subscribe(subject, durable=None, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE))
    out: list[dict[str, object]] = []
    while True:
        try:
            msgs = await sub.fetch(1000, timeout=1.0)
        except Exception:
            break
        out.extend(json.loads(m.data) for m in msgs)
    await nc.close()
    return out


def assignment_latencies(url: str, run_ids: set[str]) -> tuple[list[float], int]:
    created = asyncio.run(read_subject(url, "ticket.created"))
    assigned = asyncio.run(read_subject(url, "ticket.assigned"))
    created_at = {
        e["data"]["ticket_id"]: datetime.fromisoformat(str(e["occurred_at"]))  # type: ignore[index]
        for e in created if e["data"]["ticket_id"] in run_ids  # type: ignore[index]
    }
    latencies = [
        (datetime.fromisoformat(str(e["occurred_at"])) - created_at[e["data"]["ticket_id"]]).total_seconds() * 1000  # type: ignore[index]
        for e in assigned if e["data"]["ticket_id"] in created_at  # type: ignore[index]
    ]
    return latencies, len(created_at)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def empty_ceiling(seconds: int, connections: int) -> float:
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(HERE / "empty_app.py"), str(port)])
    try:
        wait_for_port(port, proc=proc, name="empty app")
        return wrk(f"http://127.0.0.1:{port}/api/v1/tickets", connections=connections, seconds=seconds, env={"OPSDESK_TOKEN": "x"})["rps"]
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--levels", default="1,8,32")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench needs wrk (Debian package 'wrk'): apt-get install -y wrk")
    levels = [int(x) for x in args.levels.split(",")]

    ceiling = empty_ceiling(args.seconds, 8)
    var = Path(tempfile.mkdtemp(prefix="opsdesk-bench-"))
    stack = Stack(var_dir=var)
    stack.start()
    rows = []
    try:
        assert stack.nats is not None and stack.database is not None
        seen: set[str] = set()
        for level in levels:
            run = uuid.uuid4().hex[:8]
            result = wrk(f"{stack.gateway}/api/v1/tickets", connections=level, seconds=args.seconds, env={"OPSDESK_TOKEN": stack.token, "OPSDESK_RUN": run})
            # Let dispatch drain its backlog, then read both subjects back.
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                created = asyncio.run(read_subject(stack.nats.url, "ticket.created"))
                ids = {e["data"]["ticket_id"] for e in created} - seen  # type: ignore[index]
                lat, n = assignment_latencies(stack.nats.url, ids)
                if len(lat) >= n:
                    break
                time.sleep(1)
            seen |= ids
            rows.append((level, result, lat, n))
    finally:
        stack.stop()
        shutil.rmtree(var, ignore_errors=True)

    print(f"\nOpsdesk intake load — {datetime.now().date()} — {platform.node()} ({os.cpu_count()} cores), database {stack.database.kind if stack.database else '?'}")
    print(f"wrk ceiling on an empty FastAPI endpoint (8 connections): {ceiling:,.0f} req/s\n")
    print("| concurrency | tickets/s accepted | non-2xx | POST p50 ms | POST p99 ms | created→assigned p50 ms | created→assigned p99 ms | assigned/created |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for level, r, lat, n in rows:
        print(f"| {level} | {r['rps']:,.0f} | {int(r['non2xx'])} | {r['p50']:.1f} | {r['p99']:.1f} | {percentile(lat, 50):.1f} | {percentile(lat, 99):.1f} | {len(lat)}/{n} |")


if __name__ == "__main__":
    main()
