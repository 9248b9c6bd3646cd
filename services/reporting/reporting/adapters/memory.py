"""In-memory projection, read models and report store for unit tests only."""

from __future__ import annotations

import builtins
import copy
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import opsdesk_shared.audit_store as audit_store
from opsdesk_shared.audit_chain import DEVELOPMENT_KEY, Verdict
from opsdesk_shared.contracts import Envelope
from opsdesk_shared.contracts.knowledge import ArticlesQuery, ArticlesReply, PublishedArticle
from opsdesk_shared.mongo import check_document

from ..ports import Counted, ignore_count
from ..projection import LIST_CAP, Effects

Document = dict[str, Any]


class MemoryEventProjection:
    def __init__(self) -> None:
        self.events: dict[str, list[str]] = {}

    async def record(self, envelope: Envelope, keys: list[str], counted: Counted = ignore_count) -> bool:
        event_id = str(envelope.event_id)
        if event_id in self.events:
            return False
        # The document the Mongo projection inserts; refused here as the database would.
        check_document({"_id": event_id, "type": envelope.type, "occurred_at": envelope.occurred_at,
                        "subject_id": envelope.subject_id, "data": envelope.data, "keys": keys})
        self.events[event_id] = keys
        counted(keys)
        return True

    async def counts(self) -> dict[str, int]:
        return dict(Counter(key for keys in self.events.values() for key in keys))


def _set_path(doc: Document, path: str, value: Any, *, add: bool) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        doc = doc.setdefault(part, {})
    doc[leaf] = doc.get(leaf, 0) + value if add else value


class MemoryReadModels:
    def __init__(self) -> None:
        self.entities: dict[tuple[str, str], Document] = {}
        self.buckets: dict[str, Document] = {}
        self.lists: dict[str, Document] = {}

    async def update_entity(self, collection: str, key: str, decide: Callable[[Document | None], Document | None]) -> None:
        current = self.entities.get((collection, key))
        new = decide(copy.deepcopy(current) if current is not None else None)
        if new is not None:
            check_document({**new, "_id": key})
            self.entities[(collection, key)] = {**new, "_id": key}

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        yield  # every write here is stored as it is made

    async def entity(self, collection: str, key: str) -> Document | None:
        doc = self.entities.get((collection, key))
        return copy.deepcopy(doc) if doc is not None else None

    async def clear_pending(self, collection: str, key: str, event_id: str) -> None:
        doc = self.entities.get((collection, key))
        if doc is not None:
            doc.get("pending", {}).pop(event_id, None)

    async def apply(self, effects: Effects) -> None:
        for bucket_id in {*effects.incs, *effects.sets}:
            doc = self.buckets.setdefault(bucket_id, {"_id": bucket_id})
            for path, n in effects.incs.get(bucket_id, {}).items():
                _set_path(doc, path, n, add=True)
            for path, value in effects.sets.get(bucket_id, {}).items():
                _set_path(doc, path, value, add=False)
            check_document(doc)
        for name, item in effects.appends:
            entry = self.lists.setdefault(name, {"_id": name, "n": 0, "items": []})
            if entry["n"] < LIST_CAP:
                entry["items"].append(copy.deepcopy(item))
            entry["n"] += 1
            check_document(entry)

    async def load(self, staged: MemoryReadModels) -> None:
        self.entities.update(copy.deepcopy(staged.entities))
        self.buckets.update(copy.deepcopy(staged.buckets))
        self.lists.update(copy.deepcopy(staged.lists))

    async def bucket(self, bucket_id: str) -> Document | None:
        doc = self.buckets.get(bucket_id)
        return copy.deepcopy(doc) if doc is not None else None

    async def items(self, list_id: str) -> list[Document]:
        return copy.deepcopy(self.lists.get(list_id, {}).get("items", []))


class MemoryReportStore:
    def __init__(self, *, audit_key: bytes = DEVELOPMENT_KEY) -> None:
        self.reports: dict[str, Document] = {}
        self.files: dict[tuple[str, str], bytes] = {}
        self.alerts: set[str] = set()
        self.since: datetime | None = None
        # Each report's sign-off history as the database keeps it (sealed; audit_store.REPORT_SIGNOFF).
        self.sealed: dict[str, Document] = {}
        self._key = audit_key

    def _seal(self, report: Document) -> None:
        doc = {"history": copy.deepcopy(list(report.get("history") or []))}
        self.sealed[report["_id"]] = audit_store.seal_fields(doc, self.sealed.get(report["_id"]), audit_store.REPORT_SIGNOFF, key=self._key)

    async def audit_verify(self) -> Verdict:
        docs = ({"_id": k, **v} for k, v in self.sealed.items())
        return audit_store.verify_documents(docs, audit_store.REPORT_SIGNOFF, key=self._key)

    async def get(self, report_id: str) -> Document | None:
        return copy.deepcopy(self.reports.get(report_id))

    async def put(self, report: Document, files: dict[str, bytes]) -> None:
        # The Mongo store keeps figures as JSON text (they hold arrays of arrays) and files in chunks.
        check_document({k: v for k, v in report.items() if k != "figures"})
        self.reports[report["_id"]] = copy.deepcopy(report)
        self._seal(report)
        for fmt, data in files.items():
            self.files[(report["_id"], fmt)] = data

    async def file(self, report_id: str, fmt: str) -> bytes | None:
        return self.files.get((report_id, fmt))

    async def list(self, *, kind: str | None = None, limit: int = 200) -> list[Document]:
        found = [r for r in self.reports.values() if kind is None or r.get("kind") == kind]
        return sorted(found, key=lambda r: r["generated_at"], reverse=True)[:limit]

    async def versions(self, series: str) -> builtins.list[Document]:
        return [copy.deepcopy(r) for r in self.reports.values() if r.get("series", r["_id"]) == series]

    async def change(self, report_id: str, *, expected_rev: int, changes: Document) -> bool:
        current = self.reports.get(report_id)
        if current is None or int(current.get("rev") or 0) != expected_rev:
            return False
        updated = {**current, **copy.deepcopy(changes), "rev": expected_rev + 1}
        check_document({k: v for k, v in updated.items() if k != "figures"})
        self.reports[report_id] = updated
        self._seal(updated)
        return True

    async def mark_alert(self, alert_id: str) -> bool:
        if alert_id in self.alerts:
            return False
        self.alerts.add(alert_id)
        return True

    async def schedule_since(self, default: datetime) -> datetime:
        if self.since is None:
            self.since = default
        return self.since


class MemoryPublisher:
    def __init__(self) -> None:
        self.published: list[Envelope] = []

    async def publish(self, envelope: Envelope) -> None:
        self.published.append(envelope)


class MemoryGenerations:
    def __init__(self) -> None:
        self.generations: dict[int, MemoryReadModels] = {}
        self.active = 1

    def models(self, generation: int) -> MemoryReadModels:
        return self.generations.setdefault(generation, MemoryReadModels())

    async def drop(self, generation: int) -> None:
        self.generations.pop(generation, None)

    async def switch(self, generation: int) -> None:
        self.active = generation


class MemoryEventSource:
    """A stream stand-in: envelopes numbered from 1 in publication order."""

    def __init__(self) -> None:
        self.events: list[Envelope] = []

    async def last_sequence(self) -> int:
        return len(self.events)

    async def replay(self, *, after: int, upto: int) -> Any:
        for seq in range(after + 1, min(upto, len(self.events)) + 1):
            yield seq, self.events[seq - 1]


class MemoryArticleSource:
    """Published articles given by the test, answered as knowledge's rpc.kb.articles would."""

    def __init__(self, articles: list[PublishedArticle] | None = None) -> None:
        self.articles = {a.article_id: a for a in articles or []}
        self.asked: list[ArticlesQuery] = []

    async def published(self, query: ArticlesQuery) -> ArticlesReply:
        self.asked.append(query)
        if bool(query.article_ids) == bool(query.category):
            return ArticlesReply(status=422, error="give either article_ids or category")
        if query.category:
            found = sorted((a for a in self.articles.values() if a.category == query.category), key=lambda a: (a.title, a.article_id))
            return ArticlesReply(articles=found)
        ids = list(dict.fromkeys(query.article_ids))
        return ArticlesReply(articles=[self.articles[i] for i in ids if i in self.articles],
                             missing=[i for i in ids if i not in self.articles])
