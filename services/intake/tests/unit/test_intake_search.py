"""The ticket index: Chinese and English free text, filters, visibility by role, and cursor pages in a stable order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from intake.access import can_see
from intake.catalog import SEED_BY_CODE
from intake.domain import Actor, Assignee, NewTicket, Ticket, open_ticket
from intake.search import BadCursor, Query, TicketIndex, terms
from opsdesk_shared.contracts import Requester

T0 = datetime(2026, 3, 16, 1, 0, tzinfo=UTC)
DESK = Actor(subject="agent1", role="agent")


def make(n: int, title: str, *, dept: str = "辦公室", requester_id: str | None = None, engineer: str | None = None,
         status: str = "new", channel: str = "hotline", service: str = "RS-REPAIR", desc: str = "", **extra: Any) -> Ticket:
    cmd = NewTicket(title=title, description=desc, requester=Requester(name="王小明", department=dept), channel=channel,  # type: ignore[arg-type]
                    service_code=service, requester_id=requester_id)
    ticket, _ = open_ticket(cmd, service=SEED_BY_CODE[service], ticket_id=f"t-{n:03d}", number=f"INC-2026-{n:06d}", now=T0 + timedelta(minutes=n))
    update: dict[str, Any] = {"status": status, **extra}
    if engineer:
        update["assignee"] = Assignee(assignment_id=f"a-{n}", engineer_id=engineer, engineer_name=engineer, reason="r", assigned_at=T0)
    return ticket.model_copy(update=update)


@pytest.fixture
def index() -> TicketIndex:
    idx = TicketIndex()
    for t in (
        make(1, "三樓打印機卡紙", desc="HP LaserJet 無法打印"),
        make(2, "VPN cannot connect from home", dept="財務科", channel="email"),
        make(3, "電子郵件無法發送", dept="財務科", requester_id="req-fin"),
        make(4, "打印機碳粉不足", engineer="eng1", status="assigned"),
        make(5, "網絡很慢", requester_id="req-office", status="resolved"),
        make(6, "Printer jam on 3F", channel="web"),
    ):
        idx.upsert(t)
    return idx


def ids(index: TicketIndex, actor: Actor = DESK, **query: Any) -> list[str]:
    found, _ = index.search(Query(**query), actor=actor)
    return found


def test_chinese_free_text_finds_segmented_words(index: TicketIndex) -> None:
    assert set(ids(index, text="打印機")) == {"t-001", "t-004"}
    assert ids(index, text="卡紙") == ["t-001"]


def test_english_free_text_is_case_insensitive(index: TicketIndex) -> None:
    assert ids(index, text="vpn") == ["t-002"]
    assert ids(index, text="PRINTER JAM") == ["t-006"]


def test_every_term_must_match(index: TicketIndex) -> None:
    assert ids(index, text="打印機 碳粉") == ["t-004"]
    assert ids(index, text="打印機 VPN") == []


def test_ticket_number_is_searchable(index: TicketIndex) -> None:
    assert ids(index, text="INC-2026-000003") == ["t-003"]
    assert index.id_of_number("INC-2026-000003") == "t-003"


def test_filters_combine_with_and_values_with_or(index: TicketIndex) -> None:
    assert set(ids(index, filters={"department": frozenset({"財務科"})})) == {"t-002", "t-003"}
    assert ids(index, filters={"department": frozenset({"財務科"}), "channel": frozenset({"email"})}) == ["t-002"]
    assert set(ids(index, filters={"channel": frozenset({"email", "web"})})) == {"t-002", "t-006"}


def test_created_range_is_half_open(index: TicketIndex) -> None:
    found = ids(index, created_from=T0 + timedelta(minutes=2), created_to=T0 + timedelta(minutes=4))
    assert set(found) == {"t-002", "t-003"}


def test_default_order_is_newest_first(index: TicketIndex) -> None:
    assert ids(index) == ["t-006", "t-005", "t-004", "t-003", "t-002", "t-001"]


def test_cursor_pages_cover_everything_once_in_order() -> None:
    idx = TicketIndex()
    # Equal priorities everywhere: the order must still be total and stable (ties broken by id).
    for n in range(1, 38):
        idx.upsert(make(n, f"ticket {n}"))
    seen: list[str] = []
    cursor = None
    while True:
        page, cursor = idx.search(Query(sort="priority", descending=False, limit=5, cursor=cursor), actor=DESK)
        seen.extend(page)
        if cursor is None:
            break
    assert len(seen) == 37 and len(set(seen)) == 37
    assert seen == sorted(seen)


def test_a_page_is_stable_when_a_ticket_is_added_between_requests() -> None:
    idx = TicketIndex()
    for n in range(1, 11):
        idx.upsert(make(n, f"ticket {n}"))
    first, cursor = idx.search(Query(limit=4), actor=DESK)
    idx.upsert(make(50, "newer ticket"))  # newest: before the cursor, so it must not shift the next page
    second, _ = idx.search(Query(limit=4, cursor=cursor), actor=DESK)
    assert first == ["t-010", "t-009", "t-008", "t-007"]
    assert second == ["t-006", "t-005", "t-004", "t-003"]


def test_cursor_of_another_sort_is_refused() -> None:
    idx = TicketIndex()
    for n in range(1, 5):
        idx.upsert(make(n, "x"))
    _, cursor = idx.search(Query(limit=2), actor=DESK)
    assert cursor is not None
    with pytest.raises(BadCursor):
        idx.search(Query(limit=2, cursor=cursor, sort="number"), actor=DESK)
    with pytest.raises(BadCursor):
        idx.search(Query(limit=2, cursor="not-a-cursor"), actor=DESK)


def test_requester_sees_own_and_department_tickets_only(index: TicketIndex) -> None:
    office = Actor(subject="req-office", role="requester", department="辦公室")
    finance = Actor(subject="req-fin", role="requester", department="財務科")
    assert set(ids(index, office)) == {"t-001", "t-004", "t-005", "t-006"}
    assert set(ids(index, finance)) == {"t-002", "t-003"}
    assert ids(index, finance, text="打印機") == []


def test_engineer_sees_only_assigned_tickets(index: TicketIndex) -> None:
    assert ids(index, Actor(subject="zhang.san", role="engineer", engineer_id="eng1")) == ["t-004"]
    assert ids(index, Actor(subject="li.si", role="engineer", engineer_id="eng2")) == []


def test_an_engineer_holds_through_the_roster_link_not_the_user_name(index: TicketIndex) -> None:
    assert ids(index, Actor(subject="eng1", role="engineer")) == []


def test_auditor_sees_everything(index: TicketIndex) -> None:
    assert len(ids(index, Actor(subject="aud", role="auditor"))) == 6


def test_upsert_replaces_old_terms_and_postings(index: TicketIndex) -> None:
    index.upsert(make(1, "顯示器黑屏", status="in_progress"))
    assert ids(index, text="卡紙") == []
    assert ids(index, text="黑屏") == ["t-001"]
    assert "t-001" not in ids(index, filters={"status": frozenset({"new"})})


def test_open_counts_and_desk_share(index: TicketIndex) -> None:
    index.upsert(make(7, "密碼重設", status="resolved", resolved_at_desk=True))
    index.upsert(make(8, "帳號鎖定", status="closed", resolved_at_desk=True))
    assert index.counts("status")["new"] == 4
    assert index.resolution_counts() == (3, 2)


def test_terms_pair_chinese_characters_and_keep_english_words() -> None:
    found = terms("HP打印機卡紙 paper-jam")
    assert found == {"hp", "paper-jam", "打印", "印机", "机卡", "卡纸"}
    assert terms("機", unigrams=False) == {"机"}


def test_one_character_query_finds_titles(index: TicketIndex) -> None:
    assert set(ids(index, text="網")) == {"t-005"}


def test_simplified_query_finds_traditional_text_and_back() -> None:
    idx = TicketIndex()
    idx.upsert(make(1, "打印機卡紙"))
    idx.upsert(make(2, "网络很慢"))
    assert ids(idx, text="打印机") == ["t-001"]
    assert ids(idx, text="網絡") == ["t-002"]


def test_department_filter_finds_the_other_script(index: TicketIndex) -> None:
    # Issue 13 item 10: `department=财务科` finds tickets written 財務科, and the other way round.
    assert set(ids(index, filters={"department": frozenset({"财务科"})})) == {"t-002", "t-003"}
    index.upsert(make(9, "显示器不亮", dept="财务科"))
    assert set(ids(index, filters={"department": frozenset({"財務科"})})) == {"t-002", "t-003", "t-009"}


def test_requester_of_a_simplified_department_sees_its_traditional_tickets(index: TicketIndex) -> None:
    finance = Actor(subject="someone-else", role="requester", department="财务科")
    assert set(ids(index, finance)) == {"t-002", "t-003"}


def test_taiwan_words_find_mainland_words() -> None:
    idx = TicketIndex()
    idx.upsert(make(1, "印表機卡紙"))
    idx.upsert(make(2, "鼠标没反应"))
    assert ids(idx, text="打印机") == ["t-001"]
    assert ids(idx, text="滑鼠") == ["t-002"]


def test_a_ticket_is_visible_to_its_department_in_either_script() -> None:
    ticket = make(1, "电脑蓝屏", dept="財務科")
    assert can_see(Actor(subject="colleague", role="requester", department="财务科"), ticket)
    assert not can_see(Actor(subject="stranger", role="requester", department="人事科"), ticket)


def test_a_late_read_of_an_older_version_never_overwrites_a_newer_entry() -> None:
    """Issue 14, defect 2: the ticket.> handler's read of version 1 came back after the replica's own write of
    version 2 was indexed, and the search showed `new` for an assigned ticket until the next full reload."""
    idx = TicketIndex()
    v1 = make(7, "打印機卡紙")
    v2 = make(7, "打印機卡紙", engineer="eng1", status="assigned", version=2)
    assert idx.upsert(v2)
    assert not idx.upsert(v1)  # the stale read arrives late
    assert ids(idx, filters={"status": frozenset({"assigned"})}) == ["t-007"]
    assert ids(idx, filters={"status": frozenset({"new"})}) == []
    assert idx.summaries(["t-007"])[0]["version"] == 2
    assert idx.upsert(v2)  # the same version again (a re-read) is written, changing nothing
    v3 = make(7, "打印機卡紙", status="resolved", version=3)
    assert idx.upsert(v3) and ids(idx, filters={"status": frozenset({"resolved"})}) == ["t-007"]
