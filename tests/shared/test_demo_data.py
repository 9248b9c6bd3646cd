"""The demo data agrees with itself (issue 13, item 18): one script (simplified Chinese, for a mainland agency) and
only codes that exist (the catalog's services, the register's asset types)."""

from __future__ import annotations

from assets.domain import BUILTIN_TYPES, DEMO_REGISTER
from dispatch.domain import DEMO_ROSTER
from intake.catalog import SEED
from knowledge.seed import DEMO_ARTICLES
from opsdesk_shared.hanzi import to_simplified


def _not_simplified(texts: dict[str, str]) -> dict[str, str]:
    return {where: text for where, text in texts.items() if to_simplified(text) != text}


def test_seeded_articles_name_only_catalog_services_and_register_types() -> None:
    codes = {service.code for service in SEED}
    types = {t.code for t in BUILTIN_TYPES}
    assert {c for a in DEMO_ARTICLES.values() for c in a.service_codes} <= codes
    assert {t for a in DEMO_ARTICLES.values() for t in a.asset_types} <= types


def test_seeded_articles_are_simplified_chinese() -> None:
    texts = {
        f"{key}.{field}": value
        for key, a in DEMO_ARTICLES.items()
        for field, value in {"title": a.title, "summary": a.summary, "body": a.body, "category": a.category,
                             "tags": " ".join(a.tags)}.items()
    }
    assert _not_simplified(texts) == {}


def test_roster_register_and_types_are_simplified_chinese() -> None:
    texts = {f"roster.{e.id}": f"{e.name} {e.home_site or ''}" for e in DEMO_ROSTER}
    texts |= {
        f"register.{a.tag}": " ".join(filter(None, (a.department, a.owner, a.vendor, a.location.building if a.location else None,
                                                    a.location.room if a.location else None)))
        for a in DEMO_REGISTER
    }
    texts |= {f"type.{t.code}": t.name for t in BUILTIN_TYPES}
    assert _not_simplified(texts) == {}


def test_catalog_zh_cn_labels_are_simplified_and_zh_tw_stay_traditional() -> None:
    zh_cn = {f"{s.code}.{f}": getattr(s, f).zh_cn for s in SEED for f in ("name", "deliverable", "service_level")}
    assert _not_simplified(zh_cn) == {}
    # zh-TW is the contract's own wording: most labels there differ from their simplified form.
    assert sum(1 for s in SEED if to_simplified(s.name.zh_tw) != s.name.zh_tw) > len(SEED) // 2
