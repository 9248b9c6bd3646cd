"""The desk's queue page with 100,000 tickets in the database (issue 15's bars: server time p95 under 150 ms; first
load of the queue under 1 s on loopback).

Seeding: tickets written straight into intake's database in batches of 2,000, as intake's Mongo adapter stores them
(`intake_search.make_ticket` -> `intake.adapters.mongo._to_doc`: a year of creation times, 16 departments, 70%
closed, about 13% open), before any service starts; then every service (the six and the console) is started on them
as `make run` does. Seeded tickets have no SLA clocks (the SLA monitor never heard of them), so the at-risk and
breached queues hold only what the run itself files.

Server time: a desk agent signed in to the console through the gateway (its session cookie), `GET /queue?queue=...`
over loopback from this process, the full page and the workspace fragment htmx asks for (search, filters, live
refresh), each queue in turn; the time from request to the last byte. "Cold" is the first request after start-up
(no ticket details cached in the console), the rest within the console's 20-second detail cache as a busy desk is.

First load: Debian's chromium (Playwright), a new browser context (empty cache) with the session cookie, `page.goto`
the queue: navigation start to the load event (HTML, CSS, JavaScript, icons); then the same again in that context
(warm: the assets from the browser's cache).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from intake_load import percentile
from intake_search import fill

from opsdesk_devstack.services import SERVICES
from opsdesk_devstack.stack import Stack

TOKEN = "bench-console-admin-token-0123456789abcdef"
PASSWORD = "Bench-console-pass-1"
QUEUES = ("open", "mine", "unassigned", "held", "at_risk", "breached", "waiting", "review")


def console_cookie(gateway: str, username: str, password: str) -> str:
    """The Cookie header of a user signed in to the console through the gateway (its form and CSRF token)."""
    with httpx.Client(base_url=gateway, timeout=30) as client:
        form = client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert form.status_code == 200 and csrf, form.text[:300]
        signed = client.post("/login", data={"username": username, "password": password, "csrf": csrf.group(1)})
        assert signed.status_code in (302, 303), signed.text[:300]
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def sign_in(gateway: str, admin: str, username: str) -> httpx.Client:
    """A desk agent made by the admin and signed in to the console (its form, CSRF and cookie) through the gateway."""
    with httpx.Client(base_url=gateway, timeout=30) as http:
        made = http.post("/api/v1/users", headers={"Authorization": f"Bearer {admin}"}, json={
            "username": username, "name": "台席 压测", "role": "agent", "password": PASSWORD, "department": "服務台"})
        assert made.status_code == 201, made.text
    client = httpx.Client(base_url=gateway, timeout=60, headers={"Accept-Language": "zh-CN"})
    form = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert form.status_code == 200 and csrf, form.text[:300]
    signed = client.post("/login", data={"username": username, "password": PASSWORD, "csrf": csrf.group(1)})
    assert signed.status_code in (302, 303), signed.text[:300]
    return client


def timed(client: httpx.Client, path: str, *, fragment: bool) -> float:
    headers = {"HX-Request": "true"} if fragment else {}
    started = time.perf_counter()
    reply = client.get(path, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    assert reply.status_code == 200, (path, reply.status_code, reply.text[:300])
    assert fragment or "<html" in reply.text.lower()
    return elapsed


def server_times(client: httpx.Client, rounds: int) -> tuple[list[tuple[str, float]], list[tuple[str, int, float, float, float, float]]]:
    cold = [(q, timed(client, f"/queue?queue={q}", fragment=False)) for q in QUEUES]
    rows = []
    for label, path, fragment in [
        *((f"{q} (page)", f"/queue?queue={q}", False) for q in QUEUES),
        ("open (htmx fragment)", "/queue?queue=open", True),
        ("open, search 打印機", "/queue?queue=open&q=%E6%89%93%E5%8D%B0%E6%A9%9F", True),
        ("open, search printer + P1,P2", "/queue?queue=open&q=printer&priority=P1&priority=P2", True),
        ("open, channel hotline", "/queue?queue=open&channel=hotline", True),
    ]:
        times = [timed(client, path, fragment=fragment) for _ in range(rounds)]
        rows.append((label, rounds, statistics.median(times), percentile(times, 95), percentile(times, 99), max(times)))
    return cold, rows


async def first_loads(gateway: str, cookies: dict[str, str], loads: int) -> list[tuple[str, float, float, float, int]]:
    from playwright.async_api import async_playwright

    out: list[tuple[str, float, float, float, int]] = []
    host = httpx.URL(gateway).host
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        try:
            for n in range(loads):
                context = await browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 800})
                await context.add_cookies([{"name": k, "value": v, "domain": host, "path": "/"} for k, v in cookies.items()])
                page = await context.new_page()
                for kind in ("cold", "warm"):
                    await page.goto(f"{gateway}/queue?queue=open", wait_until="load", timeout=120_000)
                    timing = await page.evaluate(
                        "() => { const n = performance.getEntriesByType('navigation')[0];"
                        " return [n.responseStart - n.startTime, n.domContentLoadedEventEnd - n.startTime,"
                        " n.loadEventEnd - n.startTime, performance.getEntriesByType('resource').length]; }")
                    assert "/login" not in page.url, page.url
                    out.append((f"{kind} #{n + 1}", float(timing[0]), float(timing[1]), float(timing[2]), int(timing[3])))
                await context.close()
        finally:
            await browser.close()
    return out


def print_server_times(args: argparse.Namespace, filled: float, ready_s: float, cold: list[tuple[str, float]],
                       rows: list[tuple[str, int, float, float, float, float]]) -> None:
    print(f"# Console queue, {args.tickets:,} tickets in FerretDB; {platform.node()}, {os.cpu_count()} cores, "
          f"Python {sys.version.split()[0]}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {os.getloadavg()[0]:.1f}")
    print(f"seeded in {filled:.1f} s ({args.tickets / filled:,.0f}/s); all services ready in {ready_s:.1f} s")
    print("first request per queue after start-up (cold, ms): " + ", ".join(f"{q} {ms:.0f}" for q, ms in cold))
    print("| GET /queue as a desk agent | requests | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, n, p50, p95, p99, top in rows:
        print(f"| {label} | {n} | {p50:.1f} | {p95:.1f} | {p99:.1f} | {top:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=40, help="requests per queue")
    parser.add_argument("--loads", type=int, default=3, help="browser first loads (each cold then warm)")
    parser.add_argument("--ready-timeout", type=float, default=1800, help="seconds the gateway may take to load its index")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="opsdesk-bench-console-") as tmp:
        stack = Stack(var_dir=Path(tmp) / "var", token=TOKEN)
        stack.start_infra()
        try:
            assert stack.database is not None
            filled = asyncio.run(fill(stack.database.url, "opsdesk_intake", args.tickets))
            started = time.perf_counter()
            stack.start(tuple(SERVICES), ready_timeout=args.ready_timeout)
            ready_s = time.perf_counter() - started
            client = sign_in(stack.gateway, TOKEN, "bench-desk-1")
            try:
                cold, rows = server_times(client, args.rounds)
                print_server_times(args, filled, ready_s, cold, rows)  # before the browser, which may fail on its own
                loads = asyncio.run(first_loads(stack.gateway, dict(client.cookies.items()), args.loads))
            finally:
                client.close()
        finally:
            stack.stop()
    print("| first load of /queue (chromium) | first byte ms | DOMContentLoaded ms | load event ms | resources |")
    print("|---|---:|---:|---:|---:|")
    for label, ttfb, dcl, load, resources in loads:
        print(f"| {label} | {ttfb:.0f} | {dcl:.0f} | {load:.0f} | {resources} |")


if __name__ == "__main__":
    main()
