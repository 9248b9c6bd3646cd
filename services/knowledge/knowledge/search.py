"""The in-memory inverted index with BM25 ranking: no database at hand segments Chinese, so the service keeps its own.

One entry per article: its weighted term frequencies (title x3, tags and categories x2, summary and body x1), its
length, the text needed for highlights, and the attributes filters look at. Pure and synchronous; the service keeps it
in step with the database (see `indexing.py`).
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .text import Analyzer, highlight, snippet

TITLE_WEIGHT = 3.0
TAG_WEIGHT = 2.0
BODY_WEIGHT = 1.0


@dataclass(frozen=True)
class DocAttrs:
    """What filters and permissions look at, and what a hit shows without reading the database."""

    state: str
    audience: str
    category: str
    tags: frozenset[str] = frozenset()
    service_codes: frozenset[str] = frozenset()
    asset_types: frozenset[str] = frozenset()
    author: str = ""
    version: int = 1


@dataclass(frozen=True)
class IndexDoc:
    key: str
    title: str
    body: str
    attrs: DocAttrs
    summary: str = ""


@dataclass(frozen=True)
class Hit:
    key: str
    score: float
    title: str
    title_html: str
    snippet_html: str
    attrs: DocAttrs


@dataclass(frozen=True)
class Results:
    total: int
    hits: list[Hit]
    terms: list[str]


@dataclass
class _Entry:
    doc: IndexDoc
    terms: dict[str, float]
    length: float


@dataclass
class SearchIndex:
    analyzer: Analyzer
    k1: float = 1.2
    b: float = 0.75
    _postings: dict[str, dict[int, float]] = field(default_factory=dict)
    _entries: dict[int, _Entry] = field(default_factory=dict)
    _ids: dict[str, int] = field(default_factory=dict)
    _next: int = 0
    _total_length: float = 0.0
    # Per-document BM25 length normalisation, recomputed lazily after writes (the average length moves with them).
    _norms: dict[int, float] = field(default_factory=dict)
    _norms_stale: bool = True

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._ids

    def analyze(self, doc: IndexDoc) -> dict[str, float]:
        """Weighted term frequencies of one document."""
        tf: defaultdict[str, float] = defaultdict(float)
        for term in self.analyzer.terms(doc.title):
            tf[term] += TITLE_WEIGHT
        facets = " ".join([doc.attrs.category, *sorted(doc.attrs.tags)])
        for term in self.analyzer.terms(facets):
            tf[term] += TAG_WEIGHT
        for term in self.analyzer.terms(f"{doc.summary}\n{doc.body}"):
            tf[term] += BODY_WEIGHT
        return dict(tf)

    def upsert(self, doc: IndexDoc, terms: dict[str, float] | None = None) -> None:
        """Add or replace a document; `terms` skips the analysis when it was stored with the document."""
        self.remove(doc.key)
        weighted = terms if terms is not None else self.analyze(doc)
        n = self._next
        self._next += 1
        self._ids[doc.key] = n
        length = sum(weighted.values())
        self._entries[n] = _Entry(doc, weighted, length)
        self._total_length += length
        self._norms_stale = True
        for term, tf in weighted.items():
            self._postings.setdefault(term, {})[n] = tf

    def remove(self, key: str) -> None:
        n = self._ids.pop(key, None)
        if n is None:
            return
        entry = self._entries.pop(n)
        self._total_length -= entry.length
        self._norms_stale = True
        for term in entry.terms:
            posting = self._postings.get(term)
            if posting is not None:
                posting.pop(n, None)
                if not posting:
                    del self._postings[term]

    def get(self, key: str) -> IndexDoc | None:
        n = self._ids.get(key)
        return self._entries[n].doc if n is not None else None

    def docs(self) -> Iterable[IndexDoc]:
        return (e.doc for e in self._entries.values())

    def search(
        self,
        query: str,
        *,
        where: Callable[[DocAttrs], bool] = lambda _: True,
        boost: Callable[[DocAttrs], float] | None = None,
        limit: int = 10,
        offset: int = 0,
        min_score: float = 0.0,
    ) -> Results:
        """The best documents for `query` among those `where` accepts; an empty query lists them by title."""
        terms = self.analyzer.query_terms(query)
        if not terms:
            listed = sorted((e.doc for e in self._entries.values() if where(e.doc.attrs)), key=lambda d: d.title)
            page = listed[offset : offset + limit]
            return Results(len(listed), [self._hit(d, 0.0, []) for d in page], [])
        n_docs = len(self._entries)
        norms = self._current_norms()
        scores: dict[int, float] = {}
        get = scores.get
        for term in terms:
            posting = self._postings.get(term)
            if not posting:
                continue
            weight = math.log(1.0 + (n_docs - len(posting) + 0.5) / (len(posting) + 0.5)) * (self.k1 + 1.0)
            for n, tf in posting.items():
                scores[n] = get(n, 0.0) + weight * tf / (tf + norms[n])
        matched: list[tuple[float, int]] = []
        for n, score in scores.items():
            attrs = self._entries[n].doc.attrs
            if not where(attrs):
                continue
            if boost is not None:
                score *= boost(attrs)
            if score > min_score:
                matched.append((score, n))
        best = heapq.nlargest(offset + limit, matched, key=lambda pair: (pair[0], -pair[1]))[offset:]
        return Results(len(matched), [self._hit(self._entries[n].doc, score, terms) for score, n in best], terms)

    def _current_norms(self) -> dict[int, float]:
        if self._norms_stale:
            avg = self._total_length / len(self._entries) if self._entries else 1.0
            k1, b = self.k1, self.b
            self._norms = {n: k1 * (1.0 - b + b * e.length / avg) for n, e in self._entries.items()}
            self._norms_stale = False
        return self._norms

    def _hit(self, doc: IndexDoc, score: float, terms: list[str]) -> Hit:
        return Hit(
            key=doc.key,
            score=round(score, 4),
            title=doc.title,
            title_html=highlight(doc.title, terms),
            snippet_html=snippet(doc.summary + " " + doc.body if doc.summary else doc.body, terms),
            attrs=doc.attrs,
        )
