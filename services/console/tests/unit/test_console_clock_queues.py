"""At risk and breached from the SLA monitor's list of running clocks: exact counts past the old detail window, no
'+', rows in order of urgency, a search keeping only the tickets the list returns for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl

import httpx

from console import queues
from console.api import Gateway
from console.pages import desk

NOW = datetime.now(UTC)
MIN = timedelta(minutes=1)


def _clock(ticket: str, *, due_in: float, warn_in: float | None = None, state: str = "running", name: str = "response") -> dict[str, Any]:
    return {"ticket_id": ticket, "repair_id": None, "name": name, "state": state, "due_at": (NOW + due_in * MIN).isoformat(),
            "warning_at": (NOW + (warn_in if warn_in is not None else due_in - 12) * MIN).isoformat()}


def test_listed_clocks_decide_the_queues_as_a_detail_would() -> None:
    timers = [
        _clock("t-soon", due_in=10), _clock("t-soon", due_in=10),  # in both lists: counted once
        _clock("t-warned", due_in=300, warn_in=-1),
        _clock("t-late", due_in=-5, state="breached"), _clock("t-late", due_in=3, name="dispatch"),
        {**_clock("", due_in=2), "repair_id": "r-1", "name": "repair_return"},  # a repair's clock is no ticket's
    ]
    by_ticket = queues.clocks_by_ticket(timers)

    assert set(by_ticket) == {"t-soon", "t-warned", "t-late"} and len(by_ticket["t-soon"]) == 1
    assert queues.derived_members("at_risk", by_ticket, NOW) == ["t-soon", "t-warned"]  # due first
    assert queues.derived_members("breached", by_ticket, NOW) == ["t-late"]
    summary = queues.summary_of({"id": "x", "requester": {"name": "王芳", "department": "办公室"}, "assignee": {"engineer_name": "李工"}})
    assert (summary["requester_name"], summary["department"], summary["assignee_name"]) == ("王芳", "办公室", "李工")


class FakeGateway:
    """The gateway's answers for the desk's page: 100 tickets at risk (more than the 60-ticket window), 3 breached."""

    def __init__(self) -> None:
        self.timers = [_clock(f"t-{i:03d}", due_in=5 + i / 10) for i in range(100)]
        self.timers += [_clock(f"b-{i}", due_in=-10 - i, state="breached") for i in range(3)]
        self.timers.sort(key=lambda t: t["due_at"])
        self.paths: list[str] = []
        self.id_calls: list[list[str]] = []
        self.clock_calls: list[list[str]] = []
        self.matching = ["t-007", "b-1", "t-not-at-risk"]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path, params = request.url.path.removeprefix("/api/v1"), parse_qsl(request.url.query.decode())
        self.paths.append(path)
        if path == "/timers":
            q = dict(params)
            if asked := {v for k, v in params if k == "ticket"}:
                self.clock_calls.append(sorted(asked))
                return httpx.Response(200, json={"items": [t for t in self.timers if t["ticket_id"] in asked], "next_cursor": None})
            found = [t for t in self.timers if (q.get("warned") == "true" and t["warning_at"] <= NOW.isoformat())
                     or ("due_before" in q and t["due_at"] < q["due_before"])]
            start, limit = int(q.get("cursor", 0)), int(q["limit"])
            return httpx.Response(200, json={"items": found[start : start + limit],
                                             "next_cursor": str(start + limit) if start + limit < len(found) else None})
        if path == "/tickets/counts":
            return httpx.Response(200, json={"open": 103})
        if path == "/tickets" and ("status", "new") in params and not any(k == "id" for k, _ in params):
            self.id_calls.append([])  # the open queue's page: the clocked tickets and 50 without clocks
            rows = [self._summary(t["ticket_id"]) for t in self.timers] + [self._summary(f"q-{i}") for i in range(50)]
            return httpx.Response(200, json={"items": rows, "next_cursor": None, "total": len(rows)})
        if path == "/tickets":  # a search: the open tickets it finds, of those asked by id when ids are given
            self.id_calls.append([v for k, v in params if k == "id"])
            asked = set(self.id_calls[-1]) or None
            filtered = any(k in ("q", "channel", "priority") for k, _ in params)
            pool = self.matching if filtered or asked is None else sorted(asked)
            found = [self._summary(i) for i in pool if asked is None or i in asked]
            return httpx.Response(200, json={"items": found, "next_cursor": None, "total": len(found)})
        if path.startswith("/tickets/"):
            ticket = path.rsplit("/", 1)[1]
            sla = [t for t in self.timers if t["ticket_id"] == ticket]
            return httpx.Response(200, json={**self._summary(ticket), "requester": {"name": "张伟"}, "assignee": None, "sla": sla})
        return httpx.Response(404, json={"code": "not_found", "message": "no"})

    @staticmethod
    def _summary(ticket: str) -> dict[str, Any]:
        return {"id": ticket, "number": ticket.upper(), "version": 1, "status": "new", "title": "打印机卡纸", "priority": "P3",
                "requester_name": "张伟", "reported_at": NOW.isoformat()}


async def _workspace(fake: FakeGateway, key: str, filters: desk.Filters) -> desk.Workspace:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake), base_url="http://gw") as client:
        console = SimpleNamespace(gateway=Gateway(client), settings=SimpleNamespace(detail_window=60), cache={})
        ctx: Any = SimpleNamespace(console=console, api=console.gateway, token="tok", lang="zh-CN", session=None, now=lambda: NOW)
        return await desk.workspace(ctx, key, filters)


async def test_counts_are_exact_past_the_window_and_rows_come_due_first() -> None:
    fake = FakeGateway()

    ws = await _workspace(fake, "at_risk", desk.Filters())

    assert ws.counts["at_risk"] == 100 and ws.counts["breached"] == 3 and ws.capped == set()
    assert len(ws.rows) == 60  # the rows read in detail stay within the window; the count does not
    assert [r.summary["id"] for r in ws.rows[:2]] == ["t-000", "t-001"] and ws.rows[0].summary["requester_name"] == "张伟"
    assert ws.rows[0].clock is not None
    # no open-ticket window is read to decide the queues, and no detail per row: the shown rows' summaries by id
    assert len(fake.id_calls) == 1 and len(fake.id_calls[0]) == 60 and not [p for p in fake.paths if p.startswith("/tickets/t-")]


async def test_a_search_keeps_the_tickets_the_list_finds() -> None:
    ws = await _workspace(FakeGateway(), "breached", desk.Filters(q="打印机"))

    assert ws.counts["at_risk"] == 1 and ws.counts["breached"] == 1 and ws.capped == set()
    assert [r.summary["id"] for r in ws.rows] == ["b-1"]


async def test_a_filter_asks_only_for_the_clocked_tickets_by_id_and_shows_a_cap() -> None:
    fake = FakeGateway()
    ws = await _workspace(fake, "at_risk", desk.Filters(channel=["hotline"]))

    assert len(fake.id_calls) == 1 and set(fake.id_calls[0]) == {t["ticket_id"] for t in fake.timers}
    assert ws.counts["at_risk"] == 1 and ws.capped == set()

    many = FakeGateway()
    many.timers = sorted((_clock(f"m-{i:04d}", due_in=1 + i / 1000) for i in range(1_100)), key=lambda t: t["due_at"])
    many.matching = ["m-0000", "m-1099"]
    ws = await _workspace(many, "at_risk", desk.Filters(channel=["hotline"]))

    assert [len(c) for c in many.id_calls] == [desk.PAGE] * desk.MAX_PAGES  # the most urgent 1,000, 200 a call
    assert ws.counts["at_risk"] == 1 and ws.capped == {"at_risk", "breached"}  # m-1099 was not asked: a cap shows


async def test_clock_pages_are_followed_and_a_cap_shows() -> None:
    fake = FakeGateway()
    soon = [("due_before", (NOW + 15 * MIN).isoformat())]
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake), base_url="http://gw") as client:
        items, more = await Gateway(client).timers("tok", lang="zh-CN", params=soon, limit=30, pages=10)
        capped_items, capped = await Gateway(client).timers("tok", lang="zh-CN", params=soon, limit=30, pages=2)

    assert len(items) == 103 and not more
    assert len(capped_items) == 60 and capped


async def test_the_open_queues_rows_get_their_clocks_in_one_call_then_from_the_cache() -> None:
    fake = FakeGateway()
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake), base_url="http://gw") as client:
        console = SimpleNamespace(gateway=Gateway(client), settings=SimpleNamespace(detail_window=60), cache={})
        ctx: Any = SimpleNamespace(console=console, api=console.gateway, token="tok", lang="zh-CN", session=None, now=lambda: NOW)
        first = await desk.workspace(ctx, "open", desk.Filters())
        again = await desk.workspace(ctx, "open", desk.Filters())

    assert len(first.rows) == 153 and [len(c) for c in fake.clock_calls] == [60]  # the window's rows, one call
    assert first.rows[0].clock is not None and first.rows[0].clock["ticket_id"] == first.rows[0].summary["id"]
    assert first.rows[60].clock is None  # past the window: no clock read
    assert [r.clock for r in again.rows] == [r.clock for r in first.rows]  # the second view read no clock again
    assert not [p for p in fake.paths if p.startswith("/tickets/") and p != "/tickets/counts"]  # no detail per row
