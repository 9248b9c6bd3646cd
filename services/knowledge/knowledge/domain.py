"""Articles: lifecycle, versions and who may see or change what. Pure: values in, a decision and its events out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from opsdesk_shared import roles
from opsdesk_shared.contracts.envelope import EventData
from opsdesk_shared.contracts.knowledge import KbArticlePublishedV1

from .search import DocAttrs, IndexDoc

ArticleState = Literal["draft", "in_review", "published", "retired"]
Audience = Literal["desk", "engineers", "all"]
Role = roles.Role
Source = Literal["desk", "submission", "monthly_report"]
Action = Literal["submit", "publish", "return", "retire", "restore"]

ROLES: tuple[str, ...] = roles.ROLES
# Another service calling as itself (e.g. the gateway reading for the desk) reads like an auditor and writes nothing.
SERVICE = "service"
CURATORS = frozenset({"agent", "admin"})
SEE_EVERYTHING = roles.READ_EVERYTHING | {SERVICE}
PROBLEM_WRITERS = frozenset({"agent", "engineer", "manager", "admin"})
PROBLEM_READERS = PROBLEM_WRITERS | roles.READ_ONLY_ROLES | {SERVICE}

# action -> (from states, to state)
TRANSITIONS: dict[str, tuple[frozenset[str], ArticleState]] = {
    "submit": (frozenset({"draft"}), "in_review"),
    "publish": (frozenset({"in_review"}), "published"),
    "return": (frozenset({"in_review"}), "draft"),
    "retire": (frozenset({"published"}), "retired"),
    "restore": (frozenset({"retired"}), "draft"),
}


class Forbidden(Exception):
    """The caller's role may not do this (403)."""


class IllegalTransition(Exception):
    """Not possible in the article's or problem's current state (409)."""


class NotFound(Exception):
    """No such article, attachment, problem or candidate (404)."""


@dataclass(frozen=True)
class Actor:
    """The verified caller: `user` is the token's subject, the one name written as author or actor."""

    user: str
    role: str
    department: str | None = None

    @property
    def curator(self) -> bool:
        return self.role in CURATORS


class Attachment(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    filename: str
    content_type: str
    size: int
    chunks: int = Field(ge=0, description="How many chunk documents hold the bytes")
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


class LogEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime
    by: str
    action: str
    from_state: str | None = None
    to_state: str
    note: str | None = None


class ArticleContent(BaseModel):
    """What an author writes; every change of it is a new version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=100_000)
    summary: str = Field(default="", max_length=1000)
    category: str = Field(min_length=1, max_length=100)
    tags: list[str] = Field(default_factory=list, max_length=30)
    service_codes: list[str] = Field(default_factory=list, max_length=30)
    asset_types: list[str] = Field(default_factory=list, max_length=30)
    audience: Audience = "all"


class Article(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    content: ArticleContent
    state: ArticleState = "draft"
    version: int = 1
    source: Source = "desk"
    author: str
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None = None
    published_version: int | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    log: list[LogEntry] = Field(default_factory=list)
    rev: int = Field(default=0, description="Storage revision, for optimistic concurrency")

    def index_doc(self) -> IndexDoc:
        c = self.content
        return IndexDoc(
            key=self.id,
            title=c.title,
            body=c.body,
            summary=c.summary,
            attrs=DocAttrs(
                state=self.state, audience=c.audience, category=c.category, tags=frozenset(c.tags),
                service_codes=frozenset(c.service_codes), asset_types=frozenset(c.asset_types),
                author=self.author, version=self.version,
            ),
        )


class ArticleVersion(BaseModel):
    """One entry of an article's history: the content as it was at `version`."""

    model_config = ConfigDict(frozen=True)

    article_id: str
    version: int
    content: ArticleContent
    edited_by: str
    edited_at: datetime
    note: str | None = None


def audiences_for(role: str) -> frozenset[str]:
    """Published audiences a role may read."""
    if role in SEE_EVERYTHING:
        return frozenset({"desk", "engineers", "all"})
    if role == "engineer":
        return frozenset({"engineers", "all"})
    return frozenset({"all"})


def may_see(attrs: DocAttrs, actor: Actor) -> bool:
    """Requesters: published, for all. Engineers: published for engineers or all, and their own documents. Desk,
    managers, admins and auditors: everything."""
    if actor.role in SEE_EVERYTHING:
        return True
    if actor.role == "engineer" and attrs.author == actor.user:
        return True
    return attrs.state == "published" and attrs.audience in audiences_for(actor.role)


def may_write(article: Article, actor: Actor) -> bool:
    """Curators change any article; engineers change their own while it is a draft."""
    if actor.curator:
        return True
    return actor.role == "engineer" and article.author == actor.user and article.state == "draft"


def _published_event(article: Article, *, by: str, at: datetime) -> KbArticlePublishedV1:
    c = article.content
    return KbArticlePublishedV1(
        article_id=article.id, title=c.title, version=article.version, category=c.category, tags=list(c.tags),
        service_codes=list(c.service_codes), asset_types=list(c.asset_types), audience=c.audience,
        published_by=by, published_at=at,
    )


def create_article(
    content: ArticleContent, *, actor: Actor, now: datetime, source: Source = "desk", article_id: str | None = None
) -> tuple[Article, ArticleVersion]:
    """Engineers submit documents and curators write articles; both start as drafts."""
    if not (actor.curator or actor.role == "engineer"):
        raise Forbidden(f"role {actor.role} may not write articles")
    if actor.role == "engineer" and source == "desk":
        source = "submission"
    article = Article(
        id=article_id or str(uuid.uuid4()), content=content, source=source, author=actor.user,
        created_at=now, updated_at=now,
        log=[LogEntry(at=now, by=actor.user, action="create", to_state="draft")],
    )
    return article, ArticleVersion(article_id=article.id, version=1, content=content, edited_by=actor.user, edited_at=now)


def edit_article(
    article: Article, content: ArticleContent, *, actor: Actor, now: datetime, note: str | None = None
) -> tuple[Article, ArticleVersion | None, list[EventData]]:
    """A new version; editing a published article (curators only) republishes it at the new version."""
    if not may_write(article, actor):
        raise Forbidden("only curators, or the author of a draft, may edit this article")
    if article.state == "retired":
        raise IllegalTransition("a retired article must be restored before it is edited")
    if content == article.content:
        return article, None, []
    version = article.version + 1
    changes: dict[str, Any] = {"content": content, "version": version, "updated_at": now}
    events: list[EventData] = []
    log = [*article.log, LogEntry(at=now, by=actor.user, action="edit", from_state=article.state, to_state=article.state, note=note)]
    changes["log"] = log
    if article.state == "published":
        changes.update(published_at=now, published_version=version)
    updated = article.model_copy(update=changes)
    if updated.state == "published":
        events.append(_published_event(updated, by=actor.user, at=now))
    entry = ArticleVersion(article_id=article.id, version=version, content=content, edited_by=actor.user, edited_at=now, note=note)
    return updated, entry, events


def transition(
    article: Article, action: str, *, actor: Actor, now: datetime, note: str | None = None
) -> tuple[Article, list[EventData]]:
    """Submit (author or curator), publish, return to draft, retire and restore (curators)."""
    if action not in TRANSITIONS:
        raise IllegalTransition(f"unknown action {action}")
    sources, target = TRANSITIONS[action]
    if action == "submit":
        if not may_write(article, actor) and not (actor.role == "engineer" and article.author == actor.user):
            raise Forbidden("only the author or a curator may submit an article for review")
    elif not actor.curator:
        raise Forbidden(f"only the desk curates articles ({action})")
    if article.state not in sources:
        raise IllegalTransition(f"cannot {action} an article that is {article.state}")
    changes: dict[str, Any] = {
        "state": target, "updated_at": now,
        "log": [*article.log, LogEntry(at=now, by=actor.user, action=action, from_state=article.state, to_state=target, note=note)],
    }
    events: list[EventData] = []
    if target == "published":
        changes.update(published_at=now, published_version=article.version)
    updated = article.model_copy(update=changes)
    if target == "published":
        events.append(_published_event(updated, by=actor.user, at=now))
    return updated, events


def add_attachment(article: Article, attachment: Attachment, *, actor: Actor) -> Article:
    if not may_write(article, actor):
        raise Forbidden("only curators, or the author of a draft, may attach files")
    return article.model_copy(update={"attachments": [*article.attachments, attachment]})


def remove_attachment(article: Article, attachment_id: str, *, actor: Actor) -> Article:
    if not may_write(article, actor):
        raise Forbidden("only curators, or the author of a draft, may remove files")
    kept = [a for a in article.attachments if a.id != attachment_id]
    if len(kept) == len(article.attachments):
        raise NotFound(f"attachment {attachment_id}")
    return article.model_copy(update={"attachments": kept})
