"""The CMDB's stores on the real database: the Docs contract (also on memory), the register's versions, the relation
index loaded from the database and followed across two instances, a bulk import, and events relayed from the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from assets import domain, service, service_ops
from assets.adapters.memory import MemoryDocs
from assets.adapters.mongo import MongoAssetRegister, MongoDocs
from assets.domain import Asset, Location
from assets.ports import DuplicateKey
from assets.relations import Relation
from assets.service import Ctx
from assets.service_graph import RelationGraph
from opsdesk_shared.contracts import Envelope
from opsdesk_shared.contracts.cmdb import CiChangedV1

pytestmark = pytest.mark.integration


class Recorder:
    """Stands in for JetStream: what the relay published."""

    def __init__(self) -> None:
        self.sent: list[Envelope] = []

    async def publish(self, envelope: Envelope) -> None:
        self.sent.append(envelope)


@pytest.fixture(params=["memory", "mongo"])
def docs(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return MemoryDocs()
    return MongoDocs(request.getfixturevalue("mongo_db")["docs"])


async def test_create_refuses_a_second_document_with_the_key(docs: Any) -> None:
    await docs.create("k1", {"a": 1})
    with pytest.raises(DuplicateKey):
        await docs.create("k1", {"a": 2})
    assert (await docs.get("k1"))["a"] == 1


async def test_replace_if_only_while_the_expected_fields_hold(docs: Any) -> None:
    await docs.create("k1", {"_v": 1, "x": "a"})

    assert await docs.replace_if("k1", {"_v": 2, "x": "b"}, expect={"_v": 1})
    assert not await docs.replace_if("k1", {"_v": 2, "x": "c"}, expect={"_v": 1})
    assert not await docs.replace_if("missing", {"_v": 1}, expect={"_v": 0})
    assert (await docs.get("k1"))["x"] == "b"


async def test_incr_counts_from_zero_and_create_many_scan_keys_delete(docs: Any) -> None:
    assert [await docs.incr("c", "n", 3), await docs.incr("c", "n")] == [3, 4]
    await docs.create_many([(f"m{i}", {"i": i}) for i in range(2500)])

    keys = await docs.keys()
    assert {f"m{i}" for i in range(2500)} <= keys and "c" in keys
    assert sum([1 async for d in docs.scan() if d["_id"].startswith("m")]) == 2500
    assert await docs.delete("m0") and not await docs.delete("m0")


async def test_scan_with_fields_reads_only_those_and_the_key(docs: Any) -> None:
    await docs.create("k1", {"type": "server", "department": "財務科", "big": "x" * 500})
    await docs.create("k2", {"type": "desktop", "big": "y"})

    found = {d["_id"]: d async for d in docs.scan(fields=("type", "department")) if d["_id"] in ("k1", "k2")}

    assert found == {"k1": {"_id": "k1", "type": "server", "department": "財務科"}, "k2": {"_id": "k2", "type": "desktop"}}


async def test_register_versions_and_as_of_on_the_database(mongo_db: Any, t0: datetime) -> None:
    register = MongoAssetRegister(mongo_db)
    types = MongoDocs(mongo_db["asset_types"])
    draft = Asset(tag="", type="desktop", location=Location(building="主樓", room="205"), owner="王小明", status="in_stock",
                  attributes={"image_version": "W11"})
    asset = await service.register_asset(draft, register=register, types=types, tag_pattern="{prefix}-{year}-{seq:06d}",
                                         tag_prefix="GZ", ctx=Ctx(by="a", now=t0, correlation_id="c"))
    await service.update_asset(asset.tag, {"owner": "李華"}, register=register, types=types, ctx=Ctx(by="b", now=t0 + timedelta(days=1), correlation_id="c"))
    await service.change_asset_status(asset.tag, "deployed", register=register, ctx=Ctx(by="c", now=t0 + timedelta(days=2), correlation_id="c"))

    history = await register.history(asset.tag)
    then = await service.asset_as_of(asset.tag, t0 + timedelta(hours=30), register=register)

    assert asset.tag == "GZ-2026-000001"
    assert [(v.version, v.by, v.change) for v in history] == [(1, "a", "created"), (2, "b", "updated"), (3, "c", "status_changed")]
    assert then is not None and (then.owner, then.status, then.version) == ("李華", "in_stock", 2)
    assert (await register.get(asset.tag)).attributes == {"image_version": "W11"}  # type: ignore[union-attr]


async def test_ci_changed_events_are_stored_with_the_item_and_relayed(mongo_db: Any, t0: datetime) -> None:
    recorder = Recorder()
    register = MongoAssetRegister(mongo_db, recorder)
    stored, record, event = domain.new_version(None, Asset(tag="GZ-EV-1", type="server", location=Location(building="主樓")), by="x", at=t0)

    await register.add(stored, record, [Envelope.wrap(event, producer="assets", correlation_id="c", subject_id=stored.tag)])

    assert [CiChangedV1.model_validate(e.data).tag for e in recorder.sent] == ["GZ-EV-1"]
    raw = await mongo_db["assets"].find_one({"_id": "GZ-EV-1"})
    assert raw.get("_outbox", []) == []  # relayed, then removed from the document


async def _graph(db: Any) -> RelationGraph:
    return RelationGraph(relations=MongoDocs(db["relations"]), log=MongoDocs(db["graph_log"]), meta=MongoDocs(db["meta"]))


async def test_relation_index_loads_from_the_database_and_follows_another_instance(mongo_db: Any, t0: datetime) -> None:
    register = MongoAssetRegister(mongo_db)
    types = MongoDocs(mongo_db["asset_types"])
    ctx = Ctx(by="x", now=t0, correlation_id="c")
    for tag, type_ in (("S-1", "server"), ("A-1", "application"), ("A-2", "application"), ("B-1", "business_service")):
        await service.register_asset(Asset(tag=tag, type=type_, location=Location(building="主樓"), department="財務科"),
                                     register=register, types=types, ctx=ctx, tag_pattern="", tag_prefix="GZ")
    first, second = await _graph(mongo_db), await _graph(mongo_db)
    await first.load(register=register, types=types)
    await second.load(register=register, types=types)

    await first.add(Relation(source="A-1", type="runs_on", target="S-1"), register=register, ctx=ctx)
    await first.add(Relation(source="B-1", type="depends_on", target="A-1"), register=register, ctx=ctx)
    seen_by_second = await second.impact("S-1", depth=5, direction="impact", limit=100)
    await second.add(Relation(source="A-2", type="runs_on", target="S-1"), register=register, ctx=ctx)
    await first.remove("B-1>depends_on>A-1", register=register, ctx=ctx)
    seen_by_first = await first.impact("S-1", depth=5, direction="impact", limit=100)
    fresh = await _graph(mongo_db)
    await fresh.load(register=register, types=types)

    assert [h.tag for h in seen_by_second.business_services] == ["B-1"]
    assert sorted(h.tag for h in seen_by_first.items) == ["A-1", "A-2"]
    assert fresh.index.relations == first.index.relations == 2
    assert (await fresh.impact("S-1", depth=5, direction="impact", limit=100)).affected == 2


async def test_bulk_import_writes_every_row_into_the_database(mongo_db: Any, t0: datetime) -> None:
    register = MongoAssetRegister(mongo_db)
    types, imports = MongoDocs(mongo_db["asset_types"]), MongoDocs(mongo_db["imports"])
    rows = "".join(f",desktop,主樓,財務科,{i % 64}\n" for i in range(1500))
    content = ("tag,type,building,department,attr.ram_gb\n" + rows).encode()

    report = await service_ops.import_register(content, file_name="r.csv", dry_run=False, register=register, types=types,
                                               imports=imports, graph=None, ctx=Ctx(by="x", now=t0, correlation_id="c"),
                                               tag_pattern="{prefix}-{year}-{seq:06d}", tag_prefix="IM")

    assert report.written == 1500 and report.errors == []
    tags = await register.tags()
    assert len(tags) == 1500 and "IM-2026-001500" in tags
    assert (await register.get("IM-2026-000007")).attributes == {"ram_gb": 6}  # type: ignore[union-attr]
    assert len(await register.history("IM-2026-000007")) == 1
