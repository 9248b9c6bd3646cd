"""Traditional and simplified Chinese folded to one form, with OpenCC, wherever text is indexed, filtered or compared.

The desk writes both scripts (a ticket says 財務科 打印機卡紙, the roster 财务科, an engineer's note 打印机卡纸), and jieba's
dictionary is simplified, so index terms, queries, filter values and compared names are all folded to simplified
first. Two folds, because two needs:

- `to_simplified`: script only, character for character (OpenCC `tw2s`: Taiwan variants, then traditional to
  simplified). The result has the length of the input, so offsets in the folded text are offsets in the original and
  highlights land on the original text. Use it for exact values (departments, names) and for highlighting.
- `to_search_form`: script and vocabulary (OpenCC `tw2sp`): Taiwan's words become the mainland's (印表機 -> 打印机,
  滑鼠 -> 鼠标, 登入 -> 登录, 隨身碟 -> U盘), so a ticket written in Taipei finds the article written in Guangzhou. The
  length may change: use it for index terms and queries, never for offsets.

Both end with a few simplified variant spellings folded to the one a mainland desk uses (帐号 and 账号 are both
simplified; OpenCC turns 帳號 into 帐号 while people type 账号). Simplified input passes through unchanged apart from
those variants.
"""

from __future__ import annotations

from functools import lru_cache

import opencc

# OpenCC converters are immutable once built and cost a few milliseconds to load: one per process each.
_SCRIPT = opencc.OpenCC("tw2s")
_WORDS = opencc.OpenCC("tw2sp")
# Back to traditional, for filters that match in the browser: characters (s2t: 打印机 -> 打印機) and Taiwan's words
# (s2twp: 打印机 -> 印表機).
_TRADITIONAL = opencc.OpenCC("s2t")
_TAIWAN = opencc.OpenCC("s2twp")

# Simplified variants folded to the spelling a mainland desk types (帐 is the tent; accounts are 账 in current usage).
# Only for matching: the stored text is never rewritten.
_VARIANTS = str.maketrans({"帐": "账"})


@lru_cache(maxsize=4096)
def _char(ch: str) -> str:
    out = str(_SCRIPT.convert(ch))
    return out if len(out) == 1 else ch


def to_simplified(text: str) -> str:
    """Fold traditional characters to simplified ones; same length, same offsets."""
    if text.isascii():
        return text
    out = str(_SCRIPT.convert(text))
    if len(out) != len(text):  # a phrase rule changed the length: fall back to one character at a time
        out = "".join(_char(c) for c in text)
    return out.translate(_VARIANTS)


def to_search_form(text: str) -> str:
    """Fold script and Taiwan vocabulary to mainland simplified, for index terms and queries (lengths may change)."""
    if text.isascii():
        return text
    return str(_WORDS.convert(text)).translate(_VARIANTS)


def fold_key(text: str | None) -> str | None:
    """The form two exact values are compared in (a department, a building, a name): simplified, trimmed."""
    if text is None:
        return None
    return to_simplified(text.strip())


def same_text(a: str | None, b: str | None) -> bool:
    """Whether two exact values are the same once script is folded (財務科 and 财务科 are one department)."""
    return a is not None and b is not None and fold_key(a) == fold_key(b)


def in_both_scripts(text: str) -> str:
    """The text with its simplified and traditional forms (characters, and Taiwan's words: 打印机, 打印機, 印表機), for
    a filter that matches what a person types by substring in the browser, whichever script they type in."""
    if text.isascii():
        return text
    simplified = to_simplified(text)
    forms = dict.fromkeys([text, simplified, to_traditional(simplified), str(_TAIWAN.convert(simplified))])
    return " ".join(forms)


def to_traditional(text: str) -> str:
    """Simplified text in traditional characters (OpenCC `s2t`, characters only: a name keeps its words)."""
    if text.isascii():
        return text
    return str(_TRADITIONAL.convert(text))
