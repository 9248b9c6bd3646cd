"""Typed relations between configuration items and the in-memory graph that answers impact questions: pure."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .texts import Said

RelationType = Literal["runs_on", "depends_on", "connected_to", "installed_on", "used_by"]
RELATION_TYPES: tuple[RelationType, ...] = ("runs_on", "depends_on", "connected_to", "installed_on", "used_by")
# "A runs_on/depends_on/installed_on B": B's failure affects A. Together these must stay acyclic.
# "A used_by B": A's failure affects B. "A connected_to B" is a physical link, symmetric and free to form cycles: a
# failing network item affects the non-network items connected to it (a switch takes its desktops down), nothing
# else crosses it (links between switches are usually redundant: model an uplink as depends_on).
DEPENDENCY: frozenset[str] = frozenset({"runs_on", "depends_on", "installed_on"})
DEPARTMENT_PREFIX = "dept:"  # a used_by target may be a department rather than an item, e.g. dept:財務科
Direction = Literal["impact", "depends"]


class Relation(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: str
    type: RelationType
    target: str
    created_at: datetime | None = None
    created_by: str | None = None

    @property
    def id(self) -> str:
        return relation_id(self.source, self.type, self.target)


def relation_id(source: str, type_: str, target: str) -> str:
    """connected_to is symmetric: one id whichever end is named first."""
    if type_ == "connected_to" and target < source:
        source, target = target, source
    return f"{source}>{type_}>{target}"


class RelationRefused(Exception):
    def __init__(self, message: str, *, cycle: list[str] | None = None) -> None:
        super().__init__(message)
        self.cycle = cycle or []


class ImpactHit(BaseModel):
    model_config = ConfigDict(frozen=True)

    tag: str
    ci_type: str
    name: str | None = Field(default=None, description="The item's name, as people call it (the tag is its label)")
    department: str | None = None
    depth: int
    path: list[str] = Field(description="From the asked-about item to this one")
    via: list[str] = Field(description="Relation type of each step of the path")


class ImpactResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    root: str
    root_name: str | None = Field(default=None, description="The asked-about item's name")
    direction: Direction
    depth: int
    affected: int = Field(description="Items reached (departments excluded)")
    applications: list[ImpactHit]
    business_services: list[ImpactHit]
    departments: list[ImpactHit]
    items: list[ImpactHit] = Field(description="Every item reached, nearest first, up to `limit`")
    truncated: bool


class Node(BaseModel):
    model_config = ConfigDict(frozen=True)

    ci_type: str
    category: str = "hardware"
    department: str | None = None


class GraphIndex:
    """Adjacency lists of every relation plus each item's type and department; mutated as relations change."""

    def __init__(self) -> None:
        self.out: dict[str, list[tuple[str, str]]] = {}
        self.inn: dict[str, list[tuple[str, str]]] = {}
        self.nodes: dict[str, Node] = {}
        self.relations = 0

    def set_node(self, tag: str, node: Node) -> None:
        self.nodes[tag] = node

    def has(self, rel: Relation) -> bool:
        return (rel.type, rel.target) in self.out.get(rel.source, ()) or (
            rel.type == "connected_to" and (rel.type, rel.source) in self.out.get(rel.target, ())
        )

    def add(self, rel: Relation) -> None:
        self.add_edge(rel.source, rel.type, rel.target)

    def add_edge(self, source: str, type_: str, target: str) -> None:
        """`add` without building a Relation (the start-up load adds hundreds of thousands)."""
        out = self.out.get(source)
        if out is not None and (type_, target) in out:
            return
        if type_ == "connected_to" and (type_, source) in self.out.get(target, ()):
            return
        if out is None:
            out = self.out[source] = []
        out.append((type_, target))
        self.inn.setdefault(target, []).append((type_, source))
        self.relations += 1

    def remove(self, rel: Relation) -> bool:
        for source, target in ((rel.source, rel.target), (rel.target, rel.source)):
            edges = self.out.get(source, [])
            if (rel.type, target) in edges:
                edges.remove((rel.type, target))
                self.inn[target].remove((rel.type, source))
                self.relations -= 1
                return True
            if rel.type != "connected_to":
                break
        return False

    def relations_of(self, tag: str) -> list[Relation]:
        out = [Relation(source=tag, type=t, target=o) for t, o in self.out.get(tag, [])]  # type: ignore[arg-type]
        inn = [Relation(source=s, type=t, target=tag) for t, s in self.inn.get(tag, [])]  # type: ignore[arg-type]
        return out + inn

    def check(self, rel: Relation) -> None:
        """Refuse self-relations, duplicates and dependency cycles (connected_to and used_by may form cycles)."""
        if rel.source == rel.target:
            raise RelationRefused(Said("err.self_relation", tag=rel.source))
        if self.has(rel):
            raise RelationRefused(Said("err.relation_exists", id=rel.id))
        if rel.type in DEPENDENCY:
            back = self._dependency_path(rel.target, rel.source)
            if back is not None:
                cycle = [rel.source, *back]
                raise RelationRefused(Said("err.cycle", type_word=rel.type, cycle=" -> ".join(cycle)), cycle=cycle)

    def _dependency_path(self, start: str, goal: str) -> list[str] | None:
        """A path start -> ... -> goal along dependency edges, if any."""
        parent: dict[str, str | None] = {start: None}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if node == goal:
                path = [node]
                while (prev := parent[path[-1]]) is not None:
                    path.append(prev)
                return path[::-1]
            for type_, nxt in self.out.get(node, ()):
                if type_ in DEPENDENCY and nxt not in parent:
                    parent[nxt] = node
                    queue.append(nxt)
        return None

    def is_network(self, tag: str) -> bool:
        node = self.nodes.get(tag)
        return node is not None and node.category == "network"

    def _neighbours(self, node: str, direction: Direction) -> Iterable[tuple[str, str]]:
        """(relation type, next) for every item affected by `node` failing (impact) or that `node` needs (depends)."""
        network = self.is_network(node)
        if direction == "impact":
            for type_, src in self.inn.get(node, ()):
                if type_ in DEPENDENCY or (type_ == "connected_to" and network and not self.is_network(src)):
                    yield type_, src
            for type_, dst in self.out.get(node, ()):
                if type_ == "used_by" or (type_ == "connected_to" and network and not self.is_network(dst)):
                    yield type_, dst
        else:
            for type_, dst in self.out.get(node, ()):
                if type_ in DEPENDENCY or (type_ == "connected_to" and not network and self.is_network(dst)):
                    yield type_, dst
            for type_, src in self.inn.get(node, ()):
                if type_ == "used_by" or (type_ == "connected_to" and not network and self.is_network(src)):
                    yield type_, src

    def impact(self, root: str, *, depth: int = 5, direction: Direction = "impact", limit: int = 200) -> ImpactResult:
        """Breadth-first, so each item's path is a shortest one; departments are used_by targets and the
        departments of affected applications and business services."""
        parent: dict[str, tuple[str, str] | None] = {root: None}
        level = {root: 0}
        order: list[str] = []
        queue = deque([root])
        while queue:
            node = queue.popleft()
            d = level[node]
            if d >= depth or node.startswith(DEPARTMENT_PREFIX):
                continue
            for type_, nxt in self._neighbours(node, direction):
                if nxt not in parent:
                    parent[nxt] = (node, type_)
                    level[nxt] = d + 1
                    order.append(nxt)
                    queue.append(nxt)

        def hit(tag: str) -> ImpactHit:
            path, via = [tag], []
            while (step := parent[path[-1]]) is not None:
                path.append(step[0])
                via.append(step[1])
            node = self.nodes.get(tag)
            ci_type = "department" if tag.startswith(DEPARTMENT_PREFIX) else (node.ci_type if node else "unknown")
            return ImpactHit(tag=tag, ci_type=ci_type, department=node.department if node else None, depth=level[tag],
                             path=path[::-1], via=via[::-1])

        items = [t for t in order if not t.startswith(DEPARTMENT_PREFIX)]
        apps = [t for t in items if (n := self.nodes.get(t)) is not None and n.category == "application"]
        services = [t for t in items if (n := self.nodes.get(t)) is not None and n.category == "business_service"]
        departments: dict[str, ImpactHit] = {}
        for tag in order:
            if tag.startswith(DEPARTMENT_PREFIX):
                departments.setdefault(tag, hit(tag))
        if direction == "impact":
            for tag in apps + services:
                info = self.nodes[tag]
                key = f"{DEPARTMENT_PREFIX}{info.department}"
                if info.department and key not in departments:
                    departments[key] = hit(tag).model_copy(update={"tag": key, "ci_type": "department",
                                                                   "department": info.department})
        return ImpactResult(
            root=root, direction=direction, depth=depth, affected=len(items),
            applications=[hit(t) for t in apps[:limit]], business_services=[hit(t) for t in services[:limit]],
            departments=sorted(departments.values(), key=lambda h: (h.depth, h.tag))[:limit],
            items=[hit(t) for t in items[:limit]], truncated=len(items) > limit,
        )
