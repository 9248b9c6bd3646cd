"""Intake's refusals speak the caller's language (issue 13 item 12, H12): every catalogue code renders in Chinese
for zh-CN / zh-TW and stays English for en; a raised `Said` keeps its English text for logs and str()."""

from __future__ import annotations

import re

import pytest

from intake import texts
from intake.lifecycle import IllegalTransition
from intake.texts import Said, localise, said_of

HAN = re.compile(r"[\u4e00-\u9fff]")
SAMPLE = {"ticket": "INC-2026-999999", "user": "wang.req", "engineer": "eng-nope", "key": "ci", "tag": "PC-9",
          "field": "desk_first", "name": "Wang", "department": "office", "code": "RS-X", "status": "new",
          "current": "assigned", "target": "cancelled", "action": "edit", "roles": "admin,auditor", "seconds": 3,
          "why": "x", "window": "7 days", "cap": "5", "actual": 2, "expected": 1, "path": "POST /x", "step": "close",
          "fields": "role", "min": 12, "max": 128, "body": "RS-A", "id": "5f0c"}


@pytest.mark.parametrize("code", sorted(texts.ERRORS))
def test_every_refusal_is_chinese_in_chinese_and_english_in_english(code: str) -> None:
    params = {k: v for k, v in SAMPLE.items() if "{" + k + "}" in "".join(texts.ERRORS[code])}
    said = Said(code, **params)
    for lang in ("zh-CN", "zh-TW"):
        assert HAN.search(said.text(lang)), (code, lang, said.text(lang))
    assert not HAN.search(said.text("en")) and str(said) == said.text("en")
    assert "/api/v1/" not in said.text("zh-CN") or code == "err.use_step"


def test_the_edge_renders_a_refusal_in_a_field_list_and_keeps_other_text() -> None:
    items = [{"loc": ["body", "note"], "msg": Said("err.return_note"), "type": "value_error"}, {"msg": "plain"}]
    rendered = localise(items, "zh-TW")
    assert rendered[0]["msg"] == "退回服務記錄時請說明缺少什麼" and rendered[1]["msg"] == "plain"


def test_an_exception_keeps_its_code_for_the_edge() -> None:
    exc = IllegalTransition("new", "closed", ())
    assert isinstance(said_of(exc), Said) and "「新建」" in localise(said_of(exc), "zh-CN")
    assert str(exc) == "a new ticket cannot become closed"
