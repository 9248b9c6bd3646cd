"""The index file's rows numbered in creation order (issue 17): free text in the default order is the FTS match read
in rowid order, a requester's view two index reads, a free-text total may be capped. Every page must be what the
plans that do not rely on the numbering give: checked against the same queries on an unordered file and against the
order and visibility computed here."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from intake.access import can_see
from intake.domain import Actor, Ticket
from intake.search import Query, TicketIndex
from intake.search_store import SLOT_BITS, SLOTS

from .test_intake_search import T0, make

DESK = Actor(subject="agent1", role="agent")
WORDS = ["打印機", "卡紙", "顯示器", "黑屏", "printer", "offline", "密碼"]
DEPTS = ["財務科", "人事科", "辦公室", "财务科"]


def _ticket(rng: random.Random, n: int, created: datetime) -> Ticket:
    title = " ".join(rng.sample(WORDS, rng.randint(1, 3)))
    status = rng.choice(["new", "assigned", "resolved", "closed"])
    engineer = rng.choice(["eng1", "eng2"]) if status != "new" else None
    ticket = make(n, title, dept=rng.choice(DEPTS), requester_id=rng.choice(["req-1", "req-2", None]),
                  engineer=engineer, status=status, channel=rng.choice(["email", "web"]))
    # Many share a creation microsecond: their order is by id, as the text key orders them.
    return ticket.model_copy(update={"id": f"{rng.randrange(16**8):08x}-{n}", "created_at": created})


def _pages(index: TicketIndex, query: Query, actor: Actor) -> list[str]:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page, cursor = index.search(dataclasses.replace(query, cursor=cursor), actor=actor)
        seen.extend(page)
        if cursor is None:
            return seen


@pytest.fixture(scope="module")
def pair() -> tuple[TicketIndex, TicketIndex, dict[str, Ticket]]:
    """The same tickets, written in a random order (updates and removals among them), in an ordered file and in one
    made unordered; 60 of them in one microsecond, so its slots run out and its rows are renumbered."""
    rng = random.Random(5)
    moments = [T0 + timedelta(seconds=rng.randint(0, 40)) for _ in range(140)] + [T0 + timedelta(seconds=7)] * 60
    tickets = [_ticket(rng, n, created) for n, created in enumerate(moments, start=1)]
    rng.shuffle(tickets)
    ordered, unordered = TicketIndex(), TicketIndex()
    unordered.ordered = False  # the plans that do not rely on the numbering
    for ticket in tickets:
        ordered.upsert(ticket)
        unordered.upsert(ticket)
    kept = {t.id: t for t in tickets}
    for ticket in tickets[:20]:
        changed = ticket.model_copy(update={"version": 2, "status": "closed", "title": ticket.title + " 黑屏"})
        ordered.upsert(changed)
        unordered.upsert(changed)
        kept[ticket.id] = changed
    for ticket in tickets[20:30]:
        ordered.remove(ticket.id)
        unordered.remove(ticket.id)
        del kept[ticket.id]
    assert ordered.ordered
    return ordered, unordered, kept


def _newest_first(tickets: dict[str, Ticket], ids: list[str]) -> list[str]:
    return sorted(ids, key=lambda i: (tickets[i].created_at.isoformat(), i), reverse=True)


QUERIES: list[dict[str, Any]] = [
    {"text": "打印機"},
    {"text": "printer 卡紙"},
    {"text": "黑屏", "filters": {"channel": frozenset({"web"})}},
    {"text": "打印機", "created_from": T0 + timedelta(seconds=7), "created_to": T0 + timedelta(seconds=30)},
    {"text": "密碼", "descending": False},
    {"text": "打印機", "reported_from": T0, "ids": frozenset()},
    {},
    {"filters": {"status": frozenset({"closed", "new"})}},
]
ACTORS = [DESK, Actor(subject="req-1", role="requester", department="財務科"), Actor(subject="req-2", role="requester"),
          Actor(subject="e", role="engineer", engineer_id="eng1")]


@pytest.mark.parametrize("limit", [1, 7, 200])
@pytest.mark.parametrize("query", QUERIES)
def test_every_page_in_the_creation_order_is_what_the_other_plans_give(
    pair: tuple[TicketIndex, TicketIndex, dict[str, Ticket]], query: dict[str, Any], limit: int
) -> None:
    ordered, unordered, tickets = pair
    for actor in ACTORS:
        q = Query(limit=limit, **query)
        got = _pages(ordered, q, actor)
        assert got == _pages(unordered, q, actor)
        assert len(got) == len(set(got)) == ordered.count(q, actor=actor) == unordered.count(q, actor=actor)
        assert all(can_see(actor, tickets[i]) for i in got)
        expected = _newest_first(tickets, got)
        assert got == (expected if q.descending else expected[::-1])
    if not query:
        assert len(_pages(ordered, Query(limit=limit), DESK)) == len(tickets)


def test_a_requesters_view_is_every_own_and_department_ticket_in_order(
    pair: tuple[TicketIndex, TicketIndex, dict[str, Ticket]]
) -> None:
    ordered, _, tickets = pair
    for actor in ACTORS[1:3]:
        expected = _newest_first(tickets, [i for i, t in tickets.items() if can_see(actor, t)])
        for sort in ("created_at", "priority"):
            got = _pages(ordered, Query(limit=6, sort=sort), actor)
            assert sorted(got) == sorted(expected) and len(got) == len(set(got))
        assert _pages(ordered, Query(limit=6), actor) == expected
        assert ordered.count(Query(), actor=actor) == len(expected) > 0


def test_rows_of_one_microsecond_keep_their_order_after_renumbering(
    pair: tuple[TicketIndex, TicketIndex, dict[str, Ticket]]
) -> None:
    ordered, _, tickets = pair
    us = (T0 + timedelta(seconds=7) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    rows = ordered._db.execute("SELECT n, id FROM tickets WHERE n >= ? AND n < ? ORDER BY n",
                               (us << SLOT_BITS, (us << SLOT_BITS) + SLOTS)).fetchall()
    assert len(rows) > 50  # more than the slots halving could place: renumbered on the way
    assert [i for _, i in rows] == sorted(i for _, i in rows)
    assert {i for _, i in rows} == {i for i, t in tickets.items() if t.created_at == T0 + timedelta(seconds=7)}
    terms = ordered._db.execute("SELECT count(*) FROM terms WHERE rowid >= ? AND rowid < ?",
                                (us << SLOT_BITS, (us << SLOT_BITS) + SLOTS)).fetchone()[0]
    assert terms == len(rows)


def test_a_capped_free_text_total_says_more_than_the_cap_and_is_exact_below_it(
    pair: tuple[TicketIndex, TicketIndex, dict[str, Ticket]]
) -> None:
    ordered, _, _ = pair
    query = Query(text="打印機", limit=5)
    exact = ordered.count(query, actor=DESK)
    assert exact > 10
    assert ordered.count(query, actor=DESK, cap=10) == 11
    assert ordered.count(query, actor=DESK, cap=exact) == exact
    ordered._changed()  # no count kept: counted capped from the file
    assert ordered.count(query, actor=DESK, cap=3) == 4
    summaries, cursor, total = ordered.page(query, actor=DESK, cap=3)
    assert total == 4 and len(summaries) == 5 and cursor is not None
    assert ordered.page(query, actor=DESK)[2] == exact
    # Without text a total is always exact.
    assert ordered.count(Query(), actor=DESK, cap=3) == ordered.page(Query(), actor=DESK, cap=3)[2] > 4


async def test_the_capped_page_off_the_loop_equals_the_loops_own(
    pair: tuple[TicketIndex, TicketIndex, dict[str, Ticket]]
) -> None:
    ordered, _, _ = pair
    query = Query(text="卡紙", limit=4)
    assert await ordered.page_async(query, actor=DESK, cap=2) == ordered.page(query, actor=DESK, cap=2)
    counts = await ordered.counts_async({"text": query, "all": Query()}, actor=DESK, cap=2)
    assert counts == {"text": 3, "all": ordered.count(Query(), actor=DESK)}


def test_a_time_outside_utc_makes_the_file_unordered_and_every_answer_stays_right(tmp_path: Path) -> None:
    index = TicketIndex(tmp_path / "index.sqlite")
    for n in range(1, 6):
        index.upsert(make(n, "打印機"))
    assert index.ordered
    odd = make(6, "打印機").model_copy(update={"created_at": (T0 + timedelta(minutes=3, seconds=30)).astimezone(timezone(timedelta(hours=8)))})
    index.upsert(odd)
    assert not index.ordered
    # By the text key, as before: the +08:00 key sorts after every UTC key of that day.
    assert index.search(Query(text="打印机"), actor=DESK)[0][0] == "t-006"
    index.close()
    again = TicketIndex(tmp_path / "index.sqlite")
    assert not again.ordered  # kept in the file until the next build
    again.clear()
    assert again.ordered
    again.close()


def test_a_cursor_of_a_removed_ticket_still_pages_on_from_its_place() -> None:
    index = TicketIndex()
    for n in range(1, 11):
        index.upsert(make(n, "打印機"))
    first, cursor = index.search(Query(text="打印機", limit=3), actor=DESK)
    assert first == ["t-010", "t-009", "t-008"]
    index.remove("t-008")
    assert index.search(Query(text="打印機", limit=3, cursor=cursor), actor=DESK)[0] == ["t-007", "t-006", "t-005"]
    up, cursor = index.search(Query(text="打印機", limit=3, descending=False), actor=DESK)
    index.remove(up[-1])
    assert index.search(Query(text="打印機", limit=3, descending=False, cursor=cursor), actor=DESK)[0] == ["t-004", "t-005", "t-006"]


def test_the_free_text_page_reads_the_match_in_rowid_order_without_sorting() -> None:
    index = TicketIndex()
    index.upsert(make(1, "打印機"))
    plan = " ".join(str(row[-1]) for row in index._db.execute(
        "EXPLAIN QUERY PLAN SELECT tk.created_key, tk.id FROM terms CROSS JOIN tickets tk ON tk.n = terms.rowid "
        "WHERE terms MATCH ? AND terms.rowid < ? ORDER BY terms.rowid DESC LIMIT 51", ('"打印機"', 2**60)))
    assert "TEMP B-TREE" not in plan and "VIRTUAL TABLE" in plan
