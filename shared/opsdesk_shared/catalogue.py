"""What a service says, in the reader's language (zh-CN, zh-TW, en): one machinery for every service's catalogue.

A service keeps only its table (code -> (zh-CN, zh-TW, en) template) and the words its parameters stand for, and
builds a `Catalogue` of them:

    CATALOGUE = Catalogue(TEXTS, words={"status": STATUS}, word_lists={"roles": ROLES})

    class Said(catalogue.Said):
        catalogue = CATALOGUE

A refusal is raised with a `Said`: a catalogue code with its parameters. `Said` is a `str` whose value is the English
text, so logs, `str(exc)` and older callers keep working; the edge renders it in the caller's language
(`localise`, or `said.text(language)`) for the one error shape's `detail` or a field's `msg`. Each service's `Said`
is a subclass of the one here, so `isinstance(x, Said)` holds within the service and across them.

`language_of` is the one reading of a language: an Accept-Language header (q-values honoured) or a single tag
(zh-CN, zh-Hans, zh-TW, zh-HK, zh_TW, en-GB...) -> zh-CN, zh-TW or en (English for anything else).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal

Language = Literal["zh-CN", "zh-TW", "en"]
LANGUAGES: tuple[Language, ...] = ("zh-CN", "zh-TW", "en")
Param = str | int | float | bool | None
Texts = Mapping[str, tuple[str, str, str]]
Renderer = Callable[[str, Mapping[str, Any], str], str]
OR: tuple[str, str, str] = (" 或 ", " 或 ", " or ")
_TRADITIONAL = ("zh-tw", "zh-hk", "zh-mo", "zh-hant")


def _tag_language(tag: str) -> Language | None:
    if tag.startswith(_TRADITIONAL):
        return "zh-TW"
    if tag == "zh" or tag.startswith("zh-"):
        return "zh-CN"
    if tag.startswith("en"):
        return "en"
    return None


def _quality(params: str) -> float:
    """The q-value of an Accept-Language entry's parameters: 1 when it has none, 0 when it cannot be read."""
    value = params.strip()
    if not value.startswith("q="):
        return 1.0
    try:
        return float(value[2:])
    except ValueError:
        return 0.0


def language_of(header: str | None) -> Language:
    """The first of our languages in an Accept-Language header or a single tag (q-values honoured), else English."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        ranked.append((-_quality(params), position, tag.strip().replace("_", "-").lower()))
    found = (_tag_language(tag) for _, _, tag in sorted(ranked))
    return next((language for language in found if language is not None), "en")


def index_of(language: str) -> int:
    """The column of `language` in a (zh-CN, zh-TW, en) row."""
    return LANGUAGES.index(language_of(language))


class Catalogue:
    """A service's texts and the words of their parameters; renders a code with its parameters in a language.

    - `words`: parameter name -> table of the values it names (a status, an action...), said in the reader's language;
      a value the table does not hold is shown as it is.
    - `word_lists`: parameter name -> table, for a comma-separated list of such values, joined by "或" / "or".
    - `renderer`: a service whose texts need more than that (dispatch's decision reasons) renders them itself.
    An unknown code renders as the code; a template its parameters do not fill falls back to the English template.
    """

    def __init__(
        self, texts: Texts, *, words: Mapping[str, Texts] | None = None, word_lists: Mapping[str, Texts] | None = None,
        renderer: Renderer | None = None,
    ) -> None:
        self.texts = texts
        self.words: Mapping[str, Texts] = words or {}
        self.word_lists: Mapping[str, Texts] = word_lists or {}
        self._renderer = renderer
        self._said_type: type[Said] | None = None

    def __contains__(self, code: object) -> bool:
        return code in self.texts

    def word(self, key: str, value: Any, at: int) -> Any:
        """A parameter's value as the reader reads it (column `at`)."""
        if key in self.word_lists:
            table = self.word_lists[key]
            return OR[at].join(table[w][at] if w in table else w for w in str(value).split(","))
        known = self.words.get(key)
        if known is not None and str(value) in known:
            return known[str(value)][at]
        return "" if value is None else value

    def render(self, code: str, params: Mapping[str, Any], language: str) -> str:
        """The text of `code` in `language` (English for a language we do not have), its parameters filled in."""
        if self._renderer is not None:
            return self._renderer(code, params, language)
        texts = self.texts.get(code)
        if texts is None:
            return code
        at = index_of(language)
        fill = {key: self.word(key, value, at) for key, value in params.items()}
        try:
            return texts[at].format(**fill)
        except (KeyError, IndexError, ValueError):
            return texts[2]

    def said(self, code: str, /, **params: Param) -> Said:
        """A `Said` of this catalogue (of the service's own `Said` class where it declared one)."""
        if self._said_type is None:
            self._said_type = type("Said", (Said,), {"catalogue": self})
        return self._said_type(code, **params)

    @staticmethod
    def localise(value: Any, language: str) -> Any:
        return localise(value, language)

    @staticmethod
    def said_of(exc: BaseException) -> str:
        return said_of(exc)


class Said(str):
    """A text of a catalogue: a code with parameters, whose `str` value is the English text. A service subclasses it
    naming its `catalogue`."""

    catalogue: ClassVar[Catalogue]
    code: str
    params: dict[str, Param]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("catalogue")
        if isinstance(own, Catalogue) and own._said_type is None:
            own._said_type = cls

    def __new__(cls, code: str, /, **params: Param) -> Said:
        said = super().__new__(cls, cls.catalogue.render(code, params, "en"))
        said.code = code
        said.params = params
        return said

    def text(self, language: str) -> str:
        return self.catalogue.render(self.code, self.params, language)


def said_of(exc: BaseException) -> str:
    """The exception's text, keeping a `Said` (so the edge can render it) where the exception was raised with one."""
    first = exc.args[0] if exc.args else None
    return first if isinstance(first, Said) else str(exc)


def localise(value: Any, language: str) -> Any:
    """A `detail` or a field list with every `Said` in it rendered in `language`; anything else unchanged."""
    if isinstance(value, Said):
        return value.text(language)
    if isinstance(value, list | tuple):
        return [localise(item, language) for item in value]
    if isinstance(value, Mapping):
        return {k: localise(v, language) for k, v in value.items()}
    return value
