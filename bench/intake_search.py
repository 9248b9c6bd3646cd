"""Ticket search benchmark: 100,000 tickets in the database, the gateway started on them, searches over HTTP.

Prints the start-up index load time and the intake process's memory, then p50/p99 per kind of search (Chinese
free text, English free text, filters, a requester's own view, deep cursor paging). The gateway runs as its own
process on real NATS and the database; the client is this process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from intake.adapters.mongo import _to_doc
from intake.catalog import SEED
from intake.domain import Assignee, AuditEntry, StatusChange, Ticket
from opsdesk_devstack.stack import Stack
from opsdesk_shared.contracts import Requester

PROBLEMS = [
    ("打印機卡紙", "三樓打印機卡紙,無法打印"), ("顯示器黑屏", "開機後顯示器沒有信號"), ("網絡很慢", "打開內網系統很慢"),
    ("郵件無法發送", "Outlook 發送郵件報錯"), ("VPN 無法連線", "在家無法連線 VPN"), ("密碼重設", "OA 系統密碼忘記了"),
    ("掃描儀不能用", "掃描儀驅動丟失"), ("電腦中毒", "殺毒軟件報警"), ("投影儀沒有畫面", "會議室投影儀無信號"),
    ("Printer offline", "HP LaserJet shows offline on 2F"), ("Email quota full", "mailbox over quota"),
    ("Cannot print PDF", "Acrobat crashes when printing"), ("硬盤空間不足", "C 盤滿了"), ("帳號鎖定", "輸錯密碼多次被鎖"),
]
DEPARTMENTS = [f"{name}" for name in ("辦公室", "財務科", "人事科", "法規科", "信息中心", "審批科", "監察室", "後勤科",
                                       "檔案室", "宣傳科", "計劃科", "統計科", "安全科", "培訓中心", "接待科", "研究室")]
STATUSES = ["new"] * 3 + ["assigned"] * 4 + ["in_progress"] * 4 + ["pending"] * 2 + ["resolved"] * 10 + ["closed"] * 70 + ["cancelled"] * 2
CHANNELS = ["hotline", "email", "web", "api", "remote_desktop", "walk_in"]
TOKEN = "bench-search-admin-token-0123456789abcdef"


def make_ticket(n: int, rng: random.Random, now: datetime) -> Ticket:
    title, desc = rng.choice(PROBLEMS)
    service = rng.choice([s for s in SEED if s.family == "responsive"] * 5 + list(SEED))
    created = now - timedelta(minutes=rng.randint(0, 365 * 24 * 60))
    status = rng.choice(STATUSES)
    department = rng.choice(DEPARTMENTS)
    engineer = f"eng-{rng.randint(1, 12)}"
    assignee = None if status == "new" else Assignee(assignment_id=str(uuid.uuid4()), engineer_id=engineer,
                                                    engineer_name=engineer, reason="bench", assigned_at=created)
    return Ticket(
        id=str(uuid.uuid4()), number=f"INC-{created.year}-{n:06d}", title=f"{title} ({rng.randint(1, 40)}F)",
        description=f"{desc}。資產 GZ-2026-{rng.randint(1, 5000):06d}", requester=Requester(name=f"用戶{rng.randint(1, 3000)}", department=department),
        channel=rng.choice(CHANNELS), service_code=service.code, priority=rng.choice(["P1", "P2", "P3", "P3", "P4"]),
        asset_tag=f"GZ-2026-{rng.randint(1, 5000):06d}", reported_at=created, created_at=created, updated_at=created,
        status=status, assignee=assignee, ticket_type=service.ticket_type, requester_id=f"user{rng.randint(1, 3000)}",
        history=(StatusChange(status="new", at=created, by="desk"),),
        audit=(AuditEntry(at=created, by="desk", role="agent", source="bench", action="created"),),
    )


async def fill(url: str, database: str, count: int) -> float:
    rng = random.Random(7)
    now = datetime.now(UTC)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    tickets = client[database]["tickets"]
    started = time.perf_counter()
    batch: list[dict[str, Any]] = []
    for n in range(1, count + 1):
        batch.append(_to_doc(make_ticket(n, rng, now)))
        if len(batch) == 2000:
            await tickets.insert_many(batch, ordered=False)
            batch = []
    if batch:
        await tickets.insert_many(batch, ordered=False)
    await client.close()
    return time.perf_counter() - started


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(client: httpx.Client, url: str, params_list: list[Any], headers: dict[str, str]) -> tuple[float, float, int]:
    timings: list[float] = []
    hits = 0
    for params in params_list:
        started = time.perf_counter()
        r = client.get(url, params=params, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, r.text
        hits += len(r.json()["items"])
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.99) - 1], hits


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(11)
    with tempfile.TemporaryDirectory(prefix="opsdesk-bench-search-") as tmp:
        stack = Stack(var_dir=Path(tmp) / "var", token=TOKEN)
        stack.start_infra()
        try:
            assert stack.database is not None
            filled = asyncio.run(fill(stack.database.url, "opsdesk_intake", args.tickets))
            started = time.perf_counter()
            stack.start(("intake",), ready_timeout=600)
            ready_s = time.perf_counter() - started
            intake = stack.service("intake")
            assert intake.process is not None
            memory = rss_mib(intake.process.proc.pid)
            url = f"{stack.gateway}/api/v1/tickets"
            admin = {"Authorization": f"Bearer {TOKEN}"}
            with httpx.Client(timeout=30) as client:
                dept = "財務科"
                created = client.post(f"{stack.gateway}/api/v1/users", headers=admin, json={
                    "username": "user42", "name": "bench", "role": "requester", "department": dept, "password": "bench-password-1"})
                assert created.status_code == 201, created.text
                token = client.post(f"{stack.gateway}/api/v1/auth/token", json={"username": "user42", "password": "bench-password-1"}).json()["access_token"]
                requester = {"Authorization": f"Bearer {token}"}
                n = args.queries
                kinds: list[tuple[str, list[Any], dict[str, str]]] = [
                    ("free text, Chinese (打印機 卡紙...)", [{"q": rng.choice(["打印機", "卡紙", "顯示器 黑屏", "密碼", "網絡 很慢", "郵件"])} for _ in range(n)], admin),
                    ("free text, English", [{"q": rng.choice(["printer", "email quota", "pdf", "offline"])} for _ in range(n)], admin),
                    ("filters: status + priority + department", [{"status": rng.choice(["new", "assigned", "in_progress"]), "priority": rng.choice(["P1", "P2"]), "department": rng.choice(DEPARTMENTS)} for _ in range(n)], admin),
                    ("open tickets, newest first (desk queue)", [[("status", "new"), ("status", "assigned"), ("status", "in_progress"), ("status", "pending")] for _ in range(n)], admin),
                    ("text + filter + date range", [{"q": "打印機", "channel": rng.choice(CHANNELS), "created_from": (datetime.now(UTC) - timedelta(days=90)).isoformat()} for _ in range(n)], admin),
                    ("all tickets, sorted by priority", [{"sort": "priority", "limit": 50} for _ in range(n)], admin),
                    ("requester's own and department's view", [{} for _ in range(n)], requester),
                ]
                rows = [(label, *measure(client, url, params, headers)) for label, params, headers in kinds]
                # Deep paging: walk 20 pages of the whole set with the cursor.
                page_times: list[float] = []
                params: dict[str, Any] = {"limit": 100}
                for _ in range(20):
                    t0 = time.perf_counter()
                    page = client.get(url, params=params, headers=admin).json()
                    page_times.append((time.perf_counter() - t0) * 1000)
                    params["cursor"] = page["next_cursor"]
                page_times.sort()
        finally:
            stack.stop()
    print(f"# Ticket search, {args.tickets:,} tickets in FerretDB; {platform.node()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"inserted in {filled:.1f} s ({args.tickets / filled:,.0f}/s); gateway ready (index loaded) in {ready_s:.1f} s; intake RSS {memory:.0f} MiB")
    print(f"| search ({args.queries} queries each) | p50 ms | p99 ms | rows returned |")
    print("|---|---:|---:|---:|")
    for label, p50, p99, hits in rows:
        print(f"| {label} | {p50:.1f} | {p99:.1f} | {hits:,} |")
    print(f"| cursor paging, 20 pages of 100 | {statistics.median(page_times):.1f} | {page_times[-1]:.1f} | 2,000 |")


if __name__ == "__main__":
    main()
