"""What the use cases need from storage, each port named after the need."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from opsdesk_shared.audit_chain import Verdict
from opsdesk_shared.contracts import Envelope
from opsdesk_shared.contracts.knowledge import SuggestedArticle
from opsdesk_shared.errors import Contention
from opsdesk_shared.outbox import HandlerOutbox

from .domain import Article, ArticleVersion
from .problems import Candidate, Incident, Problem

# The shared outbox; handlers deliver what they wrote without a pending marker (deliver_from_handler, issue 17).
EventOutbox = HandlerOutbox


class ConcurrentUpdate(Contention):
    """The record changed between load and save (a bus handler that meets it is retried, never dead-lettered)."""


class CandidateMoved(Contention):
    """The pending candidate an incident was to join was confirmed or dismissed meanwhile: place it again."""


class Suggestion(BaseModel):
    """The articles suggested for one ticket, and how the ticket was resolved."""

    model_config = ConfigDict(frozen=True)

    ticket_id: str
    articles: list[SuggestedArticle] = Field(default_factory=list)
    suggested_at: datetime
    resolved_at: datetime | None = None
    resolved_article_id: str | None = None
    resolved_at_desk: bool | None = None
    deflected: bool = False


class ArticleStore(Protocol):
    async def get(self, article_id: str) -> Article | None: ...
    async def add(self, article: Article, version: ArticleVersion, events: Sequence[Envelope]) -> None: ...
    async def save(self, article: Article, version: ArticleVersion | None, events: Sequence[Envelope]) -> Article:
        """Replace if the stored one is still at `article.rev` (else ConcurrentUpdate); returns it as stored."""
        ...
    async def audit_verify(self) -> Verdict:
        """Every article's chain of versions checked against its seals (issue 16)."""
        ...
    async def versions(self, article_id: str) -> list[ArticleVersion]: ...
    async def all(self) -> list[Article]:
        """Every article, for building the index at start-up."""
        ...
    async def change_seq(self) -> int:
        """A counter bumped by every change, read cheaply by each instance to see whether its index is behind."""
        ...
    async def changed_since(self, seq: int, *, limit: int) -> tuple[list[str], int] | None:
        """Ids of articles changed after `seq` and the counter they bring the reader to (it stops before a change
        whose log entry is not written yet); None when more than `limit` changed (reload everything)."""
        ...


class AttachmentStore(Protocol):
    async def write_chunk(self, file_id: str, n: int, data: bytes) -> None: ...
    def read_chunks(self, file_id: str, count: int) -> AsyncIterator[bytes]: ...
    async def delete(self, file_id: str, count: int) -> None: ...


class SuggestionStore(Protocol):
    async def add(self, suggestion: Suggestion, events: Sequence[Envelope]) -> bool:
        """Store the ticket's suggestion with its events; False if the ticket already has one (redelivery)."""
        ...
    async def get(self, ticket_id: str) -> Suggestion | None: ...
    async def resolve(self, ticket_id: str, *, article_id: str | None, at_desk: bool, at: datetime) -> Suggestion | None:
        """Record the resolution once; None if there is no suggestion or it was already resolved."""
        ...
    async def reopen(self, ticket_id: str) -> Suggestion | None:
        """Undo the recorded resolution of a reopened ticket; the suggestion as it was, or None if none was recorded."""
        ...
    async def count(self, counters: dict[str, int], *, article_id: str | None = None, article_delta: int = 1) -> None:
        """Add to the service's running totals (suggested, deflected...), and to the article's deflections."""
        ...
    async def totals(self) -> tuple[dict[str, int], dict[str, int]]:
        """The running totals and deflections per article."""
        ...


class IncidentStore(Protocol):
    async def add(self, incident: Incident) -> bool:
        """False if the ticket is already projected (redelivery)."""
        ...
    async def add_many(self, incidents: Sequence[Incident]) -> set[str]:
        """Project a batch at once (one insert, one rewrite of each recent-incidents bucket it touches): the ticket
        ids added now; the others were projected already (redeliveries)."""
        ...
    async def get(self, ticket_id: str) -> Incident | None: ...
    async def recent(self, *, service_code: str, asset_tag: str | None, since: datetime) -> list[Incident]:
        """Incidents reported since `since` on the same service or the same asset."""
        ...
    async def link(self, ticket_ids: Sequence[str], *, group_id: str | None = None, problem_id: str | None = None) -> None: ...


class CandidateStore(Protocol):
    async def add(self, candidate: Candidate) -> bool:
        """False if a candidate with this id exists (a redelivery)."""
        ...
    async def get(self, candidate_id: str) -> Candidate | None: ...
    async def save(self, candidate: Candidate) -> Candidate: ...
    async def join(self, candidate_id: str, ticket_id: str, *, score: float, now: datetime) -> Candidate | None:
        """Add the incident to a pending candidate in one atomic merge (no read-modify-save, so concurrent joins never
        conflict): the candidate as stored, or None when it is not pending (any more) or does not exist."""
        ...
    async def join_many(self, candidate_id: str, ticket_ids: Sequence[str], *, score: float, now: datetime) -> Candidate | None:
        """`join` for a batch of incidents in one merge (a burst of alike tickets writes its candidate once a batch)."""
        ...
    async def list(self, *, status: str | None = None) -> list[Candidate]: ...


class ProblemStore(Protocol):
    async def add(self, problem: Problem, events: Sequence[Envelope]) -> bool:
        """False if a problem with this id exists (a retried confirmation)."""
        ...
    async def get(self, problem_id: str) -> Problem | None: ...
    async def save(self, problem: Problem, events: Sequence[Envelope]) -> Problem: ...
    async def add_recurrence(self, problem_id: str, ticket_id: str, *, now: datetime) -> bool:
        """Link a new incident to the problem as a recurrence in one atomic merge; False if it was linked already or
        the problem does not exist."""
        ...
    async def list(self, *, state: str | None = None) -> list[Problem]: ...
    async def next_number(self, year: int) -> str: ...
