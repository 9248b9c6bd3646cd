"""The relation graph's start-up load (issue 17: 22 s for 50,000 items and 200,000 relations): it reads only the fields
the index holds, and builds exactly the index that adding each relation one by one builds."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from assets.adapters.memory import MemoryAssetRegister, MemoryDocs
from assets.domain import Asset, Location
from assets.ports import Doc
from assets.relations import GraphIndex, Node, Relation
from assets.service_graph import RelationGraph


class Projecting(MemoryDocs):
    """MemoryDocs noting what each full read asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[Sequence[str] | None] = []

    async def scan(self, fields: Sequence[str] | None = None) -> AsyncIterator[Doc]:
        self.asked.append(fields)
        async for doc in super().scan(fields):
            yield doc


RELATIONS = [
    Relation(source="A-1", type="runs_on", target="S-1"), Relation(source="A-2", type="runs_on", target="S-1"),
    Relation(source="B-1", type="depends_on", target="A-1"), Relation(source="SW-1", type="connected_to", target="D-1"),
    Relation(source="D-1", type="connected_to", target="SW-2"), Relation(source="A-1", type="used_by", target="dept:財務科"),
]
ITEMS = [("S-1", "server", "信息中心"), ("A-1", "application", None), ("A-2", "application", None),
         ("B-1", "business_service", "財務科"), ("SW-1", "network_device", "信息中心"), ("SW-2", "network_device", "信息中心"),
         ("D-1", "desktop", "財務科")]


async def test_the_load_reads_only_the_indexed_fields_and_builds_the_same_index() -> None:
    register = MemoryAssetRegister([Asset(tag=t, type=k, location=Location(building="主樓"), department=d, owner="王小明",
                                          attributes={"big": "x" * 1000}) for t, k, d in ITEMS])
    assets = Projecting()
    assets.by_key = register.assets.by_key  # type: ignore[attr-defined]
    register.assets = assets
    relations = Projecting()
    for rel in RELATIONS:
        await relations.create(rel.id, rel.model_dump(mode="json"))
    graph = RelationGraph(relations=relations, log=MemoryDocs(), meta=MemoryDocs())

    await graph.load(register=register, types=MemoryDocs())

    expected = GraphIndex()
    for rel in RELATIONS:
        expected.add(rel)
    assert assets.asked == [("type", "department")]
    assert relations.asked == [("source", "type", "target")]
    assert (graph.index.out, graph.index.inn, graph.index.relations) == (expected.out, expected.inn, expected.relations)
    assert graph.index.nodes["S-1"] == Node(ci_type="server", category="hardware", department="信息中心")
    assert graph.index.nodes["A-1"] == Node(ci_type="application", category="application", department=None)
    assert graph.index.nodes["A-2"] is graph.index.nodes["A-1"]  # one shared node per (type, department)
    assert [h.tag for h in graph.index.impact("S-1", depth=5, direction="impact", limit=100).items] == ["A-1", "A-2", "B-1"]


def test_add_edge_keeps_connected_to_one_relation_whichever_end_comes_first() -> None:
    index = GraphIndex()
    index.add_edge("SW-1", "connected_to", "D-1")
    index.add_edge("D-1", "connected_to", "SW-1")
    index.add_edge("SW-1", "connected_to", "D-1")
    index.add_edge("A-1", "runs_on", "S-1")
    index.add_edge("S-1", "runs_on", "A-1")  # a different relation (the cycle check is add's caller's, not the index's)

    assert index.relations == 3
    assert index.out["SW-1"] == [("connected_to", "D-1")] and "D-1" not in index.out
