"""Suggestions on real desk tickets: precision@3 stays at or above 0.8, and one shared common word is not a match."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from knowledge import service
from knowledge.evaluation import Case, evaluate, index_of, load_cases
from knowledge.search import SearchIndex
from knowledge.seed import DEMO_ARTICLES
from knowledge.text import Analyzer
from opsdesk_shared.contracts import Requester, TicketCreatedV1


@pytest.fixture(scope="module")
def seeded(analyzer: Analyzer) -> SearchIndex:
    return index_of(DEMO_ARTICLES, analyzer)


def _ticket(title: str, description: str, service_code: str = "RS-REPAIR") -> TicketCreatedV1:
    return TicketCreatedV1(
        ticket_id="t-1", number="INC-2026-000001", title=title, channel="hotline", service_code=service_code,
        requester=Requester(name="王小明"), reported_at=datetime(2026, 11, 30, 2, tzinfo=UTC), description=description,
    )


def test_the_desk_set_is_large_and_every_ticket_has_a_seeded_right_answer() -> None:
    cases = load_cases()
    assert len(cases) >= 50
    assert all(case.relevant and case.relevant <= set(DEMO_ARTICLES) for case in cases)
    assert any(case.title.isascii() for case in cases) and any(not case.title.isascii() for case in cases)


def test_precision_at_3_on_the_desk_set_is_at_least_0_8(seeded: SearchIndex) -> None:
    report = evaluate(load_cases(), lambda t, at: service.suggestions_for(seeded, t, asset_type=at))
    assert report.precision_at_3 >= 0.8, report.precision_at_3
    assert report.hit_at_1 >= 0.9


def test_precision_at_3_holds_without_the_asset_type(seeded: SearchIndex) -> None:
    report = evaluate(load_cases(), lambda t, _at: service.suggestions_for(seeded, t))
    assert report.precision_at_3 >= 0.8, report.precision_at_3


def test_a_printer_error_ticket_gets_no_vpn_article(seeded: SearchIndex) -> None:
    # Issue 13 item 11: the VPN article came second, matched on 错误 alone.
    ticket = _ticket("印表機顯示錯誤13.A", "財務科的印表機面板顯示錯誤13.A，無法列印")
    got = [a.article_id for a in service.suggestions_for(seeded, ticket, asset_type="printer")]
    assert got[0] == "kb-demo-printer-error"
    assert "kb-demo-vpn" not in got and all(a.startswith("kb-demo-printer") for a in got)


def test_a_ticket_sharing_only_a_common_word_gets_nothing(seeded: SearchIndex) -> None:
    # 错误 is in an article's title, yet with nothing else in common (no shared service either) it is no answer.
    assert service.suggestions_for(seeded, _ticket("出现错误", "", service_code="RS-VENDOR")) == []


def test_the_asset_type_decides_between_equally_worded_articles(seeded: SearchIndex) -> None:
    # "没有信号" is the projector's words and the monitor's ("无信号"); the asset named on the ticket settles it.
    ticket = _ticket("会议室屏幕没有信号", "接上电脑没有画面", service_code="RS-ONSITE")
    assert service.suggestions_for(seeded, ticket, asset_type="projector")[0].article_id == "kb-demo-projector"
    assert service.suggestions_for(seeded, ticket, asset_type="monitor")[0].article_id == "kb-demo-monitor"


def test_precision_counts_a_ticket_without_suggestions_as_zero() -> None:
    case = Case(title="x", description="", service_code="RS-ONSITE", asset_type=None, relevant=frozenset({"a"}))
    report = evaluate([case, case], lambda _t, _at: [])
    assert report.precision_at_3 == 0.0
