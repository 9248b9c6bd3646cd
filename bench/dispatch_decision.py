"""Dispatch decision latency with a large roster: the pure choice, and the whole assignment on the real database.

1,000 engineers (with duty rotas) and 10,000 open assignments already stored; each measured assignment is one
`ticket.created` turned into a stored assignment, a load update and a published `ticket.assigned`.
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

from authed import broker_as, start_bus, start_db

from dispatch import domain, service
from dispatch.adapters.mongo import MongoAssignmentStore, MongoRoster
from dispatch.duty import OFFICE_HOURS, PHONE_OUTSIDE_OFFICE
from opsdesk_shared.bus import JetStreamPublisher, declare_streams
from opsdesk_shared.contracts import Requester, TicketCreatedV1
from opsdesk_shared.mongo import connect
from opsdesk_shared.outbox import OutboxRelay

SKILLS = ["desktop", "printer", "network", "server", "application", "security"]


def roster(n: int, rng: random.Random) -> list[domain.Engineer]:
    return [
        domain.Engineer(
            id=f"eng-{i:04d}", name=f"engineer {i}", role="onsite" if i % 10 else "mobile",
            skills=tuple(rng.sample(SKILLS, 2)), open_load=rng.randint(0, 12), capacity=8,
            home_site=rng.choice(["主樓", "副樓"]), shifts=OFFICE_HOURS if i % 10 else OFFICE_HOURS + PHONE_OUTSIDE_OFFICE,
        )
        for i in range(n)
    ]


def ticket(i: int, rng: random.Random) -> TicketCreatedV1:
    return TicketCreatedV1(
        ticket_id=f"bench-{i:06d}-{rng.randrange(1 << 30)}", number=f"INC-2026-{i:06d}", title="bench", channel="hotline",
        service_code="RS-REPAIR", skill=rng.choice(SKILLS), requester=Requester(name="bench"), reported_at=datetime.now(UTC), site="主樓",
    )


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def on_database(engineers: list[domain.Engineer], *, open_assignments: int, measured: int, rng: random.Random) -> list[float]:
    var = Path(tempfile.mkdtemp(prefix="opsdesk-dispatch-bench-"))
    db_server = start_db(var / "db", "dispatch")
    nats_server = start_bus(var / "nats", "dispatch")
    client = connect(db_server.url_for("dispatch"))  # as dispatch itself: its own database user and NATS user
    broker = broker_as(nats_server, "dispatch", name="bench")
    try:
        db = client["opsdesk_dispatch"]
        await MongoRoster(db).seed(engineers)
        assignments = MongoAssignmentStore(db)
        await assignments.ensure_indexes()
        now = datetime.now(UTC)
        docs = []
        for i in range(open_assignments):
            e = engineers[i % len(engineers)]
            docs.append({"_id": f"open-{i}", "id": f"a-{i}", "ticket_number": f"INC-2025-{i:06d}", "engineer_id": e.id,
                         "engineer_name": e.name, "reason": "seeded", "score": 1.0, "assigned_at": now - timedelta(hours=1),
                         "status": "open", "_outbox": []})
        for start in range(0, len(docs), 5_000):
            await db["assignments"].insert_many(docs[start : start + 5_000])
        await broker.connect()
        await declare_streams(broker)
        roster_store = MongoRoster(db)
        relay = OutboxRelay(assignments.collection, JetStreamPublisher(broker))
        latencies = []
        for i in range(measured):
            t = ticket(i, rng)
            started = time.perf_counter()
            await service.assign_ticket(t, roster=roster_store, assignments=assignments, outbox=relay, now=datetime.now(UTC), correlation_id="bench", causation_id=None)
            latencies.append((time.perf_counter() - started) * 1000)
        return latencies
    finally:
        await broker.stop()
        await client.close()
        db_server.stop()
        nats_server.process.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engineers", type=int, default=1_000)
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--decisions", type=int, default=2_000)
    parser.add_argument("--assignments", type=int, default=500)
    args = parser.parse_args()
    rng = random.Random(7)
    engineers = roster(args.engineers, rng)
    at = datetime(2026, 11, 26, 2, 30, tzinfo=UTC)  # 10:30 on a Thursday in Shanghai
    pure = []
    for i in range(args.decisions):
        t = ticket(i, rng)
        started = time.perf_counter()
        domain.assign(t, engineers, now=at)
        pure.append((time.perf_counter() - started) * 1000)
    full = asyncio.run(on_database(engineers, open_assignments=args.open, measured=args.assignments, rng=rng))
    print(f"\nOpsdesk dispatch decision — {datetime.now().date()} — {platform.node()} ({os.cpu_count()} cores)")
    print(f"{args.engineers:,} engineers with duty rotas, {args.open:,} open assignments stored\n")
    print("| measured | count | p50 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    print(f"| choice only (pure domain) | {len(pure):,} | {pct(pure, 50):.2f} | {pct(pure, 99):.2f} | {max(pure):.2f} |")
    print(f"| whole assignment on FerretDB + JetStream | {len(full):,} | {pct(full, 50):.2f} | {pct(full, 99):.2f} | {max(full):.2f} |")


if __name__ == "__main__":
    main()
