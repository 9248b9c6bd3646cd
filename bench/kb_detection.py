"""Knowledge draining a burst of alike tickets (issue 14): problem detection on the real service.

Starts NATS, FerretDB and knowledge as processes (opsdesk_devstack.Stack), publishes N ticket.created at once as
intake would (the fault campaign's titles: printer jams in three wordings, VPN, blue screens; one in three naming one
of four assets), and times knowledge's `knowledge-ticket-created` durable until nothing is pending or unacknowledged.
Prints tickets/s drained per burst, the candidates built and the dead letters (must be 0). Bursts run one after the
other on one stack, so later bursts meet the candidates and buckets the earlier ones built, as a long outage would.

    .venv/bin/python bench/kb_detection.py [--bursts 50,200] [--timeout 900]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pymongo import MongoClient

from opsdesk_devstack.stack import Stack
from opsdesk_shared.bus import JetStreamPublisher, declare_streams, make_broker
from opsdesk_shared.bus_permissions import EVENTS_STREAM, inbox_prefix
from opsdesk_shared.contracts import Envelope, Requester, TicketCreatedV1

TITLES = ("打印機卡紙", "打印機卡紙，無法列印", "打印機卡紙 3 樓", "VPN 連不上", "電腦藍屏")
ASSET_TAGS = ("GZ-2026-000001", "GZ-2026-000002", "GZ-2026-000003", "GZ-2026-000004")
DURABLE = "knowledge-ticket-created"


async def publish_burst(stack: Stack, n: int, first: int) -> None:
    assert stack.nats is not None
    broker = make_broker(stack.nats.url, name="bench-kb-detection", user="intake", password=stack.nats.passwords["intake"])
    await broker.connect()
    await declare_streams(broker)
    publisher = JetStreamPublisher(broker)
    for i in range(first, first + n):
        ticket_id = str(uuid.uuid4())
        created = TicketCreatedV1(
            ticket_id=ticket_id, number=f"INC-2026-{i:06d}", title=TITLES[i % len(TITLES)], description=f"burst {i}",
            channel="hotline", service_code="RS-REPAIR", requester=Requester(name="王小明", department="辦公室"),
            reported_at=datetime.now(UTC), asset_tag=ASSET_TAGS[i % len(ASSET_TAGS)] if i % 3 == 0 else None,
        )
        await publisher.publish(Envelope.wrap(created, producer="intake", correlation_id=ticket_id, subject_id=ticket_id))
    await broker.stop()


async def behind(stack: Stack) -> int:
    assert stack.nats is not None
    nc = await nats.connect(stack.nats.url_for("knowledge"), inbox_prefix=inbox_prefix("knowledge").encode())
    try:
        info = await nc.jetstream().consumer_info(EVENTS_STREAM, DURABLE, timeout=10)
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)
    finally:
        await nc.close()


async def dead_letters(stack: Stack) -> int:
    nc = await nats.connect(stack.observer_url())
    count = 0
    try:
        sub = await nc.jetstream().pull_subscribe(
            "deadletter.>", durable=None, stream="OPSDESK_DEADLETTER",
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE),
        )
        while True:
            try:
                msgs = await sub.fetch(1000, timeout=1.0)
            except (nats.errors.TimeoutError, TimeoutError):
                break
            for m in msgs:
                with contextlib.suppress(ValueError):
                    count += json.loads(m.data).get("consumer") == DURABLE
    finally:
        await nc.close()
    return count


def candidates(stack: Stack) -> tuple[int, int]:
    assert stack.database is not None
    client: MongoClient[dict[str, Any]]
    with MongoClient(stack.database.url, serverSelectionTimeoutMS=10000) as client:
        docs: list[dict[str, Any]] = list(client.opsdesk_knowledge.problem_candidates.find({}, {"incident_ids": 1}))
    grouped: int = sum(len(d.get("incident_ids") or []) for d in docs)
    return len(docs), grouped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bursts", default="50,200", help="tickets per burst, run one after the other")
    parser.add_argument("--timeout", type=float, default=900.0, help="give up on a burst after this many seconds")
    args = parser.parse_args()
    rows = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="opsdesk-bench-kb-detection-") as tmp:
        stack = Stack(var_dir=Path(tmp) / "var")
        stack.start(("knowledge",), ready_timeout=180)
        try:
            first = 0
            for n in (int(x) for x in args.bursts.split(",")):
                load = os.getloadavg()[0]
                asyncio.run(publish_burst(stack, n, first))
                started = time.monotonic()
                left = n
                while (left := asyncio.run(behind(stack))) and time.monotonic() - started < args.timeout:
                    time.sleep(0.5)
                seconds = time.monotonic() - started
                groups, grouped = candidates(stack)
                rows.append((n, seconds, left, (n - left) / seconds, groups, grouped, asyncio.run(dead_letters(stack)), load))
                first += n
        finally:
            stack.stop()
    print(f"# Knowledge draining alike tickets; {platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, FerretDB v1.24.2 (SQLite), load {load_before:.1f} before")
    print("| burst (tickets) | drained in (s) | left | tickets/s | candidates (incidents in them) | dead letters (all so far) | 1-min load |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n, seconds, left, rate, groups, grouped, dead, load in rows:
        print(f"| {n} | {seconds:.1f} | {left} | {rate:.1f} | {groups} ({grouped}) | {dead} | {load:.1f} |")


if __name__ == "__main__":
    main()
