"""The relation graph restarts from a snapshot plus the change log after it (issue 14/17: the full load of 50,000
items and 200,000 relations took 22 s), and a full load after readiness repairs what the log never heard of."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from assets import service
from assets.adapters.mongo import MongoAssetRegister, MongoDocs
from assets.domain import Asset, Location
from assets.relations import Relation
from assets.service import Ctx
from assets.service_graph import SNAPSHOT, RelationGraph
from opsdesk_shared.snapshot import Snapshots

pytestmark = pytest.mark.integration


def _graph(db: Any) -> RelationGraph:
    return RelationGraph(relations=MongoDocs(db["relations"]), log=MongoDocs(db["graph_log"]), meta=MongoDocs(db["meta"]))


def _edges(graph: RelationGraph) -> set[tuple[str, str, str]]:
    return {(s, t, d) for s, out in graph.index.out.items() for t, d in out}


async def test_restart_reads_the_snapshot_and_the_log_after_it_and_reconcile_repairs_the_rest(mongo_db: Any, t0: datetime) -> None:
    register, types, snapshots = MongoAssetRegister(mongo_db), MongoDocs(mongo_db["asset_types"]), Snapshots(mongo_db["snapshots"])
    ctx = Ctx(by="x", now=t0, correlation_id="c")
    for tag, type_, dept in (("S-1", "server", "信息中心"), ("A-1", "application", None), ("A-2", "application", None),
                             ("B-1", "business_service", "財務科")):
        await service.register_asset(Asset(tag=tag, type=type_, location=Location(building="主樓"), department=dept),
                                     register=register, types=types, ctx=ctx, tag_pattern="", tag_prefix="GZ")
    first = _graph(mongo_db)
    await first.add(Relation(source="A-1", type="runs_on", target="S-1"), register=register, ctx=ctx)

    how_first = await first.start_up(register=register, types=types, snapshots=snapshots)  # no snapshot yet
    taken = await snapshots.load(SNAPSHOT)
    await first.add(Relation(source="B-1", type="depends_on", target="A-1"), register=register, ctx=ctx)  # after it
    # A relation stored by an instance that died before logging it: only a full load can know.
    await mongo_db["relations"].insert_one({"_id": "A-2>runs_on>S-1", "source": "A-2", "type": "runs_on", "target": "S-1"})
    second = _graph(mongo_db)
    how_second = await second.start_up(register=register, types=types, snapshots=snapshots)
    after_start = _edges(second)
    differed = await second.reconcile(snapshots)
    third = _graph(mongo_db)
    await third.start_up(register=register, types=types, snapshots=snapshots)

    assert (how_first, how_second) == ("full", "snapshot")
    assert taken is not None and taken.through == 1
    assert after_start == {("A-1", "runs_on", "S-1"), ("B-1", "depends_on", "A-1")}  # snapshot + log tail
    assert differed and ("A-2", "runs_on", "S-1") in _edges(second)
    assert _edges(third) == _edges(second) and third.index.nodes == second.index.nodes
    assert [h.tag for h in (await third.impact("S-1", depth=5, direction="impact", limit=100)).items] == ["A-1", "A-2", "B-1"]


async def test_a_snapshot_ahead_of_the_log_is_not_trusted(mongo_db: Any) -> None:
    """A snapshot newer than the change log (the log's counter was reset, a restored database) loads in full."""
    register, types, snapshots = MongoAssetRegister(mongo_db), MongoDocs(mongo_db["asset_types"]), Snapshots(mongo_db["snapshots"])
    await snapshots.save(SNAPSHOT, through=99, payload={"format": 1, "kinds": [], "tags": [], "kind_of": [],
                                                         "edges": [["X-1", "runs_on", "X-2"]]})
    graph = _graph(mongo_db)

    how = await graph.start_up(register=register, types=types, snapshots=snapshots)

    assert how == "full" and _edges(graph) == set()
