"""The agency's maintenance manual (《维护手册》, contract 1.3.3: 及时整理并发布采购人专用系统《维护手册》): the published
knowledge articles a manager picks (by id, or a whole category), as one versioned document with a cover, contents and
one chapter per article. The articles are read from knowledge (it owns them) at generation; the manual is stored and
signed off like every other report (one series per language; each publication is a new version).

Pure: the articles in, the report document out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from opsdesk_shared.contracts.knowledge import ArticlesQuery, PublishedArticle

from .i18n import t
from .reports import Parties, ReportKind, report_id

Document = dict[str, Any]
KIND = ReportKind("maintenance-manual", "manual", 0, ("chapters",))
PERIOD = "manual"
FORMATS = ("json", "pdf")


class NoArticles(ValueError):
    """The selection names articles that are not published (or unknown), or a category with none published."""

    def __init__(self, field: str, message: str, *, missing: list[str] | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.missing = missing or []


def selection_of(query: ArticlesQuery) -> Document:
    return {"article_ids": list(query.article_ids)} if query.article_ids else {"category": query.category}


def query_of(selection: Document) -> ArticlesQuery:
    return ArticlesQuery(article_ids=list(selection.get("article_ids") or []), category=selection.get("category"))


def build(articles: list[PublishedArticle], *, selection: Document, lang: str, generated_at: datetime,
          parties: Parties | None = None) -> Document:
    """The manual as a report document: its chapters are its `sections` (kept in the files, not in the metadata)."""
    p = parties or Parties()
    chapters = [
        {"type": "chapter", "number": n, "title": a.title, "article_id": a.article_id, "article_version": a.version,
         "category": a.category, "summary": a.summary, "body": a.body, "tags": list(a.tags),
         "published_at": a.published_at.isoformat() if a.published_at else None}
        for n, a in enumerate(articles, start=1)
    ]
    return {
        "_id": report_id(KIND.name, PERIOD, lang), "kind": KIND.name, "period": PERIOD, "lang": lang,
        "title": t(KIND.name, lang), "generated_at": generated_at, "due_at": None,
        "agency": p.agency, "contractor": p.contractor, "version": p.version, "selection": selection,
        "figures": {"articles": [{"article_id": a.article_id, "title": a.title, "version": a.version, "category": a.category}
                                 for a in articles]},
        "sections": chapters,
    }
