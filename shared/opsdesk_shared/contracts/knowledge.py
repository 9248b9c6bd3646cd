"""Knowledge base and problem events, produced by the knowledge service."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from . import subjects
from .envelope import EventData

Audience = Literal["desk", "engineers", "all"]


class KbArticlePublishedV1(EventData):
    """An article (or a new version of it) became visible to its audience."""

    event_type: ClassVar[str] = subjects.KB_ARTICLE_PUBLISHED
    event_version: ClassVar[int] = 1

    article_id: str
    title: str
    version: int = Field(ge=1, description="Content version now published")
    category: str
    tags: list[str] = Field(default_factory=list)
    service_codes: list[str] = Field(default_factory=list, description="Catalog services the article helps with")
    asset_types: list[str] = Field(default_factory=list, description="Asset types the article helps with")
    audience: Audience = Field(description="desk (service desk only), engineers, or all (requesters' self-help too)")
    published_by: str
    published_at: datetime


class SuggestedArticle(EventData):
    """One article suggested for a ticket, best first."""

    article_id: str
    title: str
    score: float = Field(description="BM25 relevance; comparable within one suggestion only")
    version: int = Field(ge=1)


class KbSuggestedV1(EventData):
    """The knowledge base's best published articles for a new ticket, for the desk to try at first contact."""

    event_type: ClassVar[str] = subjects.KB_SUGGESTED
    event_version: ClassVar[int] = 1

    ticket_id: str
    articles: list[SuggestedArticle] = Field(description="Up to three articles, best first; may be empty")
    suggested_at: datetime


class ProblemCreatedV1(EventData):
    """The desk confirmed that incidents share a root cause (or recorded a problem by hand)."""

    event_type: ClassVar[str] = subjects.PROBLEM_CREATED
    event_version: ClassVar[int] = 1

    problem_id: str
    number: str = Field(description="Human problem number, e.g. PRB-2026-0001")
    title: str
    service_code: str | None = None
    asset_tag: str | None = None
    incident_ids: list[str] = Field(default_factory=list, description="Ticket ids linked to the problem")
    candidate_id: str | None = Field(default=None, description="The detected candidate group it was confirmed from")
    escalate_to: list[str] = Field(
        default_factory=list, description="Senior engineers and the project manager told at once, when escalated at creation"
    )
    created_by: str
    created_at: datetime


class ProblemKnownErrorV1(EventData):
    """A problem's root cause and workaround are known: the desk can apply the workaround to new incidents."""

    event_type: ClassVar[str] = subjects.PROBLEM_KNOWN_ERROR
    event_version: ClassVar[int] = 1

    problem_id: str
    number: str
    title: str
    service_code: str | None = None
    root_cause: str
    workaround: str
    article_id: str | None = Field(default=None, description="Knowledge article carrying the workaround, if any")
    incident_count: int = Field(ge=0)
    by: str
    at: datetime


class ProblemResolvedV1(EventData):
    """A permanent fix removed a problem's root cause."""

    event_type: ClassVar[str] = subjects.PROBLEM_RESOLVED
    event_version: ClassVar[int] = 1

    problem_id: str
    number: str
    title: str
    service_code: str | None = None
    root_cause: str | None = None
    permanent_fix: str
    prevention: str | None = Field(default=None, description="Advice so it does not happen again")
    incident_count: int = Field(ge=0, description="Incidents linked, the first ones and the recurrences")
    recurrence_count: int = Field(ge=0, description="Incidents that matched the problem after it was recorded")
    by: str
    resolved_at: datetime


class ProblemEscalatedV1(EventData):
    """A problem whose root cause is still unknown goes to senior engineers with the project manager."""

    event_type: ClassVar[str] = subjects.PROBLEM_ESCALATED
    event_version: ClassVar[int] = 1

    problem_id: str
    number: str
    title: str
    reason: str = Field(description="Why: asked for by someone, or no root cause after the configured days")
    notify: list[str] = Field(description="Who is told: senior engineers and the project manager")
    by: str
    escalated_at: datetime


class ArticlesQuery(BaseModel):
    """Reporting asks knowledge (rpc.kb.articles, core request/reply) for published articles: by id, in the order
    given, or every published article of a category. Exactly one of the two."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    article_ids: list[str] = Field(default_factory=list, max_length=500)
    category: str | None = Field(default=None, max_length=100)


class PublishedArticle(BaseModel):
    """One published article as the maintenance manual prints it (the published version's content)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    article_id: str
    title: str
    version: int = Field(ge=1)
    category: str
    summary: str = ""
    body: str
    tags: list[str] = Field(default_factory=list)
    published_at: datetime | None = None


class ArticlesReply(BaseModel):
    """`status` mirrors HTTP: 200 with `articles` (and the ids that are unknown or not published in `missing`), 422
    with `error` for a bad query."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    status: int = 200
    articles: list[PublishedArticle] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    error: str | None = None


# Every event model of this family, for the registry.
MODELS: tuple[type[EventData], ...] = (
    KbArticlePublishedV1,
    KbSuggestedV1,
    ProblemCreatedV1,
    ProblemKnownErrorV1,
    ProblemResolvedV1,
    ProblemEscalatedV1,
)
