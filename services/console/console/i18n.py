"""Languages: zh-CN by default, zh-TW and en on request (Accept-Language, or the choice kept in a cookie).

Catalogues are Babel's: `locale/<lang>/LC_MESSAGES/messages.po`, compiled to `.mo` at install (`make install`);
a catalogue whose `.mo` is missing or older than its `.po` is compiled in memory at start, so a fresh checkout works.
"""

from __future__ import annotations

import gettext as gettext_module
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES: dict[str, str] = {"zh-CN": "简体中文", "zh-TW": "繁體中文", "en": "English"}
DEFAULT = "zh-CN"
LOCALE_DIR = Path(__file__).parent / "locale"
_DIRS = {"zh-CN": "zh_CN", "zh-TW": "zh_TW", "en": "en"}


def negotiate(accept_language: str | None, chosen: str | None = None) -> str:
    """The chosen language when known, else the best of Accept-Language (q-values honoured), else zh-CN."""
    if chosen in LANGUAGES:
        return chosen
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, index, tag.strip().lower()))
    for _q, _i, tag in sorted(ranked):
        if tag in ("zh-tw", "zh-hk", "zh-mo", "zh-hant", "zh-hant-tw", "zh-hant-hk"):
            return "zh-TW"
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT


@lru_cache(maxsize=8)
def translations(lang: str) -> gettext_module.NullTranslations:
    folder = LOCALE_DIR / _DIRS.get(lang, "en") / "LC_MESSAGES"
    po, mo = folder / "messages.po", folder / "messages.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fp:
            return Translations(fp)
    if po.exists():
        with po.open("rb") as fp:
            catalog = read_po(fp, locale=_DIRS[lang])
        buffer = BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return Translations(buffer)
    return gettext_module.NullTranslations()
