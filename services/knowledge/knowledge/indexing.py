"""Keeps each instance's in-memory index in step with the database.

Every instance applies its own writes at once, and every few seconds reads one counter document: when another
instance changed articles, the change log (one document per change, keyed by the counter value) names them, and only
those are reloaded. A large gap, or a log entry that never appears, reloads everything.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from . import metrics
from .domain import Article
from .ports import ArticleStore
from .search import SearchIndex

STATES = ("draft", "in_review", "published", "retired")


class IndexSync:
    def __init__(self, index: SearchIndex, store: ArticleStore, *, reload_limit: int = 500) -> None:
        self.index = index
        self._store = store
        self._reload_limit = reload_limit
        self.seq = 0
        # The storage revision each indexed article was read at: a read that comes back after a newer write of this
        # instance was applied must not overwrite it (issue 14, defect 2, the same race as the desk's ticket index).
        self._revs: dict[str, int] = {}

    def _put(self, article: Article) -> bool:
        if self._revs.get(article.id, -1) > article.rev:
            return False
        self._revs[article.id] = article.rev
        self.index.upsert(article.index_doc())
        return True

    async def rebuild(self) -> int:
        """Index every article (at start-up); yields to the event loop now and then. Returns how many."""
        seq = await self._store.change_seq()
        articles = await self._store.all()
        fresh = {a.id for a in articles}
        for key in [d.key for d in self.index.docs()]:
            if key not in fresh:
                self.index.remove(key)
                self._revs.pop(key, None)
        for n, article in enumerate(articles, 1):
            self._put(article)
            if n % 200 == 0:
                await asyncio.sleep(0)
        self.seq = seq
        self.count_states()
        return len(articles)

    def apply(self, article: Article) -> None:
        """A write of this instance: visible to its next search at once."""
        self._put(article)
        self.count_states()

    async def refresh(self) -> int:
        """Pick up other instances' changes; returns how many articles were reloaded."""
        changed = await self._store.changed_since(self.seq, limit=self._reload_limit)
        if changed is None:
            return await self.rebuild()
        ids, reached = changed
        for article_id in ids:
            article = await self._store.get(article_id)
            if article is None:
                self.index.remove(article_id)
                self._revs.pop(article_id, None)
            else:
                self._put(article)
        self.seq = reached
        if ids:
            self.count_states()
        return len(ids)

    def count_states(self) -> None:
        counts = Counter(doc.attrs.state for doc in self.index.docs())
        for state in STATES:
            metrics.articles.labels(state).set(counts.get(state, 0))
