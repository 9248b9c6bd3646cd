"""Turning Chinese and English text into index terms, and marking matched terms in a snippet.

Chinese runs are folded by OpenCC to mainland simplified script and words (印表機 -> 打印机) and cut with jieba's `cut_for_search` (words and their sub-words, so
打印机 also matches 打印); English runs become lowercase word tokens with a light suffix stripper (printers, printer
and printing meet at print/printer). A short stop-word list drops only words that carry no meaning in a query.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterable
from pathlib import Path

import jieba

from opsdesk_shared.hanzi import to_search_form, to_simplified

# Bump when the analysis changes: stored term vectors made by another version are recomputed.
# 2: OpenCC's full tables and Taiwan vocabulary replaced the hand-kept ~300 pairs (財 was not folded at all).
ANALYZER_VERSION = 2

_RUNS = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)|([a-z0-9]+)")
_WORD = re.compile(r"[a-z0-9]+")

STOP_EN = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for", "from", "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our", "please", "so", "that", "the", "their", "then", "there", "these", "this", "to", "was", "we", "what", "when", "where", "which", "who", "why", "will", "with", "you", "your"]
)
STOP_ZH = frozenset(
    ["的", "了", "是", "我", "你", "他", "她", "在", "和", "与", "及", "吗", "呢", "啊", "吧", "呀", "么", "怎么", "怎么办", "怎样", "如何", "什么", "办", "请", "一个", "有", "就", "都", "也", "把", "被", "让", "给", "就是", "还", "又", "或", "或者", "这", "那", "这个", "那个", "我们", "你们", "可以", "一下", "时候", "为什么", "能", "会", "要"]
)
_VOWELS = frozenset("aeiou")


def stem(word: str) -> str:
    """A light English suffix stripper: plural s, -ing, -ed, final e, doubled final consonant."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ing") and len(word) > 5:
        word = word[:-3]
    elif word.endswith("ed") and len(word) > 4:
        word = word[:-2]
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in _VOWELS and word[-1] not in "lsz":
        word = word[:-1]
    return word


def fold(text: str) -> str:
    """Simplified script, lower case; the same length as `text` whenever lower-casing keeps lengths (it does for CJK and ASCII)."""
    folded = to_simplified(text).lower()
    if len(folded) != len(text):  # a rare character whose lower case is longer (e.g. İ): keep offsets exact
        folded = "".join(c if len(c.lower()) != 1 else c.lower() for c in to_simplified(text))
    return folded


class Analyzer:
    """One jieba tokenizer, initialised once per process (it takes about a second to load its dictionary)."""

    def __init__(self, *, cache_dir: str | None = None) -> None:
        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        if cache_dir:
            Path(cache_dir).mkdir(parents=True, exist_ok=True)
            self._jieba.tmp_dir = cache_dir
        self._ready = False

    def initialize(self) -> None:
        if not self._ready:
            self._jieba.initialize()
            self._ready = True

    def terms(self, text: str, *, sub_words: bool = True) -> list[str]:
        """Index terms of `text`, in order, with repeats (term frequency counts them). Without `sub_words` Chinese is
        cut into whole words only (打印机, not also 打印 and 印机), which suits comparing two short texts."""
        self.initialize()
        out: list[str] = []
        for han, word in _RUNS.findall(to_search_form(text).lower()):
            if han:
                cut = self._jieba.cut_for_search(han, HMM=True) if sub_words else self._jieba.cut(han, HMM=True)
                out.extend(t for t in cut if t not in STOP_ZH)
            elif word not in STOP_EN:
                out.append(stem(word))
        return out

    def query_terms(self, text: str) -> list[str]:
        """Distinct terms of a query, in order."""
        return list(dict.fromkeys(self.terms(text)))

    def words(self, text: str) -> list[str]:
        """Distinct whole words of a text, for similarity between incidents."""
        return list(dict.fromkeys(self.terms(text, sub_words=False)))


def _spans(folded: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    wanted = set(terms)
    spans: list[tuple[int, int]] = []
    for m in _WORD.finditer(folded):
        if stem(m.group()) in wanted or m.group() in wanted:
            spans.append(m.span())
    for term in wanted:
        if not term or term.isascii():
            continue
        start = folded.find(term)
        while start != -1:
            spans.append((start, start + len(term)))
            start = folded.find(term, start + len(term))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _mark(text: str, spans: list[tuple[int, int]], start: int, end: int) -> str:
    out: list[str] = []
    pos = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(html.escape(text[pos:s]))
        out.append(f"<em>{html.escape(text[s:e])}</em>")
        pos = e
    out.append(html.escape(text[pos:end]))
    return "".join(out)


def highlight(text: str, terms: Iterable[str]) -> str:
    """The whole text, HTML-escaped, with every matched term wrapped in <em>."""
    return _mark(text, _spans(fold(text), terms), 0, len(text))


def snippet(text: str, terms: Iterable[str], *, width: int = 120) -> str:
    """About `width` characters of `text` around its densest run of matches, escaped, matches in <em>."""
    flat = " ".join(text.split())
    spans = _spans(fold(flat), terms)
    if not spans:
        return html.escape(flat[:width]) + ("…" if len(flat) > width else "")
    # The window that holds the most matches, starting a little before one of them.
    best_start, best_hits = 0, -1
    for s, _ in spans:
        start = max(0, s - width // 6)
        hits = sum(1 for a, b in spans if a >= start and b <= start + width)
        if hits > best_hits:
            best_start, best_hits = start, hits
    end = min(len(flat), best_start + width)
    best_start = max(0, min(best_start, end - width))
    body = _mark(flat, spans, best_start, end)
    return ("…" if best_start > 0 else "") + body + ("…" if end < len(flat) else "")
