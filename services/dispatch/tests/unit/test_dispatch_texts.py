"""Every reason and error code renders in the three languages from its parameters, with no English words in the
Chinese texts but the parameters people wrote or ids."""

from __future__ import annotations

import re

import pytest

from dispatch.texts import ERRORS, TEMPLATES, VISIT_NOTES, render
from opsdesk_shared.contracts.reasons import REASONS, render_reason

PARAMS: dict[str, dict[str, str | int | float | bool | None]] = {
    "chosen": {"matched": "no_match", "skill": "printer", "duty": "phone", "load": 2, "capacity": 8, "role": "mobile",
               "score": 13.25, "over_capacity": False},
    "over_capacity": {"rest": "x"},
    "redispatch": {"delay": "车坏了", "matched": "match", "skill": None, "duty": "called_in", "load": 9, "capacity": 8,
                   "role": "onsite", "score": -1.12, "over_capacity": True},
    "desk": {"text": "熟悉该型号"},
    "no_engineer": {"skill": None},
    "no_engineer_skill": {"skill": "printer"},
    "held_after_hours": {"until": "2026-11-27T00:30:00+00:00", "work": "visit"},
    "withdrawn": {"status": "cancelled", "by": "agent1"},
    "eta": {"eta": "2026-11-27T07:00:00Z"},
    "overdue_due": {"due": "2026-11-27T07:00:00Z"},
    "err.no_access": {"role": "requester"},
    "err.not_holder": {"subject": "zhao", "ticket": "t-1"},
    "err.role_step": {"role": "auditor", "step": "confirm"},
    "err.not_notified": {"subject": "zhao"},
    "err.read_assignments": {"role": "requester"},
    "err.read_escalations": {"role": "requester"},
    "err.own_list": {"subject": "zhao"},
    "err.read_roster": {"role": "requester"},
    "err.edit_roster": {"role": "engineer"},
    "err.set_status": {"subject": "zhao", "engineer": "eng-1"},
    "err.no_assignment": {"ticket": "t-1"},
    "err.no_engineer": {"engineer": "eng-1"},
    "err.no_escalation": {"escalation": "e-1", "ticket": "t-1"},
    "err.illegal_step": {"step": "accept", "status": "completed"},
    "err.same_engineer": {"engineer": "eng-1"},
    "err.acknowledged": {"escalation": "e-1"},
    "err.not_waiting": {"ticket": "t-1"},
    "err.changed": {},
    "err.cursor": {},
    "err.eta_past": {"eta": "2026-11-27T07:00:00Z"},
    "err.cursor_list": {"kind": "escalations"},
    "err.unauthorized_work": {"ticket": "t-1", "state": "待授权", "step": "accept"},
    "err.no_replacement": {"engineer": "eng-1", "request": "t-1"},
    "err.agency_asks_replacement": {},
    "err.manager_answers_replacement": {},
    "err.read_replacements": {"role": "engineer"},
    "err.replacement_answered": {"request": "t-1"},
    "err.replace_by_past": {},
    "visit.remote": {},
    "visit.equipment": {},
    "visit.other_site": {"site": "副楼", "home_site": "主楼"},
    "visit.same_site": {},
}
ALLOWED_LATIN = {"printer", "agent", "zhao", "requester", "auditor", "engineer", "eng", "esc"}


def test_every_code_has_parameters_here() -> None:
    assert set(TEMPLATES) == set(PARAMS) == set(REASONS) | set(ERRORS) | set(VISIT_NOTES)


@pytest.mark.parametrize("code", sorted(PARAMS))
def test_a_code_renders_in_each_language_without_english_in_chinese(code: str) -> None:
    en = render(code, PARAMS[code], "en")
    assert en and "{" not in en
    for lang in ("zh-CN", "zh-TW"):
        text = render(code, PARAMS[code], lang)
        assert text and "{" not in text and (text != en or code == "desk")  # the desk's own words, as written
        words = set(re.findall(r"[A-Za-z]{3,}", text))
        assert words <= ALLOWED_LATIN, (code, lang, text)


def test_times_are_the_sites_wall_clock_and_tags_are_folded() -> None:
    params = PARAMS["held_after_hours"]
    assert "2026-11-27 08:30" in render_reason("held_after_hours", params, "zh-Hans-CN")
    assert "顺延至 2026-11-27 08:30" in render_reason("held_after_hours", params, "zh-CN")
    assert "順延至" in render_reason("held_after_hours", params, "zh-HK")
    assert render_reason("redispatch", PARAMS["redispatch"], "en").startswith("over capacity: every available engineer is full; re-dispatch after delay (车坏了); skill match (any), off duty, called in, load 9/8")
