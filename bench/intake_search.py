"""Ticket search benchmark (issue 3, issue 17), three modes:

- `index --tickets 1000000`: the search index itself (intake/search_store.py, the SQLite file), in this process.
  Up to 100,000 tickets (unless `--direct`) each ticket is indexed as the gateway indexes one (`TicketIndex.upsert`);
  above that the rows are generated straight into the file from 20,000 template tickets (each copy with its own id,
  number, times and summary; its terms are the template's plus its own number; numbered in creation order as
  `upsert` numbers a row, search_store.SLOT_BITS), because indexing a million tickets one by one takes longer than
  the machine can give a benchmark. `--exact` counts free-text totals exactly (by default they are capped at
  search_store.TEXT_TOTAL_CAP, as GET /tickets may ask). The searches then run in a fresh process that opens
  the file (as a restarted gateway): per kind of search what GET /tickets does (a page, its summaries and the exact
  total) and what GET /tickets/counts does (six counts), p50/p99; its RSS growth per ticket; the file's bytes.
- `restart --tickets 100000`: the real stack (NATS, FerretDB, the gateway as its own process). The gateway's first
  start builds its index file from the database; then a tail of ticket events (tickets changed in the database and
  announced on the stream, as another replica would) arrives while it is stopped; the second start is timed to
  /readyz, and the changed tickets are checked in its search.
- `http --tickets 100000`: searches over HTTP against the gateway on 100,000 tickets in the database (issue 3).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from intake import search, search_store
from intake.adapters.mongo import _to_doc
from intake.catalog import SEED
from intake.domain import Actor, Assignee, AuditEntry, StatusChange, Ticket
from intake.search import Query, TicketIndex
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


def cpu_s(pid: int) -> float:
    """CPU seconds the process used so far (user + system): what a start costs whatever the machine's load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def http_main(args: argparse.Namespace) -> None:
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


def machine() -> str:
    return f"{platform.node()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}"


# --- index mode -----------------------------------------------------------------------------------------------------

TEMPLATES = 20_000
DESK_ACTOR = Actor(subject="agent1", role="agent")


def _fill_index(index: TicketIndex, count: int, rng: random.Random, now: datetime, *, direct: bool = False) -> None:
    """Up to 100,000: upsert each ticket (unless `direct`). Beyond: copies of 20,000 templates written as rows."""
    if count <= 100_000 and not direct:
        batch: list[Ticket] = []
        for n in range(1, count + 1):
            batch.append(make_ticket(n, rng, now))
            if len(batch) == 2000:
                with index.batch():
                    for ticket in batch:
                        index.upsert(ticket)
                batch.clear()
        with index.batch():
            for ticket in batch:
                index.upsert(ticket)
        return
    templates = [make_ticket(n, rng, now) for n in range(1, min(TEMPLATES, count) + 1)]
    # The tickets' creation times and ids first, in creation order: each row's number is its place in it (ties in one
    # microsecond ordered by id and spread over its slots, as TicketIndex._place does).
    moments = sorted(
        ((now - timedelta(minutes=rng.randint(0, 3 * 365 * 24 * 60), seconds=rng.randint(0, 59))).isoformat(), str(uuid.uuid4()))
        for _ in range(count)
    )
    numbers: list[int] = []
    at = 0
    while at < len(moments):
        end = at
        while end < len(moments) and moments[end][0] == moments[at][0]:
            end += 1
        us = search_store.ordered_micros(datetime.fromisoformat(moments[at][0]))
        assert us is not None
        step = search_store.SLOTS // (end - at + 1)
        numbers.extend((us << search_store.SLOT_BITS) + step * (k + 1) for k in range(end - at))
        at = end
    made = [search_store._row(t) for t in templates]
    rows = [row for row, _ in made]
    summaries = [summary for _, summary in made]
    texts = [" ".join(w for w in search_store._terms_text(t, search.fields_of(t)).split() if w != t.number.lower())
             for t in templates]
    id_at, number_at = search_store._ROW_COLUMNS.index("id"), search_store._ROW_COLUMNS.index("number")
    keys_at = search_store._ROW_COLUMNS.index("created_key")
    us_at = search_store._ROW_COLUMNS.index("created_us")
    db = index._db
    for start in range(0, count, 5000):
        ticket_rows: list[tuple[Any, ...]] = []
        summary_rows: list[tuple[int, str]] = []
        term_rows: list[tuple[int, str]] = []
        for n in range(start + 1, min(start + 5000, count) + 1):
            k = rng.randrange(len(templates))
            row = list(rows[k])
            stamp, ticket_id = moments[n - 1]
            rowid = numbers[n - 1]
            created = datetime.fromisoformat(stamp)
            number = f"INC-{created.year}-{n:07d}"
            row[id_at], row[number_at] = ticket_id, number
            row[keys_at] = row[keys_at + 1] = row[keys_at + 2] = stamp
            row[us_at] = row[us_at + 1] = search_store.micros(created)
            summary = json.loads(summaries[k])
            summary.update(id=ticket_id, number=number, created_at=stamp, reported_at=stamp, updated_at=stamp)
            ticket_rows.append((rowid, *row))
            summary_rows.append((rowid, json.dumps(summary, ensure_ascii=False, separators=(",", ":"))))
            term_rows.append((rowid, number.lower() + " " + texts[k]))
        with index.batch():
            db.executemany(search_store._INSERT, ticket_rows)
            db.executemany("INSERT INTO summaries(n, summary) VALUES (?, ?)", summary_rows)
            db.executemany("INSERT INTO terms(rowid, t) VALUES (?, ?)", term_rows)
    index.forget_tally()
    by_number = db.execute("SELECT id FROM tickets ORDER BY n DESC LIMIT 2000").fetchall()
    by_key = db.execute("SELECT id FROM tickets ORDER BY created_key DESC, id DESC LIMIT 2000").fetchall()
    assert by_number == by_key, "rows not numbered in creation order"


def _timed(samples: list[float], work: Any, index: TicketIndex | None = None) -> Any:
    if index is not None:
        index._changed()  # as if a write came between two requests: no count is served from the last request's
    started = time.perf_counter()
    out = work()
    samples.append((time.perf_counter() - started) * 1000)
    return out


CAP: int | None = search_store.TEXT_TOTAL_CAP


def _page(index: TicketIndex, query: Query, actor: Actor) -> int:
    """What GET /tickets does with the index: a page, its summaries, the total (free text's capped unless --exact)."""
    return int(index.page(query, actor=actor, cap=CAP)[2])


OPEN = frozenset({"new", "assigned", "in_progress", "pending"})
QUEUES: dict[str, dict[str, frozenset[str]]] = {
    "open": {"status": OPEN}, "held": {"held": frozenset({"true"})}, "unassigned": {"unassigned": frozenset({"true"})},
    "waiting": {"status": frozenset({"pending"})}, "review": {"status": frozenset({"resolved"}), "review": frozenset({"pending"})},
    "mine": {"status": OPEN, "handled_by": frozenset({"agent1"})},
}


def _counts(index: TicketIndex, actor: Actor, text: str | None = None) -> int:
    """What GET /tickets/counts does: six exact counts."""
    return sum(index.count(Query(filters=f, text=text), actor=actor, cap=CAP) for f in QUEUES.values())


def index_main(args: argparse.Namespace) -> None:
    global CAP
    CAP = None if args.exact else search_store.TEXT_TOTAL_CAP
    rng = random.Random(11)
    now = datetime.now(UTC)
    direct = args.direct or args.tickets > 100_000
    with tempfile.TemporaryDirectory(prefix="opsdesk-bench-index-", dir=args.dir) as tmp:
        gc.collect()
        rss_before = rss_mib(os.getpid())
        path = Path(args.keep) if args.keep else Path(tmp) / "search.sqlite"
        index = TicketIndex(path)
        filled_s = indexed_s = 0.0
        if not index.complete:
            started = time.perf_counter()
            index.drop_indexes()
            _fill_index(index, args.tickets, random.Random(7), now, direct=direct)
            filled_s = time.perf_counter() - started
            started = time.perf_counter()
            index.create_indexes()
            index.optimize()
            index.mark_complete()
            indexed_s = time.perf_counter() - started
        index._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        disk = index.disk_bytes()
        if filled_s and not args.child:
            # The searches run in a fresh process that opens the file, as a restarted gateway would: its RSS growth is
            # the index's, not this process's leftovers from generating the tickets.
            count = len(index)
            index.close()
            child = subprocess.run(
                [sys.executable, __file__, "index", "--tickets", str(args.tickets), "--queries", str(args.queries),
                 "--keep", str(path), "--child", *(["--exact"] if args.exact else [])], capture_output=True, text=True, check=True,
            )
            mode = f"rows generated from {TEMPLATES:,} template tickets" if direct else "upserted one by one"
            print(f"# Ticket search index, {count:,} tickets ({mode}); {machine()}; {datetime.now(UTC):%Y-%m-%d}")
            print(f"filled in {filled_s:.1f} s, secondary indexes + ANALYZE {indexed_s:.1f} s; file {disk / 2**20:,.0f} MiB "
                  f"({disk / count:,.0f} B/ticket)")
            print(child.stdout, end="")
            return
        requester = Actor(subject="user42", role="requester", department="財務科")
        engineer = Actor(subject="zhang", role="engineer", engineer_id="eng-3")
        n = args.queries
        ninety = now - timedelta(days=90)
        kinds: list[tuple[str, Any]] = [
            ("free text, Chinese (打印機, 顯示器 黑屏...)", lambda: _page(index, Query(text=rng.choice(["打印機", "卡紙", "顯示器 黑屏", "密碼", "網絡 很慢", "郵件"])), DESK_ACTOR)),
            ("free text, English", lambda: _page(index, Query(text=rng.choice(["printer", "email quota", "pdf", "offline"])), DESK_ACTOR)),
            ("a ticket number", lambda: _page(index, Query(text=f"INC-{now.year}-{rng.randint(1, args.tickets):07d}"), DESK_ACTOR)),
            ("filters: status + priority + department", lambda: _page(index, Query(filters={
                "status": frozenset({rng.choice(["new", "assigned", "in_progress"])}), "priority": frozenset({rng.choice(["P1", "P2"])}),
                "department": frozenset({rng.choice(DEPARTMENTS)})}), DESK_ACTOR)),
            ("open tickets, newest first (desk queue)", lambda: _page(index, Query(filters={"status": OPEN}), DESK_ACTOR)),
            ("text + filter + date range", lambda: _page(index, Query(text="打印機", filters={"channel": frozenset({rng.choice(CHANNELS)})},
                                                                       created_from=ninety), DESK_ACTOR)),
            ("all tickets, sorted by priority", lambda: _page(index, Query(sort="priority"), DESK_ACTOR)),
            ("all tickets, sorted by last change", lambda: _page(index, Query(sort="updated_at"), DESK_ACTOR)),
            ("requester's own and department's view", lambda: _page(index, Query(), requester)),
            ("engineer's view", lambda: _page(index, Query(), engineer)),
            ("queue counts (6 exact counts)", lambda: _counts(index, DESK_ACTOR)),
            ("queue counts with free text", lambda: _counts(index, DESK_ACTOR, "打印機")),
            ("metrics scrape: tickets by status + desk share", lambda: (index.counts("status"), index.resolution_counts())),
            ("desk share of one month", lambda: index.resolution_counts(start=now - timedelta(days=30), end=now)),
        ]
        rows: list[tuple[str, float, float]] = []
        for label, work in kinds:
            samples: list[float] = []
            for _ in range(n):
                _timed(samples, work, index)
            samples.sort()
            rows.append((label, statistics.median(samples), samples[max(int(len(samples) * 0.99) - 1, 0)]))
        # Deep pages: walk 200 pages of 100 with the cursor (the 200th page is as cheap as the first).
        page_samples: list[float] = []
        cursor: str | None = None
        for _ in range(200):
            ids, cursor = _timed(page_samples, lambda c=cursor: index.search(Query(limit=100, cursor=c), actor=DESK_ACTOR))
            index.summaries(ids)
        last_pages = sorted(page_samples[-50:])
        page_samples.sort()
        rows.append(("cursor paging, 200 pages of 100 (page only)", statistics.median(page_samples), page_samples[-2]))
        rows.append(("  the last 50 of those pages", statistics.median(last_pages), last_pages[-1]))
        gc.collect()
        rss_after = rss_mib(os.getpid())
        count = len(index)
        index.close()
    print(f"searched in a process that opened the file: RSS {rss_before:.0f} MiB before opening, {rss_after:.0f} MiB after "
          f"the searches ({(rss_after - rss_before) * 2**20 / count:,.0f} B/ticket; mapped file pages included)")
    total = "exact total" if CAP is None else f"total (free text's capped at {CAP:,})"
    print(f"| search ({args.queries} each; page + summaries + {total}) | p50 ms | p99 ms |")
    print("|---|---:|---:|")
    for label, p50, p99 in rows:
        print(f"| {label} | {p50:.1f} | {p99:.1f} |")


# --- restart mode ---------------------------------------------------------------------------------------------------


async def _tail(stack: Stack, count: int) -> list[tuple[str, str]]:
    """Change `count` tickets in the database (to pending, one version up) and announce each on the stream as another
    gateway replica would (ticket.updated); returns their (id, number)."""
    from opsdesk_shared.bus import JetStreamPublisher, make_broker
    from opsdesk_shared.contracts import Envelope, TicketUpdatedV1

    assert stack.database is not None and stack.nats is not None
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.database.url)
    tickets = client["opsdesk_intake"]["tickets"]
    picked = [(d["_id"], d["number"]) async for d in tickets.find({"status": "closed"}, {"number": 1}).limit(count)]
    broker = make_broker(stack.nats.url, name="bench-replica", user="intake", password=stack.nats.passwords["intake"])
    await broker.connect()
    publisher = JetStreamPublisher(broker)
    now = datetime.now(UTC)
    for ticket_id, number in picked:
        await tickets.update_one({"_id": ticket_id}, {"$set": {"status": "pending", "updated_at": now}, "$inc": {"version": 1}})
        event = TicketUpdatedV1(ticket_id=ticket_id, number=number, changes={"status": {"old": "closed", "new": "pending"}},
                                by="bench", updated_at=now)
        await publisher.publish(Envelope.wrap(event, producer="intake", correlation_id="bench-tail", subject_id=ticket_id))
    await broker.stop()
    await client.close()
    return picked


def _log_lines(log: Path, offset: int, needle: str) -> list[str]:
    with log.open("rb") as f:
        f.seek(offset)
        return [line.strip()[-300:] for line in f.read().decode(errors="replace").splitlines() if needle in line]


def restart_main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="opsdesk-bench-restart-") as tmp:
        stack = Stack(var_dir=Path(tmp) / "var", token=TOKEN)
        stack.start_infra()
        try:
            assert stack.database is not None
            filled = asyncio.run(fill(stack.database.url, "opsdesk_intake", args.tickets))
            log = stack.var_dir / "logs" / "intake.log"
            started = time.perf_counter()
            stack.start(("intake",), ready_timeout=1800)
            first_s = time.perf_counter() - started
            intake = stack.service("intake")
            assert intake.process is not None
            first_cpu = cpu_s(intake.process.proc.pid)
            first_lines = _log_lines(log, 0, "search index ready")
            index_file = stack.var_dir / "intake-search.sqlite"
            intake.stop()
            tail_started = time.perf_counter()
            picked = asyncio.run(_tail(stack, args.tail))
            tail_s = time.perf_counter() - tail_started
            offset = log.stat().st_size
            started = time.perf_counter()
            intake.start()
            intake.wait_ready(600)
            second_s = time.perf_counter() - started
            assert intake.process is not None
            second_cpu = cpu_s(intake.process.proc.pid)
            memory = rss_mib(intake.process.proc.pid)
            second_lines = _log_lines(log, offset, "search index ready")
            admin = {"Authorization": f"Bearer {TOKEN}"}
            wrong = 0
            with httpx.Client(timeout=30) as client:
                for _, number in random.Random(3).sample(picked, min(50, len(picked))):
                    page = client.get(f"{stack.gateway}/api/v1/tickets", params={"q": number, "status": "pending"}, headers=admin).json()
                    wrong += page["total"] != 1
            disk = sum(p.stat().st_size for p in index_file.parent.glob("intake-search.sqlite*"))
        finally:
            stack.stop()
    print(f"# Gateway restart with its search index file, {args.tickets:,} tickets in FerretDB; {machine()}; {datetime.now(UTC):%Y-%m-%d}")
    print(f"database filled in {filled:.1f} s; index file {disk / 2**20:,.0f} MiB; gateway RSS after the restart {memory:.0f} MiB")
    print("| start | to /readyz s | gateway CPU s | what the gateway logged |")
    print("|---|---:|---:|---|")
    print(f"| first start: no index file, built from the database | {first_s:.1f} | {first_cpu:.1f} | {' '.join(first_lines)[-250:]} |")
    print(f"| restart after {len(picked):,} ticket events (announced in {tail_s:.1f} s) | {second_s:.1f} | {second_cpu:.1f} | "
          f"{' '.join(second_lines)[-250:]} |")
    print(f"changed tickets found with their new status after the restart: {min(50, len(picked)) - wrong} of {min(50, len(picked))}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["index", "restart", "http"], nargs="?", default="index")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--tail", type=int, default=2000, help="restart: ticket events while the gateway is down")
    parser.add_argument("--dir", default=None, help="index: where the temporary index file goes")
    parser.add_argument("--direct", action="store_true", help="index: write template rows even at 100,000 or fewer")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--exact", action="store_true", help="index: count free-text totals exactly (no cap)")
    parser.add_argument("--keep", default=None, help="index: keep the file here (a complete one is reused, not filled)")
    args = parser.parse_args()
    {"index": index_main, "restart": restart_main, "http": http_main}[args.mode](args)


if __name__ == "__main__":
    main()
