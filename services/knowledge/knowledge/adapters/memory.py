"""In-memory adapters for tests only."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import opsdesk_shared.audit_store as audit_store
from opsdesk_shared import audit_chain
from opsdesk_shared.audit_chain import DEVELOPMENT_KEY, Verdict
from opsdesk_shared.contracts import Envelope
from opsdesk_shared.mongo import check_document
from opsdesk_shared.outbox import MemoryOutbox as MemoryOutbox
from opsdesk_shared.outbox import outbox_fields

from ..domain import Article, ArticleVersion
from ..ports import ConcurrentUpdate, Suggestion
from ..problems import Candidate, Incident, Problem


class MemoryArticleStore:
    def __init__(self, *, audit_key: bytes = DEVELOPMENT_KEY) -> None:
        self.by_id: dict[str, Article] = {}
        self.history: dict[str, list[ArticleVersion]] = {}
        self.changes: list[str] = []
        # Each article's versions and log as the database keeps them (sealed in chain; audit_store.ARTICLE_VERSIONS, ARTICLE_LOG).
        self.sealed: dict[str, list[dict[str, Any]]] = {}
        self.sealed_log: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self._key = audit_key

    def _seal(self, version: ArticleVersion) -> None:
        chain = self.sealed.setdefault(version.article_id, [])
        chain.append(audit_chain.append(chain, version.model_dump(mode="python"), key=self._key))

    def _seal_log(self, article: Article) -> None:
        doc = article.model_dump(mode="python", include={"log"})
        self.sealed_log[article.id] = audit_store.seal_fields(doc, self.sealed_log.get(article.id), audit_store.ARTICLE_LOG, key=self._key)

    async def audit_verify(self) -> Verdict:
        return audit_store.combined([
            audit_store.verify_documents(({"_id": k, **v} for k, v in self.sealed_log.items()), audit_store.ARTICLE_LOG, key=self._key),
            audit_store.verify_records(self.sealed.items(), audit_store.ARTICLE_VERSIONS, key=self._key),
        ])

    async def get(self, article_id: str) -> Article | None:
        return self.by_id.get(article_id)

    async def add(self, article: Article, version: ArticleVersion, events: Sequence[Envelope]) -> None:
        if article.id in self.by_id:
            raise ConcurrentUpdate(article.id)
        check_document({**article.model_dump(), **outbox_fields(events)})  # refused here as the database would
        check_document(version.model_dump())
        self.by_id[article.id] = article
        self.history[article.id] = [version]
        self._seal(version)
        self._seal_log(article)
        self.changes.append(article.id)

    async def save(self, article: Article, version: ArticleVersion | None, events: Sequence[Envelope]) -> Article:
        current = self.by_id.get(article.id)
        if current is None or current.rev != article.rev:
            raise ConcurrentUpdate(article.id)
        check_document({**article.model_dump(), **outbox_fields(events)})
        if version is not None:
            check_document(version.model_dump())
        stored = article.model_copy(update={"rev": article.rev + 1})
        self.by_id[article.id] = stored
        self._seal_log(stored)
        if version is not None:
            self.history[article.id].append(version)
            self._seal(version)
        self.changes.append(article.id)
        return stored

    async def versions(self, article_id: str) -> list[ArticleVersion]:
        return list(self.history.get(article_id, []))

    async def all(self) -> list[Article]:
        return list(self.by_id.values())

    async def change_seq(self) -> int:
        return len(self.changes)

    async def changed_since(self, seq: int, *, limit: int) -> tuple[list[str], int] | None:
        changed = self.changes[seq:]
        return None if len(changed) > limit else (list(dict.fromkeys(changed)), len(self.changes))


class MemoryAttachmentStore:
    def __init__(self) -> None:
        self.chunks: dict[tuple[str, int], bytes] = {}

    async def write_chunk(self, file_id: str, n: int, data: bytes) -> None:
        check_document({"_id": f"{file_id}|{n}", "data": data})
        self.chunks[(file_id, n)] = data

    async def read_chunks(self, file_id: str, count: int) -> AsyncIterator[bytes]:
        for n in range(count):
            yield self.chunks[(file_id, n)]

    async def delete(self, file_id: str, count: int) -> None:
        for n in range(count):
            self.chunks.pop((file_id, n), None)


class MemorySuggestionStore:
    def __init__(self) -> None:
        self.by_ticket: dict[str, Suggestion] = {}
        self.counters: Counter[str] = Counter()
        self.by_article: Counter[str] = Counter()

    async def add(self, suggestion: Suggestion, events: Sequence[Envelope]) -> bool:
        if suggestion.ticket_id in self.by_ticket:
            return False
        check_document({**suggestion.model_dump(), **outbox_fields(events)})
        self.by_ticket[suggestion.ticket_id] = suggestion
        return True

    async def get(self, ticket_id: str) -> Suggestion | None:
        return self.by_ticket.get(ticket_id)

    async def resolve(self, ticket_id: str, *, article_id: str | None, at_desk: bool, at: datetime) -> Suggestion | None:
        current = self.by_ticket.get(ticket_id)
        if current is None or current.resolved_at is not None:
            return None
        suggested = {a.article_id for a in current.articles}
        updated = current.model_copy(update={
            "resolved_at": at, "resolved_article_id": article_id, "resolved_at_desk": at_desk,
            "deflected": article_id is not None and article_id in suggested,
        })
        check_document(updated.model_dump())
        self.by_ticket[ticket_id] = updated
        return updated

    async def reopen(self, ticket_id: str) -> Suggestion | None:
        current = self.by_ticket.get(ticket_id)
        if current is None or current.resolved_at is None:
            return None
        self.by_ticket[ticket_id] = current.model_copy(
            update={"resolved_at": None, "resolved_article_id": None, "resolved_at_desk": None, "deflected": False}
        )
        return current

    async def count(self, counters: dict[str, int], *, article_id: str | None = None, article_delta: int = 1) -> None:
        self.counters.update(counters)
        if article_id is not None:
            self.by_article[article_id] += article_delta

    async def totals(self) -> tuple[dict[str, int], dict[str, int]]:
        return dict(self.counters), dict(self.by_article)


class MemoryIncidentStore:
    def __init__(self) -> None:
        self.by_id: dict[str, Incident] = {}

    async def add(self, incident: Incident) -> bool:
        if incident.ticket_id in self.by_id:
            return False
        check_document(incident.model_dump())
        self.by_id[incident.ticket_id] = incident
        return True

    async def add_many(self, incidents: Sequence[Incident]) -> set[str]:
        return {i.ticket_id for i in incidents if await self.add(i)}

    async def get(self, ticket_id: str) -> Incident | None:
        return self.by_id.get(ticket_id)

    async def recent(self, *, service_code: str, asset_tag: str | None, since: datetime) -> list[Incident]:
        return [
            i for i in self.by_id.values()
            if i.reported_at >= since and (i.service_code == service_code or (asset_tag and i.asset_tag == asset_tag))
        ]

    async def link(self, ticket_ids: Sequence[str], *, group_id: str | None = None, problem_id: str | None = None) -> None:
        for ticket_id in ticket_ids:
            inc = self.by_id.get(ticket_id)
            if inc is None:
                continue
            changes = {k: v for k, v in (("group_id", group_id), ("problem_id", problem_id)) if v is not None}
            self.by_id[ticket_id] = inc.model_copy(update=changes)


class MemoryCandidateStore:
    def __init__(self) -> None:
        self.by_id: dict[str, Candidate] = {}

    async def add(self, candidate: Candidate) -> bool:
        if candidate.id in self.by_id:
            return False
        check_document(candidate.model_dump())
        self.by_id[candidate.id] = candidate
        return True

    async def get(self, candidate_id: str) -> Candidate | None:
        return self.by_id.get(candidate_id)

    async def save(self, candidate: Candidate) -> Candidate:
        current = self.by_id.get(candidate.id)
        if current is None or current.rev != candidate.rev:
            raise ConcurrentUpdate(candidate.id)
        check_document(candidate.model_dump())
        stored = candidate.model_copy(update={"rev": candidate.rev + 1})
        self.by_id[candidate.id] = stored
        return stored

    async def join(self, candidate_id: str, ticket_id: str, *, score: float, now: datetime) -> Candidate | None:
        return await self.join_many(candidate_id, [ticket_id], score=score, now=now)

    async def join_many(self, candidate_id: str, ticket_ids: Sequence[str], *, score: float, now: datetime) -> Candidate | None:
        current = self.by_id.get(candidate_id)
        if current is None or current.status != "pending":
            return None
        new = [t for t in dict.fromkeys(ticket_ids) if t not in current.incident_ids]
        if new:
            current = current.model_copy(update={
                "incident_ids": [*current.incident_ids, *new], "score": max(current.score, score),
                "updated_at": now, "rev": current.rev + 1,
            })
            check_document(current.model_dump())
            self.by_id[candidate_id] = current
        return current

    async def list(self, *, status: str | None = None) -> list[Candidate]:
        found = [c for c in self.by_id.values() if status is None or c.status == status]
        return sorted(found, key=lambda c: c.created_at, reverse=True)


class MemoryProblemStore:
    def __init__(self) -> None:
        self.by_id: dict[str, Problem] = {}
        self.numbers: Counter[int] = Counter()

    async def add(self, problem: Problem, events: Sequence[Envelope]) -> bool:
        if problem.id in self.by_id:
            return False
        check_document({**problem.model_dump(), **outbox_fields(events)})
        self.by_id[problem.id] = problem
        return True

    async def get(self, problem_id: str) -> Problem | None:
        return self.by_id.get(problem_id)

    async def save(self, problem: Problem, events: Sequence[Envelope]) -> Problem:
        current = self.by_id.get(problem.id)
        if current is None or current.rev != problem.rev:
            raise ConcurrentUpdate(problem.id)
        check_document({**problem.model_dump(), **outbox_fields(events)})
        stored = problem.model_copy(update={"rev": problem.rev + 1})
        self.by_id[problem.id] = stored
        return stored

    async def add_recurrence(self, problem_id: str, ticket_id: str, *, now: datetime) -> bool:
        current = self.by_id.get(problem_id)
        if current is None or ticket_id in current.incident_ids:
            return False
        updated = current.model_copy(update={
            "incident_ids": [*current.incident_ids, ticket_id], "recurrence_ids": [*current.recurrence_ids, ticket_id],
            "updated_at": now, "rev": current.rev + 1,
        })
        check_document(updated.model_dump())
        self.by_id[problem_id] = updated
        return True

    async def list(self, *, state: str | None = None) -> list[Problem]:
        found = [p for p in self.by_id.values() if state is None or p.state == state]
        return sorted(found, key=lambda p: p.created_at, reverse=True)

    async def next_number(self, year: int) -> str:
        self.numbers[year] += 1
        return f"PRB-{year}-{self.numbers[year]:04d}"
