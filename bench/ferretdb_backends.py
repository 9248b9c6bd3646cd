"""FerretDB v1.24 on SQLite beside FerretDB v1.24 on PostgreSQL, same workload (issue 17's database lever).

Starts, in a temporary directory, one FerretDB process per backend on its own 127.0.0.1 port: SQLite with the flags
tools/devstack uses (WAL, synchronous(NORMAL), the `_id` index patch of scripts/build-ferretdb.sh), and PostgreSQL
15 (Debian's binaries) as a plain process owned by the `postgres` user (initdb into the temp dir, trust auth on
127.0.0.1 only, no system service) with FerretDB's `--handler=postgresql` in front of it. No authentication on
either (the devstack's SCRAM users cost the same on both).

Per operation kind, at concurrency 1 and 16 (one `pymongo.AsyncMongoClient`, tasks sharing a counter): wall p50/p99
per operation, and the database side's CPU milliseconds per operation: utime+stime from /proc/<pid>/stat before and
after, of the FerretDB process (SQLite), or of FerretDB + the postmaster + every postgres child (PostgreSQL; a child
that exited in between is counted through the postmaster's cutime+cstime).

Atomicity (no locks, FerretDB has no transactions): 100 concurrent `$push` of distinct values onto one document,
100 concurrent `$inc` by 1, and compare-and-set (`update_one({_id, v: n}, {$set: {v: n + 1}})`) from 20 tasks each
looping until it has won 50 times: the final v must equal the wins and no n may be won twice.

    .venv/bin/python bench/ferretdb_backends.py [--n 2000] [--docs 20000] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import pwd
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient, UpdateOne

from opsdesk_devstack.infra import FERRETDB_VERSION, ferretdb_binary, free_port, wait_for_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
CLK_TCK = os.sysconf("SC_CLK_TCK")
OP_TIMEOUT_MS = 90_000  # an operation not answered in 90 s counts as hung (FerretDB v1 can starve its own pool)
Doc = dict[str, Any]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()  # fields from 3 (state) on; the command name may hold spaces


def cpu_ticks(pid: int, *, with_children: bool = False) -> int:
    """utime+stime of pid (fields 14, 15), plus cutime+cstime (16, 17: its reaped children) if asked."""
    f = _stat(pid)
    if f is None:
        return 0
    ticks = int(f[11]) + int(f[12])
    if with_children:
        ticks += int(f[13]) + int(f[14])
    return ticks


def children(ppid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (f := _stat(int(entry.name))) is not None and int(f[1]) == ppid:
            out.append(int(entry.name))
    return out


@dataclass
class Backend:
    name: str
    ferretdb_cmd: list[str]
    ferretdb_log: Path
    port: int = field(default_factory=free_port)
    ferretdb: subprocess.Popen[bytes] | None = None
    postmaster: subprocess.Popen[bytes] | None = None
    restarts: int = 0

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start_ferretdb(self) -> None:
        cmd = [*self.ferretdb_cmd, f"--listen-addr=127.0.0.1:{self.port}", "--telemetry=disable", "--state-dir=-",
               "--debug-addr=-", "--log-level=warn"]
        self.ferretdb = subprocess.Popen(cmd, stdout=_log(self.ferretdb_log), stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        wait_for_port(self.port, proc=self.ferretdb, name=f"ferretdb {self.name}", log=self.ferretdb_log)

    def restart_ferretdb(self) -> None:
        """A wedged FerretDB (every pool connection held, see one_update_command) answers nothing until restarted;
        its data is in SQLite/PostgreSQL, so a new process carries on."""
        _stop(self.ferretdb)
        self.restarts += 1
        self.start_ferretdb()

    def cpu_ms(self) -> float:
        """The database side's CPU so far (ms): FerretDB, and for PostgreSQL the whole cluster."""
        ticks = cpu_ticks(self.ferretdb.pid) if self.ferretdb else 0
        if self.postmaster is not None:
            ticks += cpu_ticks(self.postmaster.pid, with_children=True)
            ticks += sum(cpu_ticks(pid) for pid in children(self.postmaster.pid))
        return ticks * 1000 / CLK_TCK

    def stop(self) -> None:
        _stop(self.ferretdb)
        _stop(self.postmaster)


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _log(path: Path) -> Any:
    return open(path, "ab")  # handed to the child process; closed when this process ends


def start_sqlite(tmp: Path) -> Backend:
    data = tmp / "sqlite"
    data.mkdir()
    backend = Backend("sqlite", [str(ferretdb_binary()), "--handler=sqlite",
                                 f"--sqlite-url=file:{data}/?_pragma=synchronous(NORMAL)"], tmp / "ferretdb-sqlite.log")
    backend.start_ferretdb()
    return backend


def start_postgresql(tmp: Path, *, synchronous_commit: str) -> Backend:
    user = pwd.getpwnam("postgres")
    data = tmp / "pg"
    data.mkdir()
    os.chown(tmp, user.pw_uid, user.pw_gid)
    os.chown(data, user.pw_uid, user.pw_gid)
    as_pg: dict[str, Any] = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": [], "stdin": subprocess.DEVNULL}
    subprocess.run([str(PG_BIN / "initdb"), "-D", str(data), "-U", "ferret", "--auth=trust", "-E", "UTF8",
                    "--locale=C.UTF-8"], check=True, stdout=subprocess.DEVNULL, **as_pg)
    port = free_port()
    log = tmp / "postgres.log"
    os.close(os.open(log, os.O_CREAT | os.O_WRONLY, 0o644))
    os.chown(log, user.pw_uid, user.pw_gid)
    backend = Backend("postgresql", [str(ferretdb_binary()), "--handler=postgresql",
                                     f"--postgresql-url=postgres://ferret@127.0.0.1:{port}/ferretdb"],
                      tmp / "ferretdb-pg.log")
    backend.postmaster = subprocess.Popen(
        [str(PG_BIN / "postgres"), "-D", str(data), "-c", "listen_addresses=127.0.0.1", "-p", str(port),
         "-c", f"unix_socket_directories={data}", "-c", f"synchronous_commit={synchronous_commit}",
         "-c", "max_connections=200"],
        stdout=_log(log), stderr=subprocess.STDOUT, **as_pg)
    try:
        wait_for_port(port, proc=backend.postmaster, name="postgres", log=log)
        for _ in range(50):  # the port opens a moment before the server accepts sessions
            if subprocess.run([str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL).returncode == 0:
                break
            time.sleep(0.2)
        subprocess.run([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "ferret", "ferretdb"],
                       check=True, **as_pg)
        backend.start_ferretdb()
    except BaseException:
        backend.stop()
        raise
    return backend


def ticket(i: int) -> Doc:
    """About 1 KB, shaped like a stored ticket."""
    return {
        "_id": f"T{i:08d}", "number": f"INC{i:08d}", "title": f"打印机卡纸 {i}", "status": "new",
        "priority": "P3", "channel": "web", "service_code": "RS-ONSITE", "department": f"D{i % 40:02d}",
        "requester": f"user{i % 500:04d}", "assignee": None, "tags": ["printer", "floor-3"],
        "description": ("三楼打印机卡纸，纸盒二无法进纸，已重启两次仍然报错。" * 12)[:300],
        "history": [], "version": 1, "created_at": datetime(2026, 11, 30, tzinfo=UTC), "updated_at": None,
        "custom": {"site": "HQ", "floor": 3, "asset": f"A{i:06d}"},
    }


Op = Callable[[int], Awaitable[Any]]


async def timed(op: Op, n: int, concurrency: int, backend: Backend) -> dict[str, float]:
    lat: list[float] = []
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            t0 = time.perf_counter()
            await op(i)
            lat.append((time.perf_counter() - t0) * 1000)

    cpu0, w0 = backend.cpu_ms(), time.perf_counter()
    results = await asyncio.gather(*(worker() for _ in range(concurrency)), return_exceptions=True)
    wall, cpu = time.perf_counter() - w0, backend.cpu_ms() - cpu0
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:  # a timed-out worker stops; the others finish or time out too
        print(f"  {backend.name}: {len(failed)} of {concurrency} workers failed: {failed[0]!r:.300}", file=sys.stderr)
    done = len(lat)
    return {"n": n, "done": done, "p50": percentile(lat, 50), "p99": percentile(lat, 99), "ops_s": done / wall,
            "cpu_op": cpu / max(1, done), "failed": len(failed), "wall": wall}


async def workload(backend: Backend, *, n: int, docs: int, rows: list[tuple[str, str, int, dict[str, float]]]) -> dict[str, Any]:
    client: AsyncMongoClient[Doc] = AsyncMongoClient(backend.url, maxPoolSize=100, timeoutMS=OP_TIMEOUT_MS)
    db = client["bench"]
    seeded = db["tickets"]

    async def restart() -> None:
        nonlocal client, db, seeded
        await client.close()
        backend.restart_ferretdb()
        client = AsyncMongoClient(backend.url, maxPoolSize=100, timeoutMS=OP_TIMEOUT_MS)
        db = client["bench"]
        seeded = db["tickets"]
        print(f"  {backend.name}: FerretDB restarted", file=sys.stderr, flush=True)
    await seeded.create_index("number")
    cpu0, t0 = backend.cpu_ms(), time.perf_counter()
    for start in range(0, docs, 500):
        await seeded.insert_many([ticket(i) for i in range(start, min(docs, start + 500))], ordered=False)
    seed = {"s": time.perf_counter() - t0, "cpu_doc": (backend.cpu_ms() - cpu0) / docs}
    rnd = random.Random(17)

    def rid() -> str:
        return f"T{rnd.randrange(docs):08d}"

    extra = {"ins": docs}
    for conc in (1, 16):
        base = extra["ins"]
        extra["ins"] += n

        async def insert(i: int, base: int = base) -> None:
            await seeded.insert_one(ticket(docs * 10 + base + i))

        async def find_id(i: int) -> None:
            assert await seeded.find_one({"_id": rid()}) is not None

        async def set_two(i: int) -> None:
            r = await seeded.update_one({"_id": rid()}, {"$set": {"status": "assigned", "assignee": f"eng{i}"}})
            assert r.matched_count == 1

        async def push(i: int) -> None:
            r = await seeded.update_one({"_id": rid()}, {"$push": {"history": {"at": i, "what": "note"}}})
            assert r.matched_count == 1

        async def bulk20(i: int) -> None:
            reqs = [UpdateOne({"_id": rid()}, {"$set": {"priority": "P2", "version": i}}) for _ in range(20)]
            await seeded.bulk_write(reqs, ordered=False)

        async def find_indexed(i: int) -> None:
            found = await seeded.find({"number": f"INC{rnd.randrange(docs):08d}"}).to_list()
            assert len(found) == 1

        kinds: list[tuple[str, Op, int]] = [
            ("insert_one (~1 KB)", insert, n),
            (f"find_one by _id ({docs:,} docs)", find_id, n),
            ("update_one by _id, $set 2 fields", set_two, n),
            ("update_one by _id, $push", push, n),
            ("bulk_write 20 UpdateOne by _id (unordered)", bulk20, max(1, n // 10)),
            ("find by indexed non-_id field", find_indexed, max(10, n // 50)),
        ]
        for label, op, count in kinds:
            res = await timed(op, count, conc, backend)
            rows.append((backend.name, label, conc, res))
            print(f"  {backend.name:10} c={conc:<2} {label:45} {res}", file=sys.stderr, flush=True)
            if res["failed"]:
                await restart()
    plans = {}
    for key, value in (("_id", "T00000042"), ("number", "INC00000042")):
        explain = await db.command("explain", {"find": "tickets", "filter": {key: value}})
        print(f"  {backend.name} explain {key}: {explain.get('queryPlanner')}", file=sys.stderr)
        plans[key] = plan_summary(explain.get("queryPlanner"))
    atom = await atomicity(lambda: db["atomic"], restart)
    probe = {}
    for k in (49, 50, 99, 100):
        probe[k] = await one_update_command(seeded, k)
        if probe[k].startswith("no answer"):
            await restart()
    await client.close()
    return {"seed": seed, "plans": plans, "probe": probe, "restarts": backend.restarts, **atom}


def plan_summary(planner: Any) -> str:
    """The scan the backend chose: SQLite's detail text, PostgreSQL's node type (and index)."""
    if isinstance(planner, dict) and isinstance(planner.get("Plan"), list):
        return "; ".join(str(x).split("detail=")[-1] for x in planner["Plan"])
    if isinstance(planner, list) and planner:
        planner = planner[0]
    if isinstance(planner, dict) and isinstance(planner.get("Plan"), dict):
        node = planner["Plan"]
        while node.get("Plans") and node.get("Node Type") in ("Limit", "Result", "Sort"):
            node = node["Plans"][0]
        return f"{node.get('Node Type')}" + (f" on {node['Index Name']}" if node.get("Index Name") else "")
    return repr(planner)[:120]


async def one_update_command(coll: Any, statements: int) -> str:
    """One `update` command (bulk_write, unordered) of k UpdateOne by _id, alone, with a 20 s time-out."""
    reqs = [UpdateOne({"_id": f"T{i:08d}"}, {"$set": {"probe": statements}}) for i in range(statements)]
    t0 = time.perf_counter()
    try:
        await asyncio.wait_for(coll.bulk_write(reqs, ordered=False), 20)
    except Exception as exc:  # the outcome is the measurement
        return f"no answer in {time.perf_counter() - t0:.0f} s ({type(exc).__name__})"
    return f"{(time.perf_counter() - t0) * 1000:.0f} ms"


async def concurrent_updates(coll: Any, doc_id: str, tasks: int, update: Callable[[int], Doc]) -> int:
    """`tasks` update_one of one document at once; returns how many got no answer (raised)."""
    results = await asyncio.gather(*(coll.update_one({"_id": doc_id}, update(k)) for k in range(tasks)),
                                   return_exceptions=True)
    return sum(isinstance(r, BaseException) for r in results)


async def atomicity(get_coll: Callable[[], Any], restart: Callable[[], Awaitable[None]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for tasks in (100, 40):  # 40: under FerretDB's PostgreSQL pool of 50 connections
        doc_id = f"one-{tasks}"
        await get_coll().insert_one({"_id": doc_id, "items": [], "count": 0})
        failed = await concurrent_updates(get_coll(), doc_id, tasks, lambda k: {"$push": {"items": k}})
        if failed:
            await restart()
        failed_inc = await concurrent_updates(get_coll(), doc_id, tasks, lambda k: {"$inc": {"count": 1}})
        if failed_inc:
            await restart()
        after = await get_coll().find_one({"_id": doc_id})
        assert after is not None
        out[f"push_{tasks}"] = f"{len(after['items'])} of {tasks}" + (f" ({failed} no answer: wedged)" if failed else "")
        out[f"inc_{tasks}"] = f"{after['count']} of {tasks}" + (f" ({failed_inc} no answer: wedged)" if failed_inc else "")
    coll = get_coll()
    await coll.insert_one({"_id": "cas", "v": 0})
    won: list[int] = []
    attempts = 0

    async def contender() -> None:
        nonlocal attempts
        mine = 0
        while mine < 50:
            cur = await coll.find_one({"_id": "cas"}, {"v": 1})
            n = cur["v"]
            attempts += 1
            r = await coll.update_one({"_id": "cas", "v": n}, {"$set": {"v": n + 1}})
            if r.modified_count == 1:
                mine += 1
                won.append(n)

    t0 = time.perf_counter()
    await asyncio.gather(*(contender() for _ in range(20)))
    cas_s = time.perf_counter() - t0
    final = await coll.find_one({"_id": "cas"})
    assert final is not None
    doubles = sum(c - 1 for c in Counter(won).values() if c > 1)
    return {**out, "cas_wins": len(won), "cas_final": final["v"], "cas_double": doubles, "cas_attempts": attempts,
            "cas_s": cas_s}


def _probe_cell(k: int) -> Callable[[dict[str, Any]], str]:
    return lambda i: str(i["probe"][k])


def tables(rows: list[tuple[str, str, int, dict[str, float]]], info: dict[str, dict[str, Any]]) -> str:
    names = list(dict.fromkeys(r[0] for r in rows))
    out = ["| operation | conc | n | " + " | ".join(f"{b} p50 / p99 ms | {b} ops/s | {b} CPU ms/op" for b in names) + " |",
           "|---|---:|---:|" + "---:|---:|---:|" * len(names)]
    keyed = {(b, label, c): res for b, label, c, res in rows}
    for label, conc in dict.fromkeys((r[1], r[2]) for r in rows):
        cells = []
        n = 0
        for b in names:
            res = keyed.get((b, label, conc))
            if res is None:
                cells.append("- | - | -")
                continue
            n = int(res["n"])
            if res["failed"]:
                cells.append(f"HUNG: {int(res['done'])} of {n} answered, {int(res['failed'])} of {conc} tasks timed "
                             f"out ({OP_TIMEOUT_MS // 1000} s) | {res['ops_s']:,.1f} | -")
                continue
            cells.append(f"{res['p50']:.2f} / {res['p99']:.2f} | {res['ops_s']:,.0f} | {res['cpu_op']:.2f}")
        out.append(f"| {label} | {conc} | {n:,} | " + " | ".join(cells) + " |")
    out += ["", "| atomicity (no locks) | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    lines: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("100 concurrent $push of distinct values onto one doc: kept", lambda i: i["push_100"]),
        ("100 concurrent $inc by 1 of one field: final", lambda i: i["inc_100"]),
        ("40 concurrent $push of distinct values onto one doc: kept", lambda i: i["push_40"]),
        ("40 concurrent $inc by 1 of one field: final", lambda i: i["inc_40"]),
        ("CAS, 20 tasks x 50 wins: wins / final v / n won twice",
         lambda i: f"{i['cas_wins']} / {i['cas_final']} / {i['cas_double']}"),
        ("CAS attempts (time)", lambda i: f"{i['cas_attempts']:,} ({i['cas_s']:.1f} s)"),
        ("seed: CPU ms per inserted doc (insert_many of 500)", lambda i: f"{i['seed']['cpu_doc']:.2f}"),
        ("explain: find by _id", lambda i: i["plans"]["_id"]),
        ("explain: find by indexed `number`", lambda i: i["plans"]["number"]),
    ]
    lines += [(f"one update command of {k} UpdateOne by _id, alone", _probe_cell(k)) for k in (49, 50, 99, 100)]
    lines.append(("FerretDB restarts needed (wedged, answering nothing)", lambda i: str(i["restarts"])))
    for label, cell in lines:
        out.append(f"| {label} | " + " | ".join(cell(info[b]) for b in names) + " |")
    return "\n".join(out)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="operations per kind and concurrency (bulk and "
                        "non-_id find: n/10)")
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-synchronous-commit", default="off", help="off: a crash of the server loses nothing "
                        "the OS has; like SQLite's synchronous(NORMAL), a power cut may lose the last commits")
    parser.add_argument("--op-timeout", type=int, default=90, help="seconds before an operation counts as hung")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (logs)")
    args = parser.parse_args()
    global OP_TIMEOUT_MS
    OP_TIMEOUT_MS = args.op_timeout * 1000
    tmp = Path(tempfile.mkdtemp(prefix="ferretdb-backends-"))
    tmp.chmod(0o755)
    rows: list[tuple[str, str, int, dict[str, float]]] = []
    info: dict[str, dict[str, Any]] = {}
    try:
        for name in args.backends.split(","):
            sub = tmp / name
            sub.mkdir()
            backend = (start_sqlite(sub) if name == "sqlite"
                       else start_postgresql(sub, synchronous_commit=args.pg_synchronous_commit))
            try:
                info[name] = await workload(backend, n=args.n, docs=args.docs, rows=rows)
            finally:
                backend.stop()
            for k, v in info[name].items():
                print(f"  {name} {k}: {v}", file=sys.stderr)
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    pg_version = subprocess.run([str(PG_BIN / "postgres"), "--version"], capture_output=True, text=True).stdout.strip()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, load average "
          f"{' / '.join(f'{x:.2f}' for x in os.getloadavg())} at the end; FerretDB {FERRETDB_VERSION} (_id patch), "
          f"{pg_version} (synchronous_commit={args.pg_synchronous_commit}); n={args.n}, {args.docs:,} docs\n")
    print(tables(rows, info))


if __name__ == "__main__":
    asyncio.run(main())
