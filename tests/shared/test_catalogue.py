"""The one catalogue machinery (opsdesk_shared.catalogue): codes rendered in the reader's language with their
parameters' words, `Said` keeping its English text and its code, `localise`/`said_of` at the edge, and the one
`language_of` (re-exported by errors and contracts.reasons)."""

from __future__ import annotations

import pytest

from opsdesk_shared import catalogue, errors
from opsdesk_shared.catalogue import Catalogue, language_of, localise, said_of
from opsdesk_shared.contracts import reasons

TEXTS = {
    "err.step": ("不能从「{current}」改为「{wanted}」", "不能從「{current}」改為「{wanted}」", "cannot go from {current} to {wanted}"),
    "err.roles": ("只有 {roles} 可以", "只有 {roles} 可以", "only {roles} may"),
    "err.plain": ("没有 {tag}", "沒有 {tag}", "no {tag}"),
}
STATUS = {"new": ("新建", "新建", "new"), "closed": ("已关闭", "已關閉", "closed")}
ROLES = {"admin": ("管理员", "管理員", "admin"), "auditor": ("审计员", "稽核員", "auditor")}
CATALOGUE = Catalogue(TEXTS, words={"current": STATUS, "wanted": STATUS}, word_lists={"roles": ROLES})


class Said(catalogue.Said):
    catalogue = CATALOGUE


def test_a_code_renders_in_each_language_with_its_words() -> None:
    params = {"current": "new", "wanted": "closed"}
    assert CATALOGUE.render("err.step", params, "zh-CN") == "不能从「新建」改为「已关闭」"
    assert CATALOGUE.render("err.step", params, "zh-TW") == "不能從「新建」改為「已關閉」"
    assert CATALOGUE.render("err.step", params, "en") == "cannot go from new to closed"
    assert CATALOGUE.render("err.step", params, "fr") == "cannot go from new to closed"  # a language we lack: English


def test_word_lists_join_in_the_language_and_unknown_words_stay_as_they_are() -> None:
    assert CATALOGUE.render("err.roles", {"roles": "admin,auditor"}, "zh-CN") == "只有 管理员 或 审计员 可以"
    assert CATALOGUE.render("err.roles", {"roles": "admin,robot"}, "en") == "only admin or robot may"
    assert CATALOGUE.render("err.step", {"current": "limbo", "wanted": "new"}, "zh-CN") == "不能从「limbo」改为「新建」"


def test_unknown_codes_and_missing_parameters_do_not_raise() -> None:
    assert CATALOGUE.render("err.nope", {}, "zh-CN") == "err.nope"
    assert CATALOGUE.render("err.plain", {}, "zh-CN") == "no {tag}"  # unfilled: the English template, not a KeyError
    assert CATALOGUE.render("err.plain", {"tag": None}, "en") == "no "
    assert "err.plain" in CATALOGUE and "err.nope" not in CATALOGUE


def test_said_is_english_text_with_its_code_and_renders_at_the_edge() -> None:
    said = Said("err.step", current="new", wanted="closed")
    assert isinstance(said, str) and isinstance(said, catalogue.Said)
    assert str(said) == "cannot go from new to closed" and said.code == "err.step"
    assert said.params == {"current": "new", "wanted": "closed"}
    assert said.text("zh-TW") == "不能從「新建」改為「已關閉」"
    made = CATALOGUE.said("err.plain", tag="PC-1")
    assert type(made) is Said and made.text("zh-CN") == "没有 PC-1"


def test_a_catalogue_without_its_own_said_class_makes_one() -> None:
    other = Catalogue({"x": ("甲 {n}", "甲 {n}", "x {n}")})
    said = other.said("x", n=2)
    assert isinstance(said, catalogue.Said) and not isinstance(said, Said)
    assert str(said) == "x 2" and said.text("zh-CN") == "甲 2"


def test_localise_and_said_of() -> None:
    items = [{"loc": ["body", "tag"], "msg": Said("err.plain", tag="T"), "type": "value_error"}, {"msg": "plain"}]
    assert localise(items, "zh-CN") == [{"loc": ["body", "tag"], "msg": "没有 T", "type": "value_error"}, {"msg": "plain"}]
    assert localise(("a", Said("err.plain", tag="T")), "en") == ["a", "no T"]
    assert CATALOGUE.localise(Said("err.plain", tag="T"), "zh-TW") == "沒有 T"
    kept = said_of(ValueError(Said("err.plain", tag="T")))
    assert isinstance(kept, Said) and kept.code == "err.plain"
    assert said_of(ValueError("plain words")) == "plain words" and CATALOGUE.said_of(KeyError()) == ""


def test_a_service_renderer_takes_over() -> None:
    own = Catalogue(TEXTS, renderer=lambda code, params, language: f"{language}:{code}:{sorted(params)}")
    assert own.said("err.plain", tag="T").text("zh-CN") == "zh-CN:err.plain:['tag']"


@pytest.mark.parametrize(("given", "language"), [
    ("", "en"), (None, "en"), ("de", "en"), ("en-GB", "en"), ("zh", "zh-CN"), ("zh-Hans", "zh-CN"), ("zh_CN", "zh-CN"),
    ("zh-SG", "zh-CN"), ("zh-TW", "zh-TW"), ("zh-HK", "zh-TW"), ("zh_TW", "zh-TW"), ("zh-Hant-HK", "zh-TW"),
    ("fr, zh-TW;q=0.4, zh-CN;q=0.9", "zh-CN"), ("zh-TW,en;q=0.8", "zh-TW"), ("de,en;q=0.5", "en"), ("zh-CN;q=x,en", "en"),
])
def test_one_language_of_for_headers_and_tags(given: str | None, language: str) -> None:
    assert language_of(given) == language
    assert errors.language_of is language_of and reasons.language_of is language_of
