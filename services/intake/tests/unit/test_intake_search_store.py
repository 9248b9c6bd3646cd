"""The search index's file (issue 17): what a restart finds in it, what makes it be built again, and the reads a
worker thread makes beside the event loop's writes."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from intake.domain import Actor
from intake.search import Query, TicketIndex
from intake.search_store import SCHEMA_VERSION

from .test_intake_search import T0, make

DESK = Actor(subject="agent1", role="agent")


def test_a_reopened_file_keeps_its_tickets_and_its_stream_position(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    index = TicketIndex(path)
    assert index.needs_build
    index.upsert(make(1, "三樓打印機卡紙"))
    index.upsert(make(2, "VPN cannot connect", status="assigned", engineer="eng1"))
    index.mark_complete()
    index.set_stream_position("2026-11-30T10:00:00+00:00", 41)
    index.close()

    again = TicketIndex(path)
    assert not again.needs_build and again.complete
    assert again.stream_position() == ("2026-11-30T10:00:00+00:00", 41)
    assert again.search(Query(text="打印机"), actor=DESK)[0] == ["t-001"]
    assert again.search(Query(filters={"assignee": frozenset({"eng1"})}), actor=DESK)[0] == ["t-002"]
    summary = again.summaries(["t-002"])[0]
    assert isinstance(summary["created_at"], datetime) and summary["created_at"] == T0.replace(minute=2)
    again.close()


def test_a_file_of_another_schema_version_is_emptied_to_be_built_again(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    index = TicketIndex(path)
    index.upsert(make(1, "顯示器黑屏"))
    index.mark_complete()
    index.close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (SCHEMA_VERSION + "-old",))

    again = TicketIndex(path)
    assert again.needs_build and not again.complete and len(again) == 0
    again.close()


def test_an_unfinished_build_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    index = TicketIndex(path)
    index.mark_complete(False)
    index.upsert(make(1, "網絡很慢"))
    index.close()
    assert TicketIndex(path).needs_build


def test_counts_and_pages_agree_and_an_unknown_filter_matches_nothing() -> None:
    index = TicketIndex()
    for n in range(1, 31):
        index.upsert(make(n, f"打印機 {n}", status="new" if n % 3 else "resolved"))
    query = Query(filters={"status": frozenset({"new"})}, limit=7)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page, cursor = index.search(Query(filters=query.filters, limit=7, cursor=cursor), actor=DESK)
        seen.extend(page)
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == index.count(query, actor=DESK) == 20
    assert index.count(Query(filters={"nonsense": frozenset({"x"})}), actor=DESK) == 0
    assert index.count(Query(text="。"), actor=DESK) == 0  # no term at all: nothing, not everything


def test_the_status_tally_follows_every_write_and_a_count_is_never_stale() -> None:
    index = TicketIndex()
    for n in range(1, 9):
        index.upsert(make(n, "密碼重設", status="new"))
    open_query = Query(filters={"status": frozenset({"new"})})
    assert index.count(open_query, actor=DESK) == 8 and index.counts("status") == {"new": 8}
    index.upsert(make(1, "密碼重設", status="resolved", resolved_at_desk=True, version=2))
    index.upsert(make(2, "密碼重設", status="closed", version=2))
    index.remove("t-003")
    assert not index.upsert(make(2, "密碼重設", status="new"))  # stale: no write, no change in the tally
    assert index.count(open_query, actor=DESK) == 5  # the count asked before the writes is not served again
    assert index.counts("status") == {"new": 5, "resolved": 1, "closed": 1}
    assert index.resolution_counts() == (2, 1)
    index.forget_tally()  # read again from the file: the same
    assert index.counts("status") == {"new": 5, "resolved": 1, "closed": 1} and len(index) == 7


def test_free_text_with_filters_and_visibility_matches_as_the_filters_alone_do() -> None:
    index = TicketIndex()
    index.upsert(make(1, "打印機卡紙", dept="財務科", channel="email", requester_id="req-1"))
    index.upsert(make(2, "打印機卡紙", dept="人事科", channel="web", engineer="eng1", status="assigned"))
    index.upsert(make(3, "打印機卡紙", dept="财务科", channel="web"))
    index.upsert(make(4, "顯示器黑屏", dept="財務科", channel="email"))

    def found(actor: Actor = DESK, **query: object) -> set[str]:
        return set(index.search(Query(**query), actor=actor)[0])  # type: ignore[arg-type]

    assert found(text="打印机", filters={"department": frozenset({"财务科"})}) == {"t-001", "t-003"}
    assert found(text="打印机", filters={"channel": frozenset({"email", "web"}), "status": frozenset({"new"})}) == {"t-001", "t-003"}
    assert found(Actor(subject="e", role="engineer", engineer_id="eng1"), text="卡紙") == {"t-002"}
    assert found(Actor(subject="req-1", role="requester", department="人事科"), text="打印") == {"t-001", "t-002"}
    assert index.count(Query(text="打印機", filters={"channel": frozenset({"web"})}), actor=DESK) == 2


def test_ids_narrow_filters_text_and_visibility_and_count_apart() -> None:
    index = TicketIndex()
    index.upsert(make(1, "打印機卡紙", channel="email"))
    index.upsert(make(2, "打印機卡紙", channel="web", engineer="eng1", status="assigned"))
    index.upsert(make(3, "顯示器黑屏", channel="web"))

    def found(actor: Actor = DESK, **query: object) -> set[str]:
        return set(index.search(Query(**query), actor=actor)[0])  # type: ignore[arg-type]

    some = frozenset({"t-001", "t-002", "t-404"})
    assert found(ids=some) == {"t-001", "t-002"}
    assert found(ids=some, filters={"channel": frozenset({"web"})}) == {"t-002"}
    assert found(ids=frozenset({"t-002", "t-003"}), text="打印机") == {"t-002"}
    assert found(Actor(subject="e", role="engineer", engineer_id="eng1"), ids=some) == {"t-002"}
    # a count is kept per query until the next write: another set of ids is another count
    assert index.count(Query(ids=frozenset({"t-001"})), actor=DESK) == 1
    assert index.count(Query(ids=frozenset({"t-001", "t-003"})), actor=DESK) == 2


async def test_a_page_and_the_queue_counts_off_the_loop_equal_the_loops_own_reads() -> None:
    """GET /tickets and /tickets/counts read in a worker thread (a common word at a million tickets takes up to a
    second): the page, its cursor and its total are what the synchronous reads give, and a write on the loop is
    seen by the next read in the thread."""
    index = TicketIndex()
    for n in range(1, 13):
        index.upsert(make(n, f"打印機卡紙 {n}", status="new" if n % 2 else "resolved"))
    query = Query(filters={"status": frozenset({"new"})}, text="打印机", limit=4)
    ids, cursor = index.search(query, actor=DESK)
    summaries, cursor_async, total = await index.page_async(query, actor=DESK)
    assert [s["id"] for s in summaries] == ids and len(ids) == 4
    assert cursor_async == cursor and total == index.count(query, actor=DESK) == 6
    counts = await index.counts_async({"new": Query(filters={"status": frozenset({"new"})}), "all": Query()}, actor=DESK)
    assert counts == {"new": 6, "all": 12}
    # The worker thread's connection reads what the loop wrote since.
    index.upsert(make(13, "打印機卡紙 13", status="new"))
    summaries, _, total = await index.page_async(query, actor=DESK)
    assert summaries[0]["id"] == "t-013" and total == 7
    assert await index.counts_async({"all": Query()}, actor=DESK) == {"all": 13}


def test_emergency_work_waiting_for_the_agency_is_found_by_its_filters_after_a_restart(tmp_path: Path) -> None:
    """Issue 16 (schema 4): the authorization's state and the emergency mark are filter columns of the file."""
    from intake.domain import Authorization

    def authorized(n: int, state: str, emergency: bool) -> object:
        auth = Authorization(state=state, emergency=emergency, requested_at=T0)  # type: ignore[arg-type]
        return make(n, f"机房 {n}").model_copy(update={"authorization": auth})

    path = tmp_path / "index.sqlite"
    index = TicketIndex(path)
    for n, state, emergency in ((1, "awaiting", True), (2, "approved", True), (3, "awaiting", False)):
        index.upsert(authorized(n, state, emergency))  # type: ignore[arg-type]
    index.upsert(make(4, "打印机"))
    index.mark_complete()
    index.close()

    again = TicketIndex(path)
    waiting = Query(filters={"authorization": frozenset({"awaiting"}), "emergency": frozenset({"true"})})
    assert again.search(waiting, actor=DESK)[0] == ["t-001"] and again.count(waiting, actor=DESK) == 1
    assert sorted(again.search(Query(filters={"authorization": frozenset({"awaiting"})}), actor=DESK)[0]) == ["t-001", "t-003"]
    summary = again.summaries(["t-001"])[0]
    assert (summary["authorization_state"], summary["emergency"]) == ("awaiting", True)
    assert again.summaries(["t-004"])[0]["authorization_state"] is None
    again.close()
