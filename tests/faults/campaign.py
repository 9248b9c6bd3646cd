"""The fault campaign of issue 14 on the real stack: careful clients file tickets through the gateway at a steady
rate (each retrying with its own Idempotency-Key until answered), while services, NATS and the database are killed
with SIGKILL and started again in turn; then, once the system has settled, what every part holds is read back and
judged by checks.py.

The campaign reads the source and the views where they live: intake's tickets, dispatch's assignments and loads,
the SLA monitor's timers and assets' ticket view from the database (administrator's connection), the gateway's
search and reporting's tally over HTTP, events and dead letters from JetStream as the read-only observer."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pymongo import AsyncMongoClient

from opsdesk_devstack.faults import crash_and_restart
from opsdesk_devstack.stack import Stack

from .checks import Attempt, ClientOutcome, Observed, evaluate

# Alike tickets on purpose: a burst of the same fault is what an outage looks like (issue 14 item 1).
TITLES = ("打印機卡紙", "打印機卡紙，無法列印", "打印機卡紙 3 樓", "VPN 連不上", "電腦藍屏")
ASSET_TAGS = ("GZ-2026-000001", "GZ-2026-000002", "GZ-2026-000003", "GZ-2026-000004")


@dataclass(frozen=True)
class Profile:
    name: str
    rate: float  # tickets per second
    seconds: float  # of load
    faults: tuple[tuple[float, str], ...]  # (seconds after the load started, service name, "nats" or "database")
    down_s: float = 1.5  # how long a killed part stays down
    settle_s: float = 30.0  # after the last answer, how long the views may take to agree with the source
    client_deadline_s: float = 120.0  # a careful client gives up this long after its first try


SHORT = Profile("short", rate=3, seconds=30, faults=((5, "dispatch"), (14, "nats"), (22, "intake")), settle_s=25)
LONG = Profile(
    "long", rate=10, seconds=210,
    faults=((10, "dispatch"), (35, "sla-monitor"), (60, "knowledge"), (85, "reporting"), (110, "assets"), (135, "intake"),
            (160, "nats"), (185, "database")),
    settle_s=60, client_deadline_s=240.0,
)


@dataclass
class FaultRecord:
    target: str
    at_s: float
    ready_after_s: float  # from the restart to every service answering /readyz 200 again
    error: str = ""


@dataclass
class CampaignResult:
    profile: Profile
    results: dict[str, list[str]]
    faults: list[FaultRecord]
    tickets: int
    settled_after_s: float | None
    achieved_rate: float
    observed: Observed
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(self.results.values())


def ticket_body(n: int, marker: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": TITLES[n % len(TITLES)], "description": marker, "requester": {"name": "王小明", "department": "辦公室"},
        "channel": "hotline", "service_code": "RS-REPAIR",
    }
    if n % 3 == 0:
        body["asset_tag"] = ASSET_TAGS[n % len(ASSET_TAGS)]
    return body


async def careful_client(http: httpx.AsyncClient, stack: Stack, *, n: int, run_id: str, deadline_s: float) -> ClientOutcome:
    """Files one ticket, retrying with the same Idempotency-Key on no answer, 5xx and 409/429 until answered."""
    key, marker = f"{run_id}-{n}", f"campaign:{run_id}:{n}"
    outcome = ClientOutcome(key=key, marker=marker)
    body = ticket_body(n, marker)
    headers = {"Authorization": f"Bearer {stack.token}", "Idempotency-Key": key}
    give_up = time.monotonic() + deadline_s
    delay = 0.3
    while True:
        wait = delay
        try:
            r = await http.post(f"{stack.gateway}/api/v1/tickets", json=body, headers=headers)
        except httpx.HTTPError as exc:
            outcome.attempts.append(Attempt(key, None, type(exc).__name__))
        else:
            tid = None
            if r.status_code in (200, 201):
                with contextlib.suppress(ValueError, AttributeError):
                    tid = r.json().get("id")
            outcome.attempts.append(Attempt(key, r.status_code, "" if r.is_success else r.text[:200], tid))
            if r.is_success or (r.status_code < 500 and r.status_code not in (409, 429)):
                return outcome
            with contextlib.suppress(ValueError):
                wait = max(wait, min(float(r.headers.get("Retry-After", "0")), 5.0))
        if time.monotonic() + wait > give_up:
            return outcome
        await asyncio.sleep(wait)
        delay = min(delay * 2, 3.0)


async def run_faults(stack: Stack, profile: Profile, t0: float, records: list[FaultRecord]) -> None:
    for at, target in profile.faults:
        if (wait := t0 + at - time.monotonic()) > 0:
            await asyncio.sleep(wait)
        killed_at = round(time.monotonic() - t0, 1)
        try:
            ready = await asyncio.to_thread(crash_and_restart, stack, target, down_s=profile.down_s)
            records.append(FaultRecord(target, killed_at, round(ready, 1)))
        except Exception as exc:  # recorded and shown: a part that did not come back fails the campaign
            records.append(FaultRecord(target, killed_at, -1.0, f"{type(exc).__name__}: {exc}"[:300]))


async def drive_load(stack: Stack, profile: Profile, run_id: str) -> tuple[list[ClientOutcome], list[FaultRecord], float]:
    records: list[FaultRecord] = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=16)
    # No pool timeout: a client waiting for a connection is waiting, not failing (its own deadline decides).
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(10.0, pool=None)) as http:
        t0 = time.monotonic()
        faults = asyncio.create_task(run_faults(stack, profile, t0, records))
        clients: list[asyncio.Task[ClientOutcome]] = []
        total = int(profile.rate * profile.seconds)
        for n in range(total):
            if (wait := t0 + n / profile.rate - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            clients.append(asyncio.create_task(careful_client(http, stack, n=n, run_id=run_id, deadline_s=profile.client_deadline_s)))
        achieved = total / max(time.monotonic() - t0, 1e-6)
        outcomes = list(await asyncio.gather(*clients))
        await faults
    return outcomes, records, achieved


async def read_stream(url: str, stream: str, subject: str) -> list[tuple[str, dict[str, Any]]]:
    """Every message of `subject` in `stream`, as (subject, body), through an ephemeral consumer of the observer."""
    nc = await nats.connect(url, connect_timeout=5)
    out: list[tuple[str, dict[str, Any]]] = []
    try:
        sub = await nc.jetstream().pull_subscribe(
            subject, durable=None, stream=stream,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE),
        )
        while True:
            try:
                msgs = await sub.fetch(1000, timeout=1.0)
            except (nats.errors.TimeoutError, TimeoutError):
                break
            for m in msgs:
                with contextlib.suppress(ValueError):
                    out.append((m.subject, json.loads(m.data)))
    finally:
        await nc.close()
    return out


async def observe(stack: Stack, clients: list[ClientOutcome]) -> Observed:
    assert stack.database is not None
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.database.url, serverSelectionTimeoutMS=10000, tz_aware=True)
    try:
        stored: dict[str, tuple[str, int, str, str | None]] = {}
        async for t in mongo.opsdesk_intake.tickets.find({}, {"status": 1, "version": 1, "description": 1, "asset_tag": 1}):
            desc = t.get("description") or ""
            stored[t["_id"]] = (t["status"], int(t["version"]), desc if desc.startswith("campaign:") else "", t.get("asset_tag"))
        assignments = {
            a["_id"]: (a["engineer_id"], a["status"])
            async for a in mongo.opsdesk_dispatch.assignments.find({}, {"engineer_id": 1, "status": 1})
        }
        loads = {e["_id"]: int(e.get("open_load", 0)) async for e in mongo.opsdesk_dispatch.engineers.find({}, {"open_load": 1})}
        timed = {t["ticket_id"] async for t in mongo.opsdesk_sla_monitor.timers.find({}, {"ticket_id": 1})}
        assets_view: dict[str, str] = {}
        async for doc in mongo.opsdesk_assets.asset_links.find({"tickets": {"$exists": True}}, {"tickets": 1}):
            for tid, entry in (doc.get("tickets") or {}).items():
                assets_view[tid] = entry.get("status", "")
        outboxes: list[tuple[str, str, Any, int]] = []
        for db_name in await mongo.list_database_names():
            if not db_name.startswith("opsdesk_"):
                continue
            db = mongo[db_name]
            for coll in await db.list_collection_names():
                async for doc in db[coll].find({"_outbox": {"$exists": True, "$ne": []}}, {"_outbox": 1}):
                    outboxes.append((db_name, coll, doc["_id"], len(doc.get("_outbox") or [])))
    finally:
        await mongo.close()

    search: dict[str, tuple[str, int]] = {}
    async with httpx.AsyncClient(timeout=15.0) as http:
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            r = await http.get(f"{stack.gateway}/api/v1/tickets", params=params, headers={"Authorization": f"Bearer {stack.token}"})
            r.raise_for_status()
            page = r.json()
            search.update({i["id"]: (i["status"], int(i["version"])) for i in page["items"]})
            cursor = page.get("next_cursor")
            if not cursor:
                break
        summary = (await http.get(f"{stack.service('reporting').url}/api/v1/summary", auth=stack.internal_auth("reporting"))).json()
    created = sum(int(row["count"]) for row in summary.get("tickets_created", []))
    assigned_by: dict[str, int] = defaultdict(int)
    for row in summary.get("tickets_assigned", []):
        assigned_by[row["labels"]["engineer_id"]] += int(row["count"])

    url = stack.observer_url()
    created_events = {body["data"]["ticket_id"] for _s, body in await read_stream(url, "OPSDESK_EVENTS", "ticket.created")}
    assigned_events: dict[str, set[str]] = defaultdict(set)
    for _s, body in await read_stream(url, "OPSDESK_EVENTS", "ticket.assigned"):
        assigned_events[body["data"]["ticket_id"]].add(body["event_id"])
    dead = [
        (body.get("subject", subject), body.get("consumer", ""), body.get("reason", ""), body.get("error", ""))
        for subject, body in await read_stream(url, "OPSDESK_DEADLETTER", "deadletter.>")
    ]
    return Observed(
        clients=clients, stored=stored, search=search, assignments=assignments, loads=loads, reporting_created=created,
        reporting_assigned=dict(assigned_by), assets_view=assets_view, assigned_events=dict(assigned_events),
        created_events=created_events, dead_letters=dead, outboxes=outboxes, timed=timed,
    )


async def settle(stack: Stack, clients: list[ClientOutcome], settle_s: float) -> tuple[Observed, dict[str, list[str]], float | None]:
    """Reads back until every check holds or `settle_s` passed; returns the last reading and when it first held."""
    started = time.monotonic()
    while True:
        observed = await observe(stack, clients)
        results = evaluate(observed)
        if not any(results.values()):
            return observed, results, time.monotonic() - started
        if time.monotonic() - started >= settle_s:
            return observed, results, None
        await asyncio.sleep(2.0)


def run_campaign(stack: Stack, profile: Profile, *, log: Callable[[str], None] = print) -> CampaignResult:
    """The whole campaign on a started stack."""
    run_id = uuid.uuid4().hex[:8]
    log(f"fault campaign {profile.name}: {profile.rate}/s for {profile.seconds:.0f}s, faults {[t for _a, t in profile.faults]}")
    clients, faults, achieved = asyncio.run(drive_load(stack, profile, run_id))
    observed, results, settled = asyncio.run(settle(stack, clients, profile.settle_s))
    retried = sum(1 for c in clients if len(c.attempts) > 1)
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    result = CampaignResult(
        profile=profile, results=results, faults=faults, tickets=len(observed.stored), settled_after_s=settled,
        achieved_rate=achieved, observed=observed,
        notes={
            "tickets stored": str(len(observed.stored)), "clients": str(len(clients)), "clients that retried": str(retried),
            "503 answers": str(sum(1 for c in clients for a in c.attempts if a.status == 503)),
            "no-answer attempts": str(sum(1 for c in clients for a in c.attempts if a.status is None)),
            "rate achieved": f"{achieved:.1f}/s",
            "machine load (1/5/15 min) at the end": f"{load} on {os.cpu_count()} CPUs",
            "settled after": f"{settled:.1f}s" if settled is not None else f"not within {profile.settle_s:.0f}s",
            "faults (target killed @s: all ready s after its restart)": ", ".join(
                f"{f.target}@{f.at_s}: {f.ready_after_s}s{' ' + f.error if f.error else ''}" for f in faults
            ),
        },
    )
    return result
