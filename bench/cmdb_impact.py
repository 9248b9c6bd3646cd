"""CMDB figures: impact analysis on 50,000 configuration items and 200,000 relations (the in-memory index), the
index's start-up load from FerretDB, and a 50,000-row register import (dry run, then written into FerretDB).

The generated estate: 100 business services over 1,400 applications, 5,000 VMs on 1,000 hosts with storage,
20 core and 480 access switches (uplinks as depends_on), and ~42,000 end devices plugged into access switches,
each depending on a few applications; filled up to exactly the relation count.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import platform
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from authed import start_db

from assets import service_ops
from assets.adapters.mongo import MongoAssetRegister, MongoDocs
from assets.domain import Asset, Location
from assets.relations import GraphIndex, Node, Relation
from assets.service import Ctx
from assets.service_graph import RelationGraph
from opsdesk_shared.mongo import connect

CATEGORY = {"application": "application", "business_service": "business_service", "network_device": "network"}


def estate(n_items: int, n_relations: int, rng: random.Random) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """(tag -> type, relations) with dependency edges acyclic by construction; proportions scale with n_items."""
    scale = n_items / 50_000
    counts = {k: max(2, int(v * scale)) for k, v in {
        "business_service": 100, "application": 1_400, "host": 1_000, "vm": 5_000, "storage": 500, "core": 20, "access": 480}.items()}
    kinds: dict[str, str] = {}
    groups: dict[str, list[str]] = {}
    for group, count in counts.items():
        ci_type = {"host": "server", "vm": "server", "core": "network_device", "access": "network_device"}.get(group, group)
        groups[group] = [f"{group[:3].upper()}-{i:06d}" for i in range(count)]
        kinds.update({t: ci_type for t in groups[group]})
    end = n_items - len(kinds)
    groups["end"] = [f"END-{i:06d}" for i in range(end)]
    kinds.update({t: rng.choice(["desktop", "desktop", "laptop", "printer", "scanner"]) for t in groups["end"]})
    g = groups
    rels: set[tuple[str, str, str]] = set()
    for s in g["business_service"]:
        rels |= {(s, "depends_on", a) for a in rng.sample(g["application"], 5)}
        rels.add((s, "used_by", f"dept:部門{rng.randrange(40)}"))
    for i, a in enumerate(g["application"]):
        if i > 2:
            rels |= {(a, "depends_on", g["application"][j]) for j in rng.sample(range(i), 2)}  # lower index: acyclic
        rels |= {(a, "runs_on", v) for v in rng.sample(g["vm"], 2)}
    for v in g["vm"]:
        rels.add((v, "runs_on", rng.choice(g["host"])))
    for h in g["host"]:
        rels |= {(h, "depends_on", s) for s in rng.sample(g["storage"], 2)}
        rels.add((h, "connected_to", rng.choice(g["access"])))
    for sw in g["access"]:
        rels.add((sw, "depends_on", rng.choice(g["core"])))
    for e in g["end"]:
        rels.add((e, "connected_to", rng.choice(g["access"])))
    while len(rels) < n_relations:
        rels.add((rng.choice(g["end"]), "depends_on", rng.choice(g["application"])))
    return kinds, sorted(rels)[:n_relations] if len(rels) > n_relations else list(rels)


def build_index(kinds: dict[str, str], rels: list[tuple[str, str, str]]) -> GraphIndex:
    index = GraphIndex()
    for tag, ci_type in kinds.items():
        index.set_node(tag, Node(ci_type=ci_type, category=CATEGORY.get(ci_type, "hardware"), department=f"部門{hash(tag) % 40}"))
    for s, t, d in rels:
        index.add(Relation(source=s, type=t, target=d))  # type: ignore[arg-type]
    return index


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def impact_runs(index: GraphIndex, roots: list[str], *, depth: int, direction: str) -> tuple[list[float], float]:
    times, reached = [], 0
    for root in roots:
        started = time.perf_counter()
        result = index.impact(root, depth=depth, direction=direction, limit=200)  # type: ignore[arg-type]
        times.append((time.perf_counter() - started) * 1000)
        reached += result.affected
    return times, reached / len(roots)


def csv_rows(n: int, rng: random.Random) -> bytes:
    out = io.StringIO()
    out.write("tag,type,model,building,floor,room,owner,department,status,purchase_date,warranty_end,attr.ram_gb,attr.image_version\n")
    for i in range(n):
        out.write(f",desktop,M70t,主樓,{rng.randint(1, 9)},{rng.randint(100, 999)},用戶{i},部門{i % 40},deployed,2024-01-05,2027-01-04,"
                  f"{rng.choice([8, 16, 32])},W11-2026.03\n")
    return out.getvalue().encode()


async def on_database(kinds: dict[str, str], rels: list[tuple[str, str, str]], import_rows: int, rng: random.Random) -> dict[str, float]:
    var = Path(tempfile.mkdtemp(prefix="opsdesk-cmdb-bench-"))
    server = start_db(var / "db", "assets")
    client = connect(server.url_for("assets"))  # as the assets service signs in
    figures: dict[str, float] = {}
    try:
        db = client["opsdesk_assets_bench"]
        now = datetime.now(UTC)
        # Load: the smaller estate written straight into the collections the service reads at start-up.
        assets = [{"_id": t, **Asset(tag=t, type=k, location=Location(building="主樓")).model_dump(mode="json", exclude={"tag"})} for t, k in kinds.items()]
        for start in range(0, len(assets), 5_000):
            await db["assets"].insert_many(assets[start:start + 5_000])
        rel_docs = [{"_id": Relation(source=s, type=t, target=d).id, "source": s, "type": t, "target": d} for s, t, d in rels]  # type: ignore[arg-type]
        for start in range(0, len(rel_docs), 5_000):
            await db["relations"].insert_many(rel_docs[start:start + 5_000])
        register = MongoAssetRegister(db)
        graph = RelationGraph(relations=MongoDocs(db["relations"]), log=MongoDocs(db["graph_log"]), meta=MongoDocs(db["meta"]))
        started = time.perf_counter()
        await graph.load(register=register, types=MongoDocs(db["asset_types"]))
        figures["load_s"] = time.perf_counter() - started
        figures["loaded_relations"] = graph.index.relations
        started = time.perf_counter()
        for _ in range(200):
            await graph.sync()
        figures["sync_ms"] = (time.perf_counter() - started) * 1000 / 200

        content = csv_rows(import_rows, rng)
        common = {"file_name": "bench.csv", "register": register, "types": MongoDocs(db["asset_types"]), "imports": MongoDocs(db["imports"]),
                  "graph": None, "ctx": Ctx(by="bench", now=now, correlation_id="bench"), "tag_pattern": "{prefix}-{year}-{seq:06d}",
                  "tag_prefix": "BN"}
        started = time.perf_counter()
        dry = await service_ops.import_register(content, dry_run=True, **common)  # type: ignore[arg-type]
        figures["dry_s"] = time.perf_counter() - started
        started = time.perf_counter()
        real = await service_ops.import_register(content, dry_run=False, **common)  # type: ignore[arg-type]
        figures["write_s"] = time.perf_counter() - started
        assert dry.errors == [] and real.written == import_rows, (dry.errors[:3], real.written)
        figures["stored"] = await db["assets"].count_documents({"_id": {"$regex": "^BN-"}})
    finally:
        await client.close()
        server.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--relations", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--load-items", type=int, default=10_000, help="estate size for the start-up load from FerretDB")
    parser.add_argument("--load-relations", type=int, default=40_000)
    parser.add_argument("--import-rows", type=int, default=50_000)
    args = parser.parse_args()
    rng = random.Random(11)

    started = time.perf_counter()
    kinds, rels = estate(args.items, args.relations, rng)
    index = build_index(kinds, rels)
    build_s = time.perf_counter() - started
    tags = list(kinds)
    rows = []
    for label, pool, depth, direction in (
        ("impact, random item, depth 5", tags, 5, "impact"),
        ("impact, random host/VM/switch/app, depth 5", [t for t in tags if not t.startswith(("END", "BUS"))], 5, "impact"),
        ("impact, core switch, depth 5", [t for t in tags if t.startswith("COR")], 5, "impact"),
        ("impact, random item, depth 10", tags, 10, "impact"),
        ("depends (reverse), business service, depth 5", [t for t in tags if t.startswith("BUS")], 5, "depends"),
    ):
        roots = [rng.choice(pool) for _ in range(args.queries)]
        times, reached = impact_runs(index, roots, depth=depth, direction=direction)
        rows.append((label, len(times), pct(times, 50), pct(times, 99), max(times), reached))

    small_kinds, small_rels = estate(args.load_items, args.load_relations, random.Random(5))
    db = asyncio.run(on_database(small_kinds, small_rels, args.import_rows, rng))

    print(f"\nOpsdesk CMDB — {datetime.now().date()} — {platform.node()} ({os.cpu_count()} cores), FerretDB v1 (SQLite)")
    print(f"in-memory index: {len(kinds):,} items, {index.relations:,} relations, built in {build_s:.1f} s\n")
    print("| measured | count | p50 ms | p99 ms | max ms | items reached (mean) |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, count, p50, p99, worst, reached in rows:
        print(f"| {label} | {count:,} | {p50:.2f} | {p99:.2f} | {worst:.2f} | {reached:,.0f} |")
    print()
    print("| start-up / import | size | seconds | rate |")
    print("|---|---:|---:|---:|")
    print(f"| index load from FerretDB (items + relations scan) | {args.load_items:,} items, {int(db['loaded_relations']):,} relations | "
          f"{db['load_s']:.2f} | {(args.load_items + db['loaded_relations']) / db['load_s']:,.0f} docs/s |")
    print(f"| index sync when nothing changed (one _id read) | 200 calls | {db['sync_ms'] / 1000 * 200:.3f} | {db['sync_ms']:.2f} ms/call |")
    print(f"| import dry run (parse + validate, CSV) | {args.import_rows:,} rows | {db['dry_s']:.2f} | {args.import_rows / db['dry_s']:,.0f} rows/s |")
    print(f"| import written into FerretDB (validate + insert_many items and versions) | {int(db['stored']):,} rows | {db['write_s']:.2f} | "
          f"{args.import_rows / db['write_s']:,.0f} rows/s |")


if __name__ == "__main__":
    main()
