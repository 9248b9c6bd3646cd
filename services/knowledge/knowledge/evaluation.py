"""How good the suggestions are: precision@3 over a set of real desk tickets whose right articles are known.

Precision@3 of one ticket is the share of the (at most three) suggested articles that are right for it; a ticket
that gets nothing scores 0, since every ticket in the set has a right answer. The mean over the set is the figure
`bench/kb_suggestions.py` prints and a unit test holds at or above 0.8. Pure: an index and the cases in, numbers out.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from opsdesk_shared.contracts import Requester, TicketCreatedV1
from opsdesk_shared.contracts.knowledge import SuggestedArticle

from .domain import Article, ArticleContent
from .search import SearchIndex
from .text import Analyzer

# The set kept with the service's tests: 60 tickets as a desk receives them (both scripts, some English).
DESK_TICKETS = Path(__file__).resolve().parents[1] / "tests" / "data" / "desk_tickets.json"
_T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    title: str
    description: str
    service_code: str
    asset_type: str | None
    relevant: frozenset[str]

    def ticket(self) -> TicketCreatedV1:
        return TicketCreatedV1(
            ticket_id=str(uuid.uuid5(uuid.NAMESPACE_URL, self.title)), number="INC-2026-000001", title=self.title,
            channel="hotline", service_code=self.service_code, requester=Requester(name="王小明"), reported_at=_T0,
            description=self.description,
        )


@dataclass(frozen=True)
class Outcome:
    case: Case
    suggested: tuple[str, ...]

    @property
    def precision(self) -> float:
        return sum(1 for a in self.suggested if a in self.case.relevant) / len(self.suggested) if self.suggested else 0.0

    @property
    def first_right(self) -> bool:
        return bool(self.suggested) and self.suggested[0] in self.case.relevant


@dataclass(frozen=True)
class Report:
    outcomes: tuple[Outcome, ...]

    @property
    def precision_at_3(self) -> float:
        return sum(o.precision for o in self.outcomes) / len(self.outcomes)

    @property
    def hit_at_1(self) -> float:
        return sum(1 for o in self.outcomes if o.first_right) / len(self.outcomes)

    @property
    def found_at_3(self) -> float:
        """Share of tickets with at least one right article among their suggestions."""
        return sum(1 for o in self.outcomes if set(o.suggested) & o.case.relevant) / len(self.outcomes)

    @property
    def mean_suggested(self) -> float:
        return sum(len(o.suggested) for o in self.outcomes) / len(self.outcomes)


def load_cases(path: Path = DESK_TICKETS) -> list[Case]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [
        Case(title=r["title"], description=r["description"], service_code=r["service_code"],
             asset_type=r.get("asset_type"), relevant=frozenset(r["relevant"]))
        for r in raw
    ]


def index_of(articles: Mapping[str, ArticleContent], analyzer: Analyzer) -> SearchIndex:
    """A search index holding these articles, published, as the service's own index would after seeding."""
    index = SearchIndex(analyzer)
    for article_id, content in articles.items():
        article = Article(id=article_id, content=content, state="published", author="kb-seed", created_at=_T0,
                          updated_at=_T0, published_at=_T0, published_version=1)
        index.upsert(article.index_doc())
    return index


Suggest = Callable[[TicketCreatedV1, str | None], list[SuggestedArticle]]


def evaluate(cases: Iterable[Case], suggest: Suggest) -> Report:
    """Run `suggest(ticket, asset_type)` on every case and score what it returns."""
    return Report(tuple(
        Outcome(case, tuple(a.article_id for a in suggest(case.ticket(), case.asset_type)[:3])) for case in cases
    ))
