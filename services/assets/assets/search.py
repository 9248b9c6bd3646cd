"""Finding configuration items by text, its pure part: what an item is found by and how a query reads.

Neither FerretDB v1 (it indexes nothing but `_id`) nor MongoDB segments Chinese, and FerretDB has no text index, so each
item's document carries a search key (`_search`) written with it: its tag, name, serial, model, location, owner,
department and vendor, lowercased and folded by OpenCC to mainland simplified script and words (opsdesk_shared.hanzi),
one field a line. A query is split on white space and folded the same way; every word must occur in the key
(a contains match, `$regex` of the escaped word, which both databases answer). 財務科 finds 财务科, 印表機 finds
打印机, "t14 402" finds a ThinkPad T14 in room 402. Filters that people type in either script (department,
building) compare folded keys stored beside it (`_keys`). The database filters, sorts by tag and pages; nothing is
scanned into the service.

`SEARCH_VERSION` names the recipe: documents written under an older one (or before there was one) are brought up to
date once at start-up (`MongoAssetRegister.ensure_search_keys`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opsdesk_shared.hanzi import fold_key, to_search_form

from .domain import Asset

SEARCH_VERSION = 1
SEARCH_FIELD = "_search"
KEYS_FIELD = "_keys"
VERSION_FIELD = "_sv"
MAX_WORDS = 8
MAX_QUERY = 200


def fold(text: str) -> str:
    return to_search_form(text.strip().lower())


def search_key(asset: Asset) -> str:
    """The text an item is found by, folded, one field a line (a word never spans two fields)."""
    loc = asset.location
    values = (asset.tag, asset.name, asset.serial, asset.model, loc.building, loc.floor, loc.room, asset.owner,
              asset.department, asset.vendor)
    return "\n".join(fold(v) for v in values if v)


def search_fields(asset: Asset) -> dict[str, Any]:
    """What the document stores beside the item for finding it."""
    return {
        SEARCH_FIELD: search_key(asset),
        KEYS_FIELD: {"department": fold_key(asset.department), "building": fold_key(asset.location.building)},
        VERSION_FIELD: SEARCH_VERSION,
    }


def query_words(q: str | None) -> tuple[str, ...]:
    """The words of a query, folded as the key is; at most MAX_WORDS, duplicates dropped."""
    if not q:
        return ()
    words: list[str] = []
    for word in fold(q[:MAX_QUERY]).split():
        if word not in words:
            words.append(word)
    return tuple(words[:MAX_WORDS])


@dataclass(frozen=True)
class ItemQuery:
    """Which items a listing wants: text words (folded) and exact filters; every one given must hold."""

    words: tuple[str, ...] = ()
    type: str | None = None
    status: str | None = None
    department: str | None = None
    building: str | None = None

    def mongo_filter(self, *, after: str | None = None) -> dict[str, Any]:
        """The query both databases answer: plain equality and escaped contains-regexes, combined with $and."""
        conditions: list[dict[str, Any]] = [{SEARCH_FIELD: {"$regex": re.escape(w)}} for w in self.words]
        if self.type:
            conditions.append({"type": self.type})
        if self.status:
            conditions.append({"status": self.status})
        if self.department:
            conditions.append({f"{KEYS_FIELD}.department": fold_key(self.department)})
        if self.building:
            conditions.append({f"{KEYS_FIELD}.building": fold_key(self.building)})
        if after:
            conditions.append({"_id": {"$gt": after}})
        if not conditions:
            return {}
        return conditions[0] if len(conditions) == 1 else {"$and": conditions}

    def matches(self, doc: Mapping[str, Any], *, after: str | None = None) -> bool:
        """The same filter over a stored document, for the memory register (it reads what the database would)."""
        key = str(doc.get(SEARCH_FIELD) or "")
        keys = doc.get(KEYS_FIELD) or {}
        return (
            all(w in key for w in self.words)
            and (not self.type or doc.get("type") == self.type)
            and (not self.status or doc.get("status") == self.status)
            and (not self.department or keys.get("department") == fold_key(self.department))
            and (not self.building or keys.get("building") == fold_key(self.building))
            and (not after or str(doc["_id"]) > after)
        )
