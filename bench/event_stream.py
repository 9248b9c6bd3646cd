"""The gateway's live event stream under 200 consoles (issue 15's bar: an event on the bus reaches 200 connected
consoles with p99 under 1 s).

The real gateway (intake as a process, on real NATS and FerretDB, as `make run` starts it) with 200 open
`GET /api/v1/events/stream` connections: 160 from 40 desk agents (4 tabs each: they see every event) and 40 from 10
requesters (4 each: they see their own tickets' events only). Events are put on the bus as intake itself announces a
comment (`ticket.updated` into JetStream, as intake's NATS user) at a fixed rate, on tickets the requesters filed
through the gateway, so the gateway reads a real ticket per event and filters per caller.

Latency of one delivery = when the client read the message - when JetStream stored the event (the stream's own
timestamp of that sequence, read back as the read-only observer after the run). Both clocks are this machine's. The
client is one Python process reading all 200 streams, so its own work is in the figures (as a browser's would be).

`--via console` measures what a console page does: the person signs in to the console (a session cookie), each
stream first asks the console's `GET /events/ticket` through the gateway (the console asks the gateway's
`POST /api/v1/events/tickets` with the session's token), then opens the gateway's own
`GET /api/v1/events/stream?ticket=...`: frames go straight from the gateway to the client, not through the console.
`--clients N` scales the 200 (80 % desk, 20 % requesters, 4 streams each) for a smoke run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import nats
from console_queue import console_cookie
from intake_load import percentile
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from opsdesk_devstack.services import SERVICES
from opsdesk_devstack.stack import Stack
from opsdesk_shared.bus import EVENTS_STREAM, JetStreamPublisher, make_broker
from opsdesk_shared.contracts import Envelope, TicketUpdatedV1

PASSWORD = "Bench-stream-pass-1"
AGENTS, REQUESTERS, STREAMS_EACH, TICKETS_EACH = 40, 10, 4, 3
STREAM = "/api/v1/events/stream"
TICKET = "/events/ticket"  # the console's: a ticket for STREAM, for the session's person
REPORT = {"title": "打印机卡纸", "description": "三楼打印机卡纸", "channel": "web", "service_code": "RS-ONSITE"}


@dataclass
class Client:
    role: str
    owned: set[str]
    headers: dict[str, str]
    received: dict[int, float] = field(default_factory=dict)  # stream sequence -> wall clock when read
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    status: int = 0
    dropped: bool = False  # the gateway ended the stream: this client fell too far behind (reload too_slow)


def people(
    gateway: str, admin: str, *, via_console: bool = False, agents: int = AGENTS, requesters: int = REQUESTERS,
) -> list[tuple[str, dict[str, str], set[str]]]:
    """(role, Authorization header or the console's session cookie, ticket ids they own) for every user; requesters
    file their tickets here."""
    out: list[tuple[str, dict[str, str], set[str]]] = []
    with httpx.Client(base_url=gateway, timeout=30) as http:
        for n in range(agents + requesters):
            role = "agent" if n < agents else "requester"
            name = f"bench-{role}-{n}-{uuid.uuid4().hex[:6]}"
            made = http.post("/api/v1/users", headers={"Authorization": f"Bearer {admin}"},
                             json={"username": name, "name": name, "role": role, "password": PASSWORD, "department": "办公室"})
            assert made.status_code == 201, made.text
            token = http.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD})
            assert token.status_code == 200, token.text
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            owned: set[str] = set()
            if role == "requester":
                for _ in range(TICKETS_EACH):
                    filed = http.post("/api/v1/tickets", json=REPORT, headers=headers)
                    assert filed.status_code == 201, filed.text
                    owned.add(filed.json()["id"])
            if via_console:
                headers = {"Cookie": console_cookie(gateway, name, PASSWORD)}
            out.append((role, headers, owned))
    return out


async def ticket_path(gateway: str, client: Client) -> tuple[str, dict[str, str]]:
    """What a console page does before it opens the stream: a ticket from the console's /events/ticket (session
    cookie), then the gateway's own stream with ?ticket= and no credentials of the person's."""
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as http:
        got = await http.get(TICKET, headers={**client.headers, "Accept": "application/json"})
    assert got.status_code == 200, got.text
    return f"{STREAM}?ticket={got.json()['ticket']}", {}


async def listen(gateway: str, client: Client, stop: asyncio.Event, path: str = STREAM) -> None:
    """One stream over a bare asyncio connection (HTTP/1.1, chunked): a few lines of parsing per message, so 200 of
    them in one process measure the gateway more than this client. With `path` TICKET, as a console page opens it."""
    headers = client.headers
    if path == TICKET:
        path, headers = await ticket_path(gateway, client)
    url = httpx.URL(gateway)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {url.host}\r\nAccept: text/event-stream\r\n{head}\r\n".encode())
    await writer.drain()
    status_line = await reader.readline()
    client.status = int(status_line.split()[1])
    while (await reader.readline()) not in (b"\r\n", b""):
        pass  # response headers; the body is chunked (no length: it never ends)
    buffer = b""
    try:
        while not stop.is_set():
            size = int((await reader.readline()).strip() or b"0", 16)
            if size == 0:
                return
            chunk = await reader.readexactly(size + 2)
            buffer += chunk[:-2]
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                seq, event = 0, b""
                for line in block.split(b"\n"):
                    if line.startswith(b"id: "):
                        seq = int(line[4:])
                    elif line.startswith(b"event: "):
                        event = line[7:]
                if event == b"ready":
                    client.ready.set()
                elif event == b"reload":
                    client.dropped = True
                elif event == b"ticket.commented":
                    client.received[seq] = time.time()
    finally:
        writer.close()


def gateway_histogram(stack: Stack) -> dict[float, float]:
    """intake_live_publish_seconds buckets (upper bound -> count) from the gateway's /metrics."""
    text = httpx.get(f"{stack.gateway}/metrics", headers={"Authorization": f"Bearer {stack.metrics_token}"}, timeout=10).text
    out: dict[float, float] = {}
    for line in text.splitlines():
        if line.startswith("intake_live_publish_seconds_bucket{"):
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            out[float("inf") if bound == "+Inf" else float(bound)] = float(line.rsplit(" ", 1)[1])
    return out


def bucket_percentile(before: dict[float, float], after: dict[float, float], p: float) -> float:
    """The upper bound (ms) of the bucket holding the p-th percentile of what was observed between two scrapes."""
    counts = sorted((bound, after[bound] - before.get(bound, 0.0)) for bound in after)
    total = counts[-1][1] if counts else 0.0
    for bound, cumulative in counts:
        if total and cumulative >= p / 100 * total:
            return bound * 1000
    return float("nan")


async def offer(stack: Stack, tickets: list[tuple[str, str]], *, rate: float, seconds: float) -> tuple[dict[str, str], float]:
    """Comments announced at `rate` per second, as intake would; returns event id -> ticket id, and the rate achieved."""
    assert stack.nats is not None
    broker = make_broker(stack.nats.url, name="bench-stream", user="intake", password=stack.nats.passwords["intake"])
    await broker.connect()
    publisher = JetStreamPublisher(broker)
    sent: dict[str, str] = {}
    total = int(rate * seconds)
    started = time.perf_counter()
    for n in range(total):
        if (wait := started + n / rate - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        ticket_id, number = random.choice(tickets)
        data = TicketUpdatedV1(ticket_id=ticket_id, number=number, changes={"comment": {"old": None, "new": f"bench-{n}"}},
                               by="bench", updated_at=datetime.now(UTC))
        envelope = Envelope.wrap(data, producer="intake", correlation_id=f"bench-{n}", subject_id=ticket_id)
        await publisher.publish(envelope)
        sent[str(envelope.event_id)] = ticket_id
    achieved = total / (time.perf_counter() - started)
    await broker.stop()
    return sent, achieved


async def stored(stack: Stack, sent: dict[str, str]) -> dict[int, tuple[float, str]]:
    """stream sequence -> (when JetStream stored it, ticket id) for the events this run published."""
    nc = await nats.connect(stack.observer_url())
    sub = await nc.jetstream().pull_subscribe(
        "ticket.updated", durable=None, stream=EVENTS_STREAM,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE),
    )
    out: dict[int, tuple[float, str]] = {}
    while True:
        try:
            msgs = await sub.fetch(1000, timeout=1.0)
        except Exception:
            break
        for m in msgs:
            event_id = (m.headers or {}).get("Nats-Msg-Id", "")
            if event_id in sent:
                out[int(m.metadata.sequence.stream)] = (m.metadata.timestamp.timestamp(), sent[event_id])
    await nc.close()
    return out


async def run(
    stack: Stack, *, rate: float, seconds: float, users: list[tuple[str, dict[str, str], set[str]]], path: str,
) -> dict[str, float]:
    clients = [Client(role, owned, headers) for role, headers, owned in users for _ in range(STREAMS_EACH)]
    tickets: list[tuple[str, str]] = []
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=httpx.Timeout(10.0, read=None)) as http:
        for owned in {frozenset(c.owned) for c in clients if c.owned}:
            for ticket_id in owned:
                admin = {"Authorization": f"Bearer {stack.token}"}
                number = (await http.get(f"/api/v1/tickets/{ticket_id}", headers=admin)).json()["number"]
                tickets.append((ticket_id, number))
    stop = asyncio.Event()
    tasks = [asyncio.create_task(listen(stack.gateway, c, stop, path)) for c in clients]
    await asyncio.wait_for(asyncio.gather(*(c.ready.wait() for c in clients)), 60)
    assert all(c.status == 200 for c in clients)
    before = gateway_histogram(stack)
    sent, achieved = await offer(stack, tickets, rate=rate, seconds=seconds)
    await asyncio.sleep(3.0)  # the last events' deliveries
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    after = gateway_histogram(stack)
    bus = await stored(stack, sent)
    latencies: list[float] = []
    expected = delivered = 0
    for c in clients:
        for seq, (at, ticket_id) in bus.items():
            if c.role == "agent" or ticket_id in c.owned:
                expected += 1
                if seq in c.received:
                    delivered += 1
                    latencies.append((c.received[seq] - at) * 1000)
        leaked = [s for s in c.received if s in bus and c.role == "requester" and bus[s][1] not in c.owned]
        assert not leaked, f"a requester received another's events: {leaked[:3]}"
    return {"clients": len(clients), "events": len(bus), "rate": achieved, "expected": expected, "delivered": delivered,
            "p50": percentile(latencies, 50), "p95": percentile(latencies, 95), "p99": percentile(latencies, 99),
            "max": max(latencies) if latencies else float("nan"), "gw99": bucket_percentile(before, after, 99),
            "dropped": sum(c.dropped for c in clients)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", default="2,10,25", help="events per second put on the bus")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--services", default="intake", help="services to start (intake alone isolates the gateway; 'all' "
                        "is the six and the console)")
    parser.add_argument("--via", choices=("api", "console"), default="api", help="api: GET /api/v1/events/stream with a "
                        "bearer token; console: as a console page, a ticket from the console's /events/ticket (session "
                        "cookie) through the gateway, then the gateway's stream with ?ticket=")
    parser.add_argument("--clients", type=int, default=AGENTS * STREAMS_EACH + REQUESTERS * STREAMS_EACH,
                        help="open streams, about (4 per person, 80 %% desk agents, 20 %% requesters); 200 is the bar")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="opsdesk-bench-stream-") as tmp:
        stack = Stack(var_dir=Path(tmp) / "var")
        names = tuple(SERVICES) if args.services == "all" else tuple(args.services.split(","))
        if args.via == "console" and "console" not in names:
            names = (*names, "console")
        stack.start(names, ready_timeout=300)
        path = TICKET if args.via == "console" else STREAM
        agents = max(1, round(args.clients * 0.8 / STREAMS_EACH))
        requesters = max(1, round(args.clients * 0.2 / STREAMS_EACH))
        try:
            users = people(stack.gateway, stack.token, via_console=args.via == "console", agents=agents, requesters=requesters)
            for rate in (float(r) for r in args.rates.split(",")):
                rows.append(asyncio.run(run(stack, rate=rate, seconds=args.seconds, users=users, path=path)))
        finally:
            stack.stop()
    print(f"# Live event stream, bus -> client; {platform.node()}, {os.cpu_count()} cores, {datetime.now(UTC):%Y-%m-%d}, "
          f"services: {','.join(names)}, streams: {STREAM + ('?ticket= (from the console)' if path == TICKET else '')}, {args.seconds:.0f} s per rate, load average {os.getloadavg()[0]:.1f}")
    print("| clients | events/s on the bus | events | deliveries | expected | p50 ms | p95 ms | p99 ms | max ms | gateway p99 ms (bucket) | streams dropped as too slow |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['clients']:.0f} | {r['rate']:.1f} | {r['events']:.0f} | {r['delivered']:.0f} | {r['expected']:.0f} | "
              f"{r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['max']:.1f} | <= {r['gw99']:.0f} | {r['dropped']:.0f} |")


if __name__ == "__main__":
    main()
