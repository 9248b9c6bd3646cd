"""The desk's people directory: who is calling, found by name, phone, department, user name or e-mail as an agent
types, in either Chinese script (OpenCC's fold, as the ticket search uses: 財務科 finds 财务科). It shows what a
phone call needs (name, department, phone, e-mail, user name), never roles, roster links or credentials.

Matching is done here over the users in username order, not by the database: FerretDB indexes nothing but `_id` and
neither store folds scripts; an agency's directory is thousands of people, a scan of which takes milliseconds.
"""

from __future__ import annotations

import re

from opsdesk_shared.hanzi import to_search_form, to_simplified

from .domain import User

_NOT_DIGIT = re.compile(r"\D")


def _folded(text: str | None) -> tuple[str, ...]:
    """Character by character and with Taiwan words as mainland ones: OpenCC makes 檔案室 文件室, which 档案室 typed
    on the mainland would not find by words alone."""
    if not text:
        return ()
    lowered = text.lower()
    return (to_simplified(lowered), to_search_form(lowered))


def matcher(q: str) -> list[tuple[tuple[str, ...], str]]:
    """The query's terms, each as (folded forms, digits): every term must match some field of a person."""
    return [(_folded(term), _NOT_DIGIT.sub("", term)) for term in q.split()]


def matches(user: User, terms: list[tuple[tuple[str, ...], str]]) -> bool:
    """Every term is part of the name, department, user name or e-mail (folded), or of the phone's digits
    (a term of 3+ digits: 8888 finds 020-8888 1234)."""
    texts = [*_folded(user.name), *_folded(user.department), user.username.lower(), (user.email or "").lower()]
    phone = _NOT_DIGIT.sub("", user.phone or "")
    for forms, digits in terms:
        if any(form in t for form in forms for t in texts if t):
            continue
        if len(digits) >= 3 and all(digits == _NOT_DIGIT.sub("", form) for form in forms) and digits in phone:
            continue
        return False
    return True
