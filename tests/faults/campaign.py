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
import platform
import time
import uuid
from collections import Counter, defaultdict
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
    # A careful client keeps retrying with its Idempotency-Key until answered; it gives up only this long after the
    # load has ended (a stack that still answers nothing then is unavailable, which the check reports).
    client_grace_s: float = 120.0
    # The load goes on at least this long after the last fault's part is ready again, so every restart meets load.
    tail_s: float = 10.0
    # Adaptive rate: no new ticket while this many seconds of load (rate x this) are still unanswered; on a machine
    # that cannot sustain the rate the campaign files what the stack answers (and says so), never skipping a fault.
    in_flight_s: float = 10.0
    # After the load, the services' consumers may work through their backlog this long (as long as it shrinks)
    # before settle_s starts: a loaded machine lags, and lag is not a differing view.
    drain_max_s: float = 300.0
    # Then every durable consumer must be quiet (nothing pending or unacknowledged) before a reading is judged, at
    # most this long (checks judge a settled system; lag is not a differing view).
    quiet_max_s: float = 300.0
    answer_timeout_s: float = 60.0  # how long a careful client waits for one answer before it sends again
    # A killed part must come back (every service ready again) within this, or the campaign fails; generous because
    # the next fault must not meet a stack still starting. How fast it came back is printed beside the machine's load
    # (readiness within 10 s at the benchmark's sizes is measured on a quiet machine by bench/start_to_ready.py).
    ready_timeout_s: float = 300.0

    @property
    def max_in_flight(self) -> int:
        return max(8, int(self.rate * self.in_flight_s))


SHORT = Profile("short", rate=3, seconds=30, faults=((5, "dispatch"), (14, "nats"), (22, "intake")), settle_s=25,
                drain_max_s=120, quiet_max_s=60)
LONG = Profile(
    "long", rate=10, seconds=210,
    faults=((10, "dispatch"), (35, "sla-monitor"), (60, "knowledge"), (85, "reporting"), (110, "assets"), (135, "intake"),
            (160, "nats"), (185, "database")),
    settle_s=60, client_grace_s=180.0,
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


@dataclass
class GiveUp:
    """When careful clients stop retrying: never while the load runs, `client_grace_s` after it ended."""

    at: float = float("inf")


async def careful_client(http: httpx.AsyncClient, stack: Stack, *, n: int, run_id: str, give_up: GiveUp) -> ClientOutcome:
    """Files one ticket, retrying with the same Idempotency-Key on no answer, 5xx and 409/429 until answered (or the
    campaign's give-up time, long after the load ended)."""
    key, marker = f"{run_id}-{n}", f"campaign:{run_id}:{n}"
    outcome = ClientOutcome(key=key, marker=marker)
    body = ticket_body(n, marker)
    headers = {"Authorization": f"Bearer {stack.token}", "Idempotency-Key": key}
    delay = 0.3
    while True:
        wait = delay
        sent = time.monotonic()
        try:
            r = await http.post(f"{stack.gateway}/api/v1/tickets", json=body, headers=headers)
        except httpx.HTTPError as exc:
            outcome.attempts.append(Attempt(key, None, type(exc).__name__, seconds=time.monotonic() - sent))
        else:
            tid = None
            if r.status_code in (200, 201):
                with contextlib.suppress(ValueError, AttributeError):
                    tid = r.json().get("id")
            outcome.attempts.append(Attempt(key, r.status_code, "" if r.is_success else r.text[:200], tid, time.monotonic() - sent))
            if r.is_success or (r.status_code < 500 and r.status_code not in (409, 429)):
                return outcome
            with contextlib.suppress(ValueError):
                wait = max(wait, min(float(r.headers.get("Retry-After", "0")), 5.0))
        if time.monotonic() + wait > give_up.at:
            return outcome
        await asyncio.sleep(wait)
        delay = min(delay * 2, 3.0)


async def run_faults(stack: Stack, profile: Profile, t0: float, records: list[FaultRecord], log: Callable[[str], None]) -> None:
    for at, target in profile.faults:
        if (wait := t0 + at - time.monotonic()) > 0:
            await asyncio.sleep(wait)
        killed_at = round(time.monotonic() - t0, 1)
        log(f"  {killed_at:6.1f}s kill {target} at {time.strftime('%H:%M:%S', time.gmtime())} UTC")
        try:
            ready = await asyncio.to_thread(crash_and_restart, stack, target, down_s=profile.down_s, ready_timeout=profile.ready_timeout_s)
            records.append(FaultRecord(target, killed_at, round(ready, 1)))
        except Exception as exc:  # recorded and shown: a part that did not come back fails the campaign
            records.append(FaultRecord(target, killed_at, -1.0, f"{type(exc).__name__}: {exc}"[:300]))
        log(f"  {time.monotonic() - t0:6.1f}s {target} back, all ready after {records[-1].ready_after_s}s {records[-1].error}")


@dataclass
class LoadRecord:
    """How the load went, so a run on a loaded machine is read as such."""

    seconds: float = 0.0  # of load (first ticket to the last one started)
    started: int = 0  # careful clients started (one ticket each)
    held_s: float = 0.0  # time no new ticket started because max_in_flight were unanswered (adaptive rate)
    peak_in_flight: int = 0
    load_avg: list[tuple[float, float]] = field(default_factory=list)  # (seconds since start, 1-minute load average)

    @property
    def rate(self) -> float:
        return self.started / max(self.seconds, 1e-6)


def percentiles(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    at = [ordered[min(len(ordered) - 1, int(q * len(ordered)))] for q in (0.5, 0.95)]
    return f"{at[0]:.2f}s / {at[1]:.2f}s / {ordered[-1]:.2f}s"


def machine() -> str:
    return f"{platform.node()} ({os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()})"


async def drive_load(
    stack: Stack, profile: Profile, run_id: str, log: Callable[[str], None] = print,
) -> tuple[list[ClientOutcome], list[FaultRecord], LoadRecord]:
    """Files tickets at the profile's rate until its time is up and every fault has come back (plus tail_s), at most
    max_in_flight unanswered at once: when the stack answers slower than the rate, the rate follows the answers."""
    records: list[FaultRecord] = []
    load = LoadRecord()
    give_up = GiveUp()
    cap = profile.max_in_flight
    limits = httpx.Limits(max_connections=cap + 8, max_keepalive_connections=16)
    # No pool timeout: a client waiting for a connection is waiting, not failing (the pool is larger than the cap).
    # A careful client waits answer_timeout_s for its answer before it sends again: abandoning a request the gateway
    # still works on and sending it anew only doubles the work of a loaded machine (the second is a replay).
    timeout = httpx.Timeout(profile.answer_timeout_s, connect=10.0, pool=None)
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as http:
        t0 = time.monotonic()
        faults = asyncio.create_task(run_faults(stack, profile, t0, records, log))
        clients: list[asyncio.Task[ClientOutcome]] = []
        in_flight: set[asyncio.Task[ClientOutcome]] = set()
        next_at, next_sample, faults_done_at = t0, t0, None
        while True:
            now = time.monotonic()
            if now >= next_sample:
                load.load_avg.append((round(now - t0, 1), os.getloadavg()[0]))
                next_sample += 10.0
                log(f"  {now - t0:6.1f}s {len(clients)} tickets started, {len(in_flight)} unanswered, "
                    f"load {os.getloadavg()[0]:.1f}")
            if faults.done() and faults_done_at is None:
                faults_done_at = now
            if now - t0 >= profile.seconds and faults_done_at is not None and now - faults_done_at >= profile.tail_s:
                break
            if len(in_flight) >= cap:  # the stack answers slower than the rate: wait for answers, not the clock
                held = time.monotonic()
                await asyncio.wait(in_flight, timeout=0.5, return_when=asyncio.FIRST_COMPLETED)
                load.held_s += time.monotonic() - held
                next_at = max(next_at, time.monotonic())
                continue
            if (wait := next_at - now) > 0:
                await asyncio.sleep(min(wait, 0.5))
                continue
            task = asyncio.create_task(careful_client(http, stack, n=len(clients), run_id=run_id, give_up=give_up))
            clients.append(task)
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            load.peak_in_flight = max(load.peak_in_flight, len(in_flight))
            next_at += 1 / profile.rate
        load.seconds, load.started = time.monotonic() - t0, len(clients)
        give_up.at = time.monotonic() + profile.client_grace_s
        log(f"  {load.seconds:6.1f}s load ended: {load.started} tickets ({load.rate:.1f}/s), {len(in_flight)} unanswered; "
            f"they retry for up to {profile.client_grace_s:.0f}s more")
        outcomes = list(await asyncio.gather(*clients))
        await faults
    load.load_avg.append((round(time.monotonic() - t0, 1), os.getloadavg()[0]))
    return outcomes, records, load


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


async def consumers_behind(stack: Stack) -> dict[str, tuple[int, int]]:
    """Each service's durable consumers still holding work: durable -> (pending, delivered but unacknowledged).
    Read with each service's own NATS user (allowed CONSUMER.INFO on its own durables), so a view that has not
    caught up reads as lag, not as a lost event. Not a check: the views' own checks decide; this says why."""
    from opsdesk_shared.bus_permissions import EVENTS_STREAM, ROLES, inbox_prefix

    assert stack.nats is not None
    behind: dict[str, tuple[int, int]] = {}
    for service, role in ROLES.items():
        if not role.consumes:
            continue
        nc = await nats.connect(stack.nats.url_for(service), connect_timeout=5, inbox_prefix=inbox_prefix(service).encode())
        try:
            js = nc.jetstream()
            for consumer in role.consumes:
                with contextlib.suppress(Exception):  # a durable not bound yet reads as nothing behind
                    info = await js.consumer_info(EVENTS_STREAM, consumer.durable, timeout=5)
                    if info.num_pending or info.num_ack_pending:
                        behind[consumer.durable] = (int(info.num_pending or 0), int(info.num_ack_pending or 0))
        finally:
            await nc.close()
    return behind


async def observe(stack: Stack, clients: list[ClientOutcome]) -> Observed:
    assert stack.database is not None
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.database.url, serverSelectionTimeoutMS=10000, tz_aware=True)
    try:
        stored: dict[str, tuple[str, int, str, str | None]] = {}
        stored_updated: dict[str, str] = {}
        async for t in mongo.opsdesk_intake.tickets.find(
            {}, {"status": 1, "version": 1, "description": 1, "asset_tag": 1, "updated_at": 1, "created_at": 1}
        ):
            stored_updated[t["_id"]] = str(t.get("updated_at") or t.get("created_at"))
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
    search_updated: dict[str, str] = {}
    async with httpx.AsyncClient(timeout=15.0) as http:
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            r = await http.get(f"{stack.gateway}/api/v1/tickets", params=params, headers={"Authorization": f"Bearer {stack.token}"})
            r.raise_for_status()
            page = r.json()
            search.update({i["id"]: (i["status"], int(i["version"])) for i in page["items"]})
            search_updated.update({i["id"]: str(i.get("updated_at")) for i in page["items"]})
            cursor = page.get("next_cursor")
            if not cursor:
                break
        summary = (await http.get(f"{stack.service('reporting').url}/api/v1/summary", auth=stack.internal_auth("reporting"))).json()
    # The source again, after the view, for the tickets whose first reading differed (checks.stale_search: search
    # is written after the store, so a view read later may be ahead of an older source reading, never of the source).
    differ = [tid for tid, (status, version, _m, _t) in stored.items() if search.get(tid, (status, version)) != (status, version)]
    stored_after: dict[str, tuple[str, int]] = {}
    if differ:
        mongo = AsyncMongoClient(stack.database.url, serverSelectionTimeoutMS=10000, tz_aware=True)
        try:
            async for t in mongo.opsdesk_intake.tickets.find({"_id": {"$in": differ}}, {"status": 1, "version": 1, "updated_at": 1}):
                stored_after[t["_id"]] = (t["status"], int(t["version"]))
                stored_updated[t["_id"]] = f"{t.get('updated_at')} (read again after search)"
        finally:
            await mongo.close()
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
        created_events=created_events, dead_letters=dead, outboxes=outboxes, timed=timed, stored_after=stored_after,
        details={
            tid: f"search v{search[tid][1]} updated {search_updated.get(tid)}, stored v{stored_after.get(tid, (_s, v))[1]} "
                 f"updated {stored_updated.get(tid)}"
            for tid, (_s, v, _m, _t) in stored.items() if tid in search and search[tid][1] != stored_after.get(tid, (_s, v))[1]
        },
    )


async def drain(stack: Stack, *, max_s: float, stall_s: float = 30.0, log: Callable[[str], None] = print) -> tuple[float, int, str]:
    """Waits while the services' durable consumers still work through what the load left them, as long as they make
    progress (a backlog shrinking within `stall_s`) and at most `max_s`. On a loaded machine the stack may need minutes
    to catch up; that is lag, read as such, not a view that differs. Returns (seconds, backlog at the start, how it
    ended): "drained", "stalled" (nothing moved for stall_s: a stuck consumer, the checks will show what) or "max"."""
    started = time.monotonic()
    behind = await consumers_behind(stack)
    first = sum(p + u for p, u in behind.values())
    best, best_at = first, started
    while behind:
        now = time.monotonic()
        total = sum(p + u for p, u in behind.values())
        if total < best:
            best, best_at = total, now
        if now - best_at >= stall_s:
            return now - started, first, "stalled"
        if now - started >= max_s:
            return now - started, first, "max"
        log(f"  draining at {now - started:5.1f}s: {total} messages behind {dict(sorted(behind.items()))}")
        await asyncio.sleep(5.0)
        behind = await consumers_behind(stack)
    return time.monotonic() - started, first, "drained"


async def settle(
    stack: Stack, clients: list[ClientOutcome], settle_s: float, log: Callable[[str], None] = print,
    quiet_max_s: float = 300.0,
) -> tuple[Observed, dict[str, list[str]], float | None, float | None]:
    """Judges a settled system: first waits until no durable consumer holds a pending or unacknowledged message (at
    most `quiet_max_s`; a reading taken while a consumer still works is lag, and the wait is reported with what was
    still pending), then reads back until every check holds or `settle_s` passed. Returns the last reading, its
    results, when it first held (from the first quiet reading) and how long the consumers took to be quiet (None: not
    quiet within the bound; the reading is then judged anyway and the note names what was pending)."""
    started = time.monotonic()
    quiet_after: float | None = None
    while True:
        behind = await consumers_behind(stack)
        if not behind:
            quiet_after = time.monotonic() - started
            break
        if time.monotonic() - started >= quiet_max_s:
            log(f"  consumers not quiet after {quiet_max_s:.0f}s, judging anyway: {dict(sorted(behind.items()))}")
            break
        log(f"  waiting for quiet at {time.monotonic() - started:5.1f}s: {dict(sorted(behind.items()))}")
        await asyncio.sleep(3.0)
    judged = time.monotonic()
    while True:
        observed = await observe(stack, clients)
        results = evaluate(observed)
        behind = await consumers_behind(stack)
        log(f"  reading at {time.monotonic() - judged:5.1f}s: "
            + (", ".join(f"{name} {len(found)}" for name, found in results.items() if found) or "every check holds")
            + f"; consumers behind (pending, unacked): {behind or 'none'}")
        if not any(results.values()):
            return observed, results, time.monotonic() - judged, quiet_after
        if time.monotonic() - judged >= settle_s:
            return observed, results, None, quiet_after
        await asyncio.sleep(2.0)


def run_campaign(stack: Stack, profile: Profile, *, log: Callable[[str], None] = print) -> CampaignResult:
    """The whole campaign on a started stack."""
    run_id = uuid.uuid4().hex[:8]
    before = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    log(f"fault campaign {profile.name}: {profile.rate}/s for {profile.seconds:.0f}s (at most {profile.max_in_flight} "
        f"unanswered), faults {[t for _a, t in profile.faults]}; machine {machine()}, load {before}, "
        f"started {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC")
    clients, faults, load = asyncio.run(drive_load(stack, profile, run_id, log))
    drained_s, backlog, how = asyncio.run(drain(stack, max_s=profile.drain_max_s, log=log))
    log(f"  consumers {how} after {drained_s:.0f}s (backlog {backlog}); settling: reading back every view")
    observed, results, settled, quiet = asyncio.run(settle(stack, clients, profile.settle_s, log, profile.quiet_max_s))
    behind = asyncio.run(consumers_behind(stack))
    retried = sum(1 for c in clients if len(c.attempts) > 1)
    after = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    during = [x for _t, x in load.load_avg]
    answered = sum(1 for c in clients if c.ticket_id)
    adapted = (
        f"yes: no new ticket for {load.held_s:.0f}s of {load.seconds:.0f}s while {profile.max_in_flight} were unanswered"
        if load.held_s >= 1.0 else "no"
    )
    result = CampaignResult(
        profile=profile, results=results, faults=faults, tickets=len(observed.stored), settled_after_s=settled,
        achieved_rate=load.rate, observed=observed,
        notes={
            "machine": machine(),
            "machine load (1/5/15 min) before / at the end": f"{before} / {after} on {os.cpu_count()} CPUs",
            "1-min load during the load (min/mean/max)": (
                f"{min(during):.1f} / {sum(during) / len(during):.1f} / {max(during):.1f}" if during else "-"
            ),
            "rate asked / achieved": f"{profile.rate:.1f}/s / {load.rate:.1f}/s over {load.seconds:.0f}s "
                                     f"({answered / max(load.seconds, 1e-6):.1f}/s answered)",
            "rate adapted to the stack's answers": adapted,
            "peak unanswered clients": str(load.peak_in_flight),
            "answer time of 201/200 (p50/p95/max)": percentiles(
                [a.seconds for c in clients for a in c.attempts if a.status in (200, 201)]),
            "tickets stored": str(len(observed.stored)), "clients": str(len(clients)), "clients that retried": str(retried),
            "503 answers": str(sum(1 for c in clients for a in c.attempts if a.status == 503)),
            "no-answer attempts": str(sum(1 for c in clients for a in c.attempts if a.status is None)),
            "attempts by answer": ", ".join(f"{k} {n}" for k, n in Counter(
                str(a.status) if a.status is not None else a.error.split(":", 1)[0] for c in clients for a in c.attempts
            ).most_common()),
            "consumers' backlog after the load": f"{backlog} messages, {how} after {drained_s:.0f}s",
            "every consumer quiet (0 pending, 0 unacked) after the drain": (
                f"after {quiet:.0f}s" if quiet is not None else f"NOT within {profile.quiet_max_s:.0f}s (judged anyway)"),
            "settled after (once quiet)": f"{settled:.1f}s" if settled is not None else f"not within {profile.settle_s:.0f}s",
            "consumers still behind at the end (pending, unacked)": ", ".join(
                f"{durable} {p}/{u}" for durable, (p, u) in sorted(behind.items())) or "none",
            "search and source versions differ (first 5; when each last changed it)": "; ".join(
                f"{tid}: {d}" for tid, d in sorted(observed.details.items())[:5]) or "none",
            "faults (target killed @s: all ready s after its restart)": ", ".join(
                f"{f.target}@{f.at_s}: {f.ready_after_s}s{' ' + f.error if f.error else ''}" for f in faults
            ),
        },
    )
    return result
