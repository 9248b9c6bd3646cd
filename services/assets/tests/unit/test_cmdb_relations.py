"""Relations: which cycles are refused, and impact analysis on generated graphs checked against a reference."""

from __future__ import annotations

import random

import pytest

from assets.relations import DEPENDENCY, GraphIndex, Node, Relation, RelationRefused, relation_id

TYPES = ["runs_on", "depends_on", "connected_to", "installed_on", "used_by"]


def rel(source: str, type_: str, target: str) -> Relation:
    return Relation(source=source, type=type_, target=target)  # type: ignore[arg-type]


def graph(*edges: tuple[str, str, str], nodes: dict[str, Node] | None = None) -> GraphIndex:
    index = GraphIndex()
    for tag, node in (nodes or {}).items():
        index.set_node(tag, node)
    for e in edges:
        index.check(rel(*e))
        index.add(rel(*e))
    return index


def test_depends_on_cycle_is_refused_with_the_cycle() -> None:
    index = graph(("A", "depends_on", "B"), ("B", "depends_on", "C"))

    with pytest.raises(RelationRefused) as caught:
        index.check(rel("C", "depends_on", "A"))

    assert caught.value.cycle == ["C", "A", "B", "C"]


def test_a_cycle_through_mixed_dependency_types_is_refused() -> None:
    index = graph(("app", "runs_on", "vm"), ("vm", "installed_on", "host"))

    with pytest.raises(RelationRefused):
        index.check(rel("host", "depends_on", "app"))


def test_connected_to_may_form_cycles_and_is_symmetric() -> None:
    index = graph(("sw1", "connected_to", "sw2"), ("sw2", "connected_to", "sw3"), ("sw3", "connected_to", "sw1"))

    assert index.relations == 3
    with pytest.raises(RelationRefused, match="already exists"):
        index.check(rel("sw2", "connected_to", "sw1"))  # the same link named from the other end
    assert relation_id("b", "connected_to", "a") == relation_id("a", "connected_to", "b")
    assert relation_id("b", "depends_on", "a") != relation_id("a", "depends_on", "b")


def test_used_by_may_point_back() -> None:
    index = graph(("app", "used_by", "svc"), ("svc", "used_by", "app"))
    assert index.relations == 2


def test_self_relation_and_duplicate_are_refused() -> None:
    index = graph(("A", "runs_on", "B"))
    with pytest.raises(RelationRefused):
        index.check(rel("A", "connected_to", "A"))
    with pytest.raises(RelationRefused):
        index.check(rel("A", "runs_on", "B"))


def test_removing_a_relation_allows_the_reverse_again() -> None:
    index = graph(("A", "depends_on", "B"))
    assert index.remove(rel("A", "depends_on", "B"))
    index.check(rel("B", "depends_on", "A"))
    assert index.relations == 0 and not index.remove(rel("A", "depends_on", "B"))


def test_impact_of_a_failing_server_names_applications_services_and_departments_with_paths() -> None:
    nodes = {
        "srv": Node(ci_type="server", department="信息中心"), "sw": Node(ci_type="network_device", category="network"),
        "erp": Node(ci_type="application", category="application", department="財務科"),
        "pay": Node(ci_type="business_service", category="business_service", department="財務科"),
        "mail": Node(ci_type="application", category="application", department="辦公室"),
        "db": Node(ci_type="server"),
    }
    index = graph(
        ("erp", "runs_on", "srv"), ("pay", "depends_on", "erp"), ("pay", "used_by", "dept:人事科"),
        ("srv", "connected_to", "sw"), ("mail", "runs_on", "db"), nodes=nodes,
    )

    result = index.impact("srv", depth=5)

    assert [h.tag for h in result.applications] == ["erp"]
    assert [h.tag for h in result.business_services] == ["pay"]
    assert result.business_services[0].path == ["srv", "erp", "pay"]
    assert result.business_services[0].via == ["runs_on", "depends_on"]
    assert {h.tag for h in result.departments} == {"dept:人事科", "dept:財務科"}
    assert {h.tag for h in result.items} == {"erp", "pay"}  # mail runs elsewhere; a server does not take its switch down
    assert result.affected == 2
    switch = index.impact("sw", depth=5)
    assert [h.tag for h in switch.business_services] == ["pay"]
    assert switch.business_services[0].via == ["connected_to", "runs_on", "depends_on"]


def test_impact_stops_at_the_depth_limit() -> None:
    chain = [(f"n{i + 1}", "depends_on", f"n{i}") for i in range(6)]
    index = graph(*chain)

    result = index.impact("n0", depth=3)

    assert [h.tag for h in result.items] == ["n1", "n2", "n3"]
    assert result.items[-1].path == ["n0", "n1", "n2", "n3"]


def test_reverse_direction_lists_what_a_service_depends_on() -> None:
    nodes = {"pay": Node(ci_type="business_service", category="business_service"),
             "sw": Node(ci_type="network_device", category="network"), "core": Node(ci_type="network_device", category="network")}
    index = graph(("pay", "depends_on", "erp"), ("erp", "runs_on", "srv"), ("srv", "connected_to", "sw"),
                  ("other", "runs_on", "srv"), ("sw", "connected_to", "core"), ("pc", "connected_to", "sw"), nodes=nodes)

    result = index.impact("pay", depth=5, direction="depends")

    assert [h.tag for h in result.items] == ["erp", "srv", "sw"]
    assert result.items[-1].via == ["depends_on", "runs_on", "connected_to"]


def test_limit_truncates_the_item_list_but_counts_everything() -> None:
    index = graph(*[(f"a{i}", "runs_on", "host") for i in range(30)])

    result = index.impact("host", limit=10)

    assert (result.affected, len(result.items), result.truncated) == (30, 10, True)


def propagation(edges: list[tuple[str, str, str]], network: set[str]) -> list[tuple[str, str]]:
    """(failing, affected) pairs, written from the rules in the docstring, not from the index's code."""
    steps: list[tuple[str, str]] = []
    for s, t, d in edges:
        if t in DEPENDENCY:
            steps.append((d, s))
        elif t == "used_by":
            steps.append((s, d))
        elif (s in network) != (d in network):
            steps.append((s, d) if s in network else (d, s))
    return steps


def test_switch_failure_crosses_links_to_devices_but_not_to_other_switches() -> None:
    nodes = {n: Node(ci_type="network_device", category="network") for n in ("core", "sw1", "sw2")}
    index = graph(("sw1", "connected_to", "core"), ("sw2", "connected_to", "core"), ("pc1", "connected_to", "sw1"),
                  ("pc2", "connected_to", "sw2"), ("sw1", "depends_on", "core"), nodes=nodes)

    assert [h.tag for h in index.impact("sw1").items] == ["pc1"]
    assert [h.tag for h in index.impact("core").items] == ["sw1", "pc1"]  # the uplink is a depends_on
    assert [h.tag for h in index.impact("pc1").items] == []
    assert [h.tag for h in index.impact("pc1", direction="depends").items] == ["sw1", "core"]


def reference_levels(
    edges: list[tuple[str, str, str]], root: str, depth: int, network: set[str], *, reverse: bool = False
) -> dict[str, int]:
    """Shortest distances by plain relaxation over the edge list: independent of the index under test. Reversed,
    it answers what the root depends on."""
    steps = [(b, a) if reverse else (a, b) for a, b in propagation(edges, network)]
    level = {root: 0}
    for k in range(1, depth + 1):
        frontier = [a for a, lv in level.items() if lv == k - 1]
        for a in frontier:
            for x, y in steps:
                if x == a and y not in level:
                    level[y] = k
    level.pop(root)
    return level


@pytest.mark.parametrize("seed", range(12))
def test_impact_on_a_generated_graph_matches_the_reference(seed: int) -> None:
    rng = random.Random(seed)
    n = 300
    index = GraphIndex()
    for i in range(n):
        kind = rng.choice(["server", "application", "business_service", "desktop", "network_device"])
        category = {"application": "application", "business_service": "business_service", "network_device": "network"}.get(kind, "hardware")
        index.set_node(f"c{i}", Node(ci_type=kind, category=category, department=f"d{i % 7}"))
    edges: list[tuple[str, str, str]] = []
    while len(edges) < 700:
        a, b = rng.sample(range(n), 2)
        type_ = rng.choice(TYPES)
        if type_ in DEPENDENCY and a < b:
            a, b = b, a  # dependencies point to lower numbers: acyclic by construction
        r = rel(f"c{a}", type_, f"c{b}")
        if index.has(r):
            continue
        index.check(r)
        index.add(r)
        edges.append((r.source, r.type, r.target))
    root = f"c{rng.randrange(n)}"
    depth = rng.randint(1, 5)

    result = index.impact(root, depth=depth, limit=10_000)

    network = {t for t, n in index.nodes.items() if n.category == "network"}
    expected = reference_levels(edges, root, depth, network)
    assert {h.tag: h.depth for h in result.items} == expected
    steps = set(propagation(edges, network))
    for h in result.items:
        assert h.path[0] == root and h.path[-1] == h.tag and len(h.path) == h.depth + 1
        assert all((x, y) in steps for x, y in zip(h.path, h.path[1:], strict=False))
    assert {h.tag for h in result.applications} == {t for t in expected if index.nodes[t].category == "application"}
    needs = index.impact(root, depth=depth, direction="depends", limit=10_000)
    assert {h.tag: h.depth for h in needs.items} == reference_levels(edges, root, depth, network, reverse=True)


def test_generated_random_dependency_edges_never_leave_a_cycle() -> None:
    rng = random.Random(7)
    index = GraphIndex()
    refused = 0
    for _ in range(2000):
        a, b = rng.sample(range(60), 2)
        r = rel(f"c{a}", rng.choice(sorted(DEPENDENCY)), f"c{b}")
        try:
            index.check(r)
        except RelationRefused:
            refused += 1
            continue
        index.add(r)
    assert refused > 0
    # Acyclic: a topological order exists over the dependency edges.
    indegree = {f"c{i}": 0 for i in range(60)}
    for edges in index.out.values():
        for _, dst in edges:
            indegree[dst] += 1
    ready = [t for t, d in indegree.items() if d == 0]
    seen = 0
    while ready:
        node = ready.pop()
        seen += 1
        for _, dst in index.out.get(node, []):
            indegree[dst] -= 1
            if indegree[dst] == 0:
                ready.append(dst)
    assert seen == 60
