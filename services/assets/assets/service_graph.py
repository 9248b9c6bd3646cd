"""Relations and impact: an in-memory adjacency index over the relations collection, kept in step across
instances by a change log (a counter document and one log document per change, all read by `_id`)."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Any

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.contracts.cmdb import CiChange, CiChangedV1
from opsdesk_shared.snapshot import Snapshots

from .domain import Asset
from .ports import AssetRegister, Docs, DuplicateKey
from .relations import (
    DEPARTMENT_PREFIX,
    RELATION_TYPES,
    GraphIndex,
    ImpactHit,
    ImpactResult,
    Node,
    Relation,
    RelationRefused,
    relation_id,
)
from .service import Ctx, UnknownAsset, ci_types
from .texts import Said

log = logging.getLogger(__name__)

META_KEY = "graph"
SNAPSHOT = "relation-graph"
SNAPSHOT_FORMAT = 1
RELATION_FIELDS = ("source", "type", "target")
HISTORY_PREFIX = "relhist:"


def log_key(n: int) -> str:
    return f"{n:012d}"


class RelationGraph:
    """The service's one index. `sync` applies other instances' changes (one `_id` read when nothing changed)."""

    def __init__(self, *, relations: Docs, log: Docs, meta: Docs) -> None:
        self.relations = relations
        self.log = log
        self.meta = meta
        self.index = GraphIndex()
        self.version = 0
        self.loaded_in_s = 0.0
        self.snapshot_version = -1
        self._lock = asyncio.Lock()
        self._register: AssetRegister | None = None
        self._types: Docs | None = None

    async def note(self, asset: Asset, category: str) -> None:
        node = Node(ci_type=asset.type, category=category, department=asset.department)
        if self.index.nodes.get(asset.tag) != node:
            await self.publish_node(asset, category)

    async def _remote_version(self) -> int:
        doc = await self.meta.get(META_KEY)
        return int(doc.get("n", 0)) if doc else 0

    async def load(self, *, register: AssetRegister, types: Docs) -> None:
        """Everything from the database: at start-up, or when the log cannot be followed."""
        started = time.perf_counter()
        version = await self._remote_version()
        index = GraphIndex()
        categories = {code: t.category for code, t in (await ci_types(types)).items()}
        # Only the fields the index holds, and one Node per distinct (type, department): 50,000 items and 200,000
        # relations loaded in 22 s as whole validated documents (issue 17); the index is the same either way.
        shared: dict[tuple[str, str | None], Node] = {}
        async for tag, ci_type, department in register.nodes():
            node = shared.get((ci_type, department))
            if node is None:
                node = shared[(ci_type, department)] = Node(
                    ci_type=ci_type, category=categories.get(ci_type, "hardware"), department=department)
            index.set_node(tag, node)
        async for doc in self.relations.scan(fields=RELATION_FIELDS):
            rel_type = doc["type"]
            if rel_type not in RELATION_TYPES:
                raise ValueError(f"relation {doc['_id']} has unknown type {rel_type!r}")
            index.add_edge(str(doc["source"]), rel_type, str(doc["target"]))
        self.index, self.version = index, version
        self._register, self._types = register, types
        self.loaded_in_s = time.perf_counter() - started

    def snapshot_payload(self) -> dict[str, Any]:
        """The index as compact JSON: each distinct node once (`kinds`), items by kind, edges as triples."""
        kinds: dict[Node, int] = {}
        tags, kind_of = [], []
        for tag, node in self.index.nodes.items():
            tags.append(tag)
            kind_of.append(kinds.setdefault(node, len(kinds)))
        edges = [[source, rel_type, target] for source, out in self.index.out.items() for rel_type, target in out]
        return {"format": SNAPSHOT_FORMAT, "kinds": [[n.ci_type, n.category, n.department] for n in kinds],
                "tags": tags, "kind_of": kind_of, "edges": edges}

    @staticmethod
    def index_from(payload: dict[str, Any]) -> GraphIndex:
        if payload.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"snapshot format {payload.get('format')!r}")
        index = GraphIndex()
        kinds = [Node(ci_type=t, category=c, department=d) for t, c, d in payload["kinds"]]
        index.nodes = {tag: kinds[k] for tag, k in zip(payload["tags"], payload["kind_of"], strict=True)}
        # The snapshot's edges are the index's own (no duplicates): appended without add_edge's membership checks.
        out, inn = index.out, index.inn
        for source, rel_type, target in payload["edges"]:
            out.setdefault(source, []).append((rel_type, target))
            inn.setdefault(target, []).append((rel_type, source))
        index.relations = len(payload["edges"])
        return index

    async def save_snapshot(self, snapshots: Snapshots) -> None:
        """The index and the change-log number it includes. Local changes enter the index before their log entry,
        so the index may hold a change past `version`: replaying it after a load changes nothing (add, remove and
        node updates are idempotent)."""
        async with self._lock:
            version, payload = self.version, self.snapshot_payload()
        await snapshots.save(SNAPSHOT, through=version, payload=payload)
        self.snapshot_version = version

    async def start_up(self, *, register: AssetRegister, types: Docs, snapshots: Snapshots) -> str:
        """Ready quickly: the last snapshot plus the change log after it; a full load (and a new snapshot) when there
        is none. Returns how it loaded ("snapshot" or "full"); `reconcile` then checks against the database."""
        started = time.perf_counter()
        self._register, self._types = register, types
        snap = await snapshots.load(SNAPSHOT)
        if snap is not None and isinstance(snap.through, int) and isinstance(snap.payload, dict):
            try:
                index = self.index_from(snap.payload)
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("graph snapshot unreadable, loading in full", extra={"fields": {"error": str(exc)}})
            else:
                if snap.through <= await self._remote_version():
                    self.index, self.version, self.snapshot_version = index, snap.through, snap.through
                    await self.sync()  # the changes after the snapshot (a 'reload' entry loads in full)
                    self.loaded_in_s = time.perf_counter() - started
                    return "snapshot"
        await self.load(register=register, types=types)
        await self.save_snapshot(snapshots)
        return "full"

    async def reconcile(self, snapshots: Snapshots) -> bool:
        """A full load after readiness, replacing the index when the database says otherwise (a change stored by an
        instance that died before logging it, a type's category changed); then a fresh snapshot. True if it differed."""
        if self._register is None or self._types is None:
            return False
        before = self.index
        await self.load(register=self._register, types=self._types)
        def edges(index: GraphIndex) -> dict[str, set[tuple[str, str]]]:
            return {source: set(out) for source, out in index.out.items() if out}

        differed = before.nodes != self.index.nodes or edges(before) != edges(self.index)
        if differed:
            log.warning("graph snapshot differed from the database; replaced by the full load",
                        extra={"fields": {"relations": self.index.relations, "nodes": len(self.index.nodes)}})
        await self.save_snapshot(snapshots)
        return differed

    async def sync(self) -> None:
        remote = await self._remote_version()
        if remote <= self.version:
            return
        async with self._lock:
            for n in range(self.version + 1, remote + 1):
                entry = await self.log.get(log_key(n))
                if entry is None or entry.get("op") == "reload":
                    if self._register is not None and self._types is not None:
                        await self.load(register=self._register, types=self._types)
                    else:
                        self.version = remote
                    return
                self._apply(entry)
                self.version = n

    def _apply(self, entry: dict[str, object]) -> None:
        if entry["op"] == "node":
            self.index.set_node(str(entry["tag"]), Node.model_validate(entry["node"]))
            return
        rel = Relation.model_validate(entry["relation"])
        if entry["op"] == "add":
            self.index.add(rel)
        else:
            self.index.remove(rel)

    async def _append(self, entry: dict[str, object], events: list[Envelope] | None = None) -> None:
        n = await self.meta.incr(META_KEY, "n")
        await self.log.put(log_key(n), entry, events or [])
        if n == self.version + 1:
            self.version = n  # ours is the next entry: already applied locally
        else:
            await self.sync()

    async def publish_node(self, asset: Asset, category: str) -> None:
        """Tell other instances an item's type or department changed (they classify impact by it)."""
        node = Node(ci_type=asset.type, category=category, department=asset.department)
        self.index.set_node(asset.tag, node)
        await self._append({"op": "node", "tag": asset.tag, "node": node.model_dump()})

    async def publish_reload(self) -> None:
        await self._append({"op": "reload"})

    async def add(self, rel: Relation, *, register: AssetRegister, ctx: Ctx) -> Relation:
        source = await register.get(rel.source)
        if source is None:
            raise UnknownAsset(rel.source)
        if not (rel.type == "used_by" and rel.target.startswith(DEPARTMENT_PREFIX)) and await register.get(rel.target) is None:
            raise UnknownAsset(rel.target)
        if rel.target.startswith(DEPARTMENT_PREFIX) and rel.type != "used_by":
            raise RelationRefused(Said("err.department_relation"))
        await self.sync()
        async with self._lock:
            self.index.check(rel)
            stored = rel.model_copy(update={"created_at": ctx.now, "created_by": ctx.by})
            try:
                await self.relations.create(stored.id, stored.model_dump(mode="json"))
            except DuplicateKey:
                raise RelationRefused(Said("err.relation_exists", id=stored.id)) from None
            self.index.add(stored)
        event = self._event(source, "relation_added", stored, ctx)
        await self._append({"op": "add", "relation": stored.model_dump(mode="json")}, [ctx.wrap(event, source.tag)])
        await self._remember(stored, "add", ctx)
        return stored

    async def _remember(self, rel: Relation, op: str, ctx: Ctx) -> None:
        """Append the change to both ends' relation history, so an item's relations can be read as of a date."""
        entry = {"at": ctx.now.isoformat(), "by": ctx.by, "op": op, "relation": rel.model_dump(mode="json")}
        for tag in {rel.source, rel.target}:
            key = HISTORY_PREFIX + tag
            async with self._lock:
                doc = await self.meta.get(key) or {"entries": []}
                await self.meta.put(key, {"entries": [*doc["entries"], entry]})

    async def relations_as_of(self, tag: str, when: datetime) -> list[Relation]:
        """The item's relations as they stood at `when`, replayed from its relation history."""
        doc = await self.meta.get(HISTORY_PREFIX + tag) or {"entries": []}
        live: dict[str, Relation] = {}
        for entry in doc["entries"]:
            if datetime.fromisoformat(entry["at"]) > when:
                break
            rel = Relation.model_validate(entry["relation"])
            if entry["op"] == "add":
                live[rel.id] = rel
            else:
                live.pop(rel.id, None)
        return list(live.values())

    async def remove(self, rel_key: str, *, register: AssetRegister, ctx: Ctx) -> Relation | None:
        doc = await self.relations.get(rel_key)
        if doc is None:
            return None
        rel = Relation.model_validate(doc)
        await self.relations.delete(rel_key)
        async with self._lock:
            self.index.remove(rel)
        source = await register.get(rel.source)
        events = [ctx.wrap(self._event(source, "relation_removed", rel, ctx), rel.source)] if source else []
        await self._append({"op": "remove", "relation": rel.model_dump(mode="json")}, events)
        await self._remember(rel, "remove", ctx)
        return rel

    @staticmethod
    def _event(source: Asset, change: CiChange, rel: Relation, ctx: Ctx) -> CiChangedV1:
        value = {"type": rel.type, "target": rel.target, "source": rel.source}
        changes = {"relation": {"old": None, "new": value} if change == "relation_added" else {"old": value, "new": None}}
        return CiChangedV1(tag=source.tag, ci_type=source.type, change=change, version=source.version,
                           status=source.status, department=source.department, changes=changes, by=ctx.by, changed_at=ctx.now)

    async def impact(
        self, tag: str, *, depth: int, direction: str, limit: int, register: AssetRegister | None = None,
    ) -> ImpactResult:
        """What `tag`'s failure affects (or what it needs); with `register`, each item hit carries its name (the
        graph holds tags and types only: names are read for the hits, never kept in memory for 250,000 items)."""
        await self.sync()
        found: ImpactResult = self.index.impact(tag, depth=depth, direction=direction, limit=limit)  # type: ignore[arg-type]
        if register is None:
            return found
        names = await register.names([tag, *(h.tag for h in found.items)])

        def named(hits: list[ImpactHit]) -> list[ImpactHit]:
            return [h.model_copy(update={"name": names.get(h.tag)}) if names.get(h.tag) else h for h in hits]

        return found.model_copy(update={
            "root_name": names.get(tag), "items": named(found.items), "applications": named(found.applications),
            "business_services": named(found.business_services),
        })

    def relations_of(self, tag: str) -> list[Relation]:
        return self.index.relations_of(tag)


__all__ = ["RelationGraph", "relation_id"]
