"""Dispatch end to end at a given rate: ticket.created published into JetStream at N per second (as intake would),
dispatch running as its own process on real NATS and FerretDB, ticket.assigned read back. Prints the latency from
each ticket.created to its ticket.assigned (the events' own timestamps) and whether dispatch kept up.

The gateway's own ceiling is measured by bench/intake_load.py; this isolates the dispatch step the issue names.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import nats
from intake_load import percentile
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from opsdesk_devstack.infra import Nats
from opsdesk_devstack.stack import Stack
from opsdesk_shared.bus import JetStreamPublisher, declare_streams, make_broker
from opsdesk_shared.contracts import Envelope, Requester, TicketCreatedV1


async def offer(bus: Nats, *, rate: float, seconds: float) -> tuple[set[str], float]:
    """Publish ticket.created at `rate` per second for `seconds`, as intake (its NATS user) would; returns the
    ticket ids and the rate achieved."""
    broker = make_broker(bus.url, name="bench-dispatch", user="intake", password=bus.passwords["intake"])
    await broker.connect()
    await declare_streams(broker)
    publisher = JetStreamPublisher(broker)
    ids: set[str] = set()
    total = int(rate * seconds)
    started = time.perf_counter()
    for n in range(total):
        due = started + n / rate
        if (wait := due - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        ticket_id = str(uuid.uuid4())
        created = TicketCreatedV1(
            ticket_id=ticket_id, number=f"INC-2026-{n:06d}", title="打印機卡紙", channel="hotline", service_code="RS-REPAIR",
            requester=Requester(name="王小明", department="辦公室"), reported_at=datetime.now(UTC), site="主樓",
        )
        await publisher.publish(Envelope.wrap(created, producer="intake", correlation_id=ticket_id, subject_id=ticket_id))
        ids.add(ticket_id)
    achieved = total / (time.perf_counter() - started)
    await broker.stop()
    return ids, achieved


async def stored_times(url: str, subject: str) -> dict[str, tuple[datetime, datetime]]:
    """ticket id -> (the event's occurred_at, when JetStream stored it); `url` carries the observer's credentials."""
    nc = await nats.connect(url)
    sub = await nc.jetstream().pull_subscribe(
        subject, durable=None, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE)
    )
    out: dict[str, tuple[datetime, datetime]] = {}
    while True:
        try:
            msgs = await sub.fetch(1000, timeout=1.0)
        except Exception:
            break
        for m in msgs:
            body = json.loads(m.data)
            out[body["data"]["ticket_id"]] = (datetime.fromisoformat(body["occurred_at"]), m.metadata.timestamp)
    await nc.close()
    return out


def assignment_latencies(url: str, ids: set[str]) -> tuple[list[float], int]:
    """From ticket.created's occurred_at to the moment ticket.assigned was stored in JetStream (ms): the decision,
    its database writes and the publish, plus any queueing while dispatch catches up."""
    created = {k: v for k, v in asyncio.run(stored_times(url, "ticket.created")).items() if k in ids}
    assigned = asyncio.run(stored_times(url, "ticket.assigned"))
    latencies = [(assigned[k][1] - created[k][0]).total_seconds() * 1000 for k in created if k in assigned]
    return latencies, len(created)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", default="50,100,200")
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    rows = []
    for rate in (float(r) for r in args.rates.split(",")):
        with tempfile.TemporaryDirectory(prefix="opsdesk-bench-dispatch-") as tmp:
            stack = Stack(var_dir=Path(tmp) / "var")
            stack.start(("dispatch",))
            try:
                assert stack.nats is not None
                ids, achieved = asyncio.run(offer(stack.nats, rate=rate, seconds=args.seconds))
                deadline = time.monotonic() + 120
                while True:  # wait until dispatch has worked through the queue (or gives up)
                    latencies, created = assignment_latencies(stack.observer_url(), ids)
                    if len(latencies) >= created or time.monotonic() > deadline:
                        break
                    time.sleep(1)
            finally:
                stack.stop()
        drained_s = max(latencies) / 1000 if latencies else float("nan")
        rows.append((rate, achieved, created, len(latencies), percentile(latencies, 50), percentile(latencies, 99), drained_s))
    print(f"# Dispatch end to end, ticket.created -> ticket.assigned; {platform.node()}, {os.cpu_count()} cores, "
          f"{datetime.now(UTC):%Y-%m-%d}, FerretDB v1.24.2 (SQLite), {args.seconds:.0f} s per rate")
    print("| offered/s | published/s | created | assigned | p50 ms | p99 ms | slowest s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for rate, achieved, created, assigned, p50, p99, slowest in rows:
        print(f"| {rate:.0f} | {achieved:.0f} | {created} | {assigned} | {p50:.0f} | {p99:.0f} | {slowest:.1f} |")


if __name__ == "__main__":
    main()
