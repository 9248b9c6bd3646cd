"""The whole system as processes: a ticket in over HTTP, the expected events out, faults injected by killing processes.

Every service behind the gateway refuses a request without an internal token, so a test that calls one directly signs
its requests with the stack's key (`stack.internal_auth`) as the caller it acts for, reads JetStream as the read-only
observer and scrapes /metrics with the scrape token."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import nats
import pytest

from opsdesk_devstack.stack import Stack
from opsdesk_devstack.testing import collect
from opsdesk_shared.internal_auth import Caller

pytestmark = pytest.mark.e2e

TICKET = {"title": "打印機卡紙", "requester": {"name": "王小明", "department": "辦公室"}, "channel": "hotline", "service_code": "RS-REPAIR"}


# Who a test acts as when it calls a service directly: the desk, unless a step belongs to someone else.
DESK = Caller(subject="desk.e2e", role="agent", name="desk.e2e", department="服務台")


def auth(stack: Stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.token}"}


def direct(stack: Stack, service: str, caller: Caller = DESK) -> httpx.Client:
    """A client for one service behind the gateway, each request signed as the gateway would sign it for `caller`."""
    return httpx.Client(base_url=stack.service(service).url, auth=stack.internal_auth(service, caller=caller), timeout=15)


def metrics(stack: Stack, service: str) -> str:
    r = httpx.get(f"{stack.service(service).url}/metrics", headers={"Authorization": f"Bearer {stack.metrics_token}"}, timeout=5)
    assert r.status_code == 200, r.text
    return r.text


def counter(stack: Stack, service: str, series: str) -> float:
    """The value of one series on a service's /metrics (0 before it first counts): tests on a shared stack count
    from what was there before them."""
    for line in metrics(stack, service).splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def post_ticket(stack: Stack, **overrides: Any) -> dict[str, Any]:
    r = httpx.post(f"{stack.gateway}/api/v1/tickets", json={**TICKET, **overrides}, headers=auth(stack), timeout=15)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def wait_assigned(stack: Stack, ticket_ids: list[str], timeout: float) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    done: dict[str, dict[str, Any]] = {}
    with httpx.Client(headers=auth(stack), timeout=5) as client:
        while time.monotonic() < deadline and len(done) < len(ticket_ids):
            for tid in ticket_ids:
                if tid not in done:
                    t = client.get(f"{stack.gateway}/api/v1/tickets/{tid}").json()
                    if t["status"] == "assigned":
                        done[tid] = t
            time.sleep(0.1)
    return done


class StreamReader:
    """Reads what reached JetStream, through a plain connection of the test's own."""

    def __init__(self, url: str) -> None:
        self.url = url

    def events(self, subject: str, want: int, timeout: float = 5.0,
               where: Callable[[dict[str, Any]], bool] | None = None) -> list[dict[str, Any]]:
        """What reached JetStream on `subject`; with `where`, only the events it accepts (a test's own, on a shared
        stack), `want` of them."""
        async def read() -> list[dict[str, Any]]:
            nc = await nats.connect(self.url)

            class Shim:  # collect() takes a broker; give it the JetStream context it reads from
                class config:
                    class connection_state:
                        stream = nc.jetstream()

            try:
                return await collect(Shim, subject, want=want, timeout=timeout, where=where)
            finally:
                await nc.close()

        return asyncio.run(read())


def test_posted_ticket_is_assigned_within_5_seconds(stack: Stack) -> None:
    started = time.monotonic()
    ticket = post_ticket(stack)
    assert ticket["status"] == "new" and ticket["number"].startswith("INC-")
    assigned = wait_assigned(stack, [ticket["id"]], timeout=5)
    assert ticket["id"] in assigned, "not assigned within 5 s"
    assert time.monotonic() - started < 5
    assignee = assigned[ticket["id"]]["assignee"]
    assert assignee["engineer_id"].startswith("eng-") and "score" in assignee["reason"]
    with direct(stack, "dispatch") as dispatch:
        assert dispatch.get(f"/api/v1/assignments/{ticket['id']}").json()["id"] == assignee["assignment_id"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        sla = httpx.get(f"{stack.gateway}/api/v1/tickets/{ticket['id']}", headers=auth(stack)).json()["sla"]
        if sla and sum(t["state"] == "met" for t in sla) == 2:
            break
        time.sleep(0.1)
    # Assigned: response and dispatch met; the desk now has 30 minutes to confirm execution.
    assert sorted((t["name"], t["state"], t["calendar"]) for t in sla) == [
        ("confirmation", "running", "24x7"), ("dispatch", "met", "office-hours"), ("response", "met", "office-hours")
    ]


def test_no_ticket_lost_or_assigned_twice_when_dispatch_is_killed_and_restarted(stack: Stack) -> None:
    before = [post_ticket(stack, title=f"before {i}")["id"] for i in range(5)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        during = pool.map(lambda i: post_ticket(stack, title=f"during {i}")["id"], range(30))
        time.sleep(0.05)
        stack.service("dispatch").kill()  # SIGKILL: no graceful shutdown, in-flight messages unacked
        during_ids = list(during)
    after = [post_ticket(stack, title=f"after {i}")["id"] for i in range(5)]
    stack.service("dispatch").start()
    stack.service("dispatch").wait_ready()

    ids = before + during_ids + after
    assigned = wait_assigned(stack, ids, timeout=30)
    assert sorted(assigned) == sorted(ids), f"{len(ids) - len(assigned)} tickets never assigned"

    # Read one more than each ticket's own assignment for 3 s: a second assignment of any of them would show.
    events = StreamReader(stack.observer_url()).events("ticket.assigned", want=len(ids) + 5, timeout=3,
                                                       where=lambda e: e["body"]["data"]["ticket_id"] in ids)
    per_ticket = Counter(e["body"]["data"]["ticket_id"] for e in events)
    assert set(per_ticket) == set(ids)
    assert max(per_ticket.values()) == 1, f"assigned twice: {[t for t, n in per_ticket.items() if n > 1]}"
    with direct(stack, "dispatch") as dispatch:
        for tid, ticket in assigned.items():
            assert dispatch.get(f"/api/v1/assignments/{tid}").json()["id"] == ticket["assignee"]["assignment_id"]


def test_ticket_accepted_while_nats_is_down_is_assigned_once_nats_returns(stack: Stack) -> None:
    assert stack.nats is not None
    stack.nats.process.stop()
    ticket = post_ticket(stack, title="accepted during an outage")  # stored with its event; publish fails
    assert ticket["status"] == "new"
    stack.restart_nats()  # same port, store and users
    assigned = wait_assigned(stack, [ticket["id"]], timeout=30)
    assert ticket["id"] in assigned


@pytest.mark.stack_env(SLA_POLICIES='{"response": {"calendar": "24x7", "business_minutes": 0.0167}}')
def test_missed_response_is_breached_and_counted_by_reporting(stack: Stack) -> None:
    stack.service("dispatch").stop()  # nobody assigns, so the response clock runs out
    ticket = post_ticket(stack)
    breaches = StreamReader(stack.observer_url()).events("sla.breached", want=1, timeout=10)
    assert [b["body"]["data"]["ticket_id"] for b in breaches] == [ticket["id"]]
    assert breaches[0]["body"]["correlation_id"]
    assert breaches[0]["body"]["data"]["calendar"] == "24x7"
    warnings = StreamReader(stack.observer_url()).events("sla.warning", want=2, timeout=1)
    assert [w["body"]["data"]["timer"] for w in warnings] == ["response"]

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        scraped = metrics(stack, "reporting")
        if 'reporting_sla_breaches_total{timer="response"} 1.0' in scraped:
            break
        time.sleep(0.1)
    assert 'reporting_sla_breaches_total{timer="response"} 1.0' in scraped
    assert 'reporting_tickets_created_total{channel="hotline",service_code="RS-REPAIR"} 1.0' in scraped


def test_asset_lookup_and_repair_update_flow_through_the_bus(stack: Stack) -> None:
    asset = httpx.get(f"{stack.gateway}/api/v1/assets/GZ-2026-000001", headers=auth(stack)).json()
    assert asset["type"] == "printer"
    assert httpx.get(f"{stack.gateway}/api/v1/assets/NOPE-1", headers=auth(stack)).status_code == 404

    with direct(stack, "assets") as assets:
        repair = assets.post("/api/v1/repairs", json={"asset_tag": "GZ-2026-000001"}).json()
        assets.patch(f"/api/v1/repairs/{repair['id']}", json={"status": "sent_to_vendor"}).raise_for_status()
        updates = StreamReader(stack.observer_url()).events("repair.updated", want=2,
                                                            where=lambda e: e["body"]["data"]["repair_id"] == repair["id"])
        assert [u["body"]["data"]["status"] for u in updates] == ["open", "sent_to_vendor"]
        assert assets.get("/api/v1/assets/GZ-2026-000001").json()["status"] == "in_repair"


def test_reporting_counts_survive_a_restart(stack: Stack) -> None:
    series = 'reporting_tickets_created_total{channel="email",service_code="RS-REPAIR"}'
    before = counter(stack, "reporting", series)
    for _ in range(3):
        post_ticket(stack, channel="email")
    line = f"{series} {before + 3}"

    def reporting_has_line() -> bool:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if line in metrics(stack, "reporting"):
                return True
            time.sleep(0.1)
        return False

    assert reporting_has_line()
    stack.restart("reporting")
    assert reporting_has_line()


@pytest.mark.stack_env(SLA_POLICIES='{"response": {"calendar": "24x7", "business_minutes": 0.05}}')
def test_breach_due_while_the_monitor_was_down_is_published_once_after_restart(stack: Stack) -> None:
    stack.service("dispatch").stop()
    ticket = post_ticket(stack)
    time.sleep(0.5)  # the timer is stored
    stack.service("sla-monitor").kill()
    time.sleep(3)  # it falls due while nobody watches
    stack.service("sla-monitor").start()
    stack.service("sla-monitor").wait_ready()
    breaches = StreamReader(stack.observer_url()).events("sla.breached", want=2, timeout=5)
    assert [b["body"]["data"]["ticket_id"] for b in breaches] == [ticket["id"]]


def test_gateway_answers_business_deadlines_from_the_sla_monitor(stack: Stack) -> None:
    r = httpx.get(
        f"{stack.gateway}/api/v1/calendars/office-hours/deadline",
        params={"start": "2026-10-09T17:00:00+08:00", "business_minutes": 60},
        headers=auth(stack),
    )
    assert r.status_code == 200, r.text
    # Friday 17:00: 30 minutes left that day; Saturday 2026-10-10 is an official make-up working day.
    assert r.json()["due_at_local"] == "2026-10-10T09:00:00+08:00"
    r = httpx.get(
        f"{stack.gateway}/api/v1/calendars/office-hours/elapsed",
        params={"start": "2026-10-09T08:30:00+08:00", "end": "2026-10-12T08:30:00+08:00"},
        headers=auth(stack),
    )
    assert r.json()["business_minutes"] == 2 * 420


def test_repair_sent_to_a_vendor_starts_its_clocks_and_a_progress_note_restarts_one(stack: Stack) -> None:
    with direct(stack, "assets") as assets, direct(stack, "sla-monitor") as sla:
        repair_progress_restarts(assets, sla)


def repair_progress_restarts(assets: httpx.Client, sla: httpx.Client) -> None:
    repair = assets.post("/api/v1/repairs", json={"asset_tag": "GZ-2026-000002"}).json()
    assets.patch(f"/api/v1/repairs/{repair['id']}", json={"status": "sent_to_vendor"}).raise_for_status()

    def timer(name: str) -> dict[str, Any]:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            r = sla.get(f"/api/v1/timers/{repair['id']}/{name}")
            if r.status_code == 200:
                return r.json()  # type: ignore[no-any-return]
            time.sleep(0.1)
        raise AssertionError(f"no {name} timer")

    first = timer("repair_progress")
    assert timer("repair_return")["status"] == "running"
    time.sleep(0.01)
    assets.post(f"/api/v1/repairs/{repair['id']}/progress", json={"note": "主板已更換"}).raise_for_status()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and timer("repair_progress")["started_at"] == first["started_at"]:
        time.sleep(0.1)
    assert timer("repair_progress")["started_at"] > first["started_at"]


def test_delay_re_dispatches_and_the_desk_sees_the_new_engineer_and_the_clocks(stack: Stack) -> None:
    ticket = post_ticket(stack)
    first = wait_assigned(stack, [ticket["id"]], timeout=5)[ticket["id"]]["assignee"]
    # The engineer it went to cannot go: the holder (a user linked to that roster engineer) reports the delay.
    holder = Caller(subject="eng.first", role="engineer", name="eng.first", engineer_id=first["engineer_id"])
    with direct(stack, "dispatch", holder) as engineer:
        r = engineer.post(f"/api/v1/assignments/{ticket['id']}/delay", json={"reason": "車輛故障", "cannot_go": True})
    assert r.status_code == 200, r.text
    second = r.json()["engineer_id"]
    assert second != first["engineer_id"]
    delayed = [h for h in r.json()["history"] if h["action"] == "delayed"]
    assert [h["by"] for h in delayed] == ["eng.first"]  # the token's subject, never a body's
    with direct(stack, "dispatch") as desk:
        desk.post(f"/api/v1/assignments/{ticket['id']}/confirm", json={}).raise_for_status()
        esc = desk.post(
            f"/api/v1/assignments/{ticket['id']}/escalations", json={"kind": "other", "description": "用戶不在現場"}
        ).json()["escalations"][-1]
        # Acknowledged by one it was raised to (the project manager: role manager); the actor is the token's, never a body's.
        manager = {"X-Opsdesk-Role": "manager", "X-Opsdesk-User": "liu.ml"}
        desk.post(f"/api/v1/assignments/{ticket['id']}/escalations/{esc['id']}/acknowledge", headers=manager).raise_for_status()

    want = {"response": "met", "dispatch": "met", "redispatch": "met", "confirmation": "met", "escalation": "met"}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        shown = httpx.get(f"{stack.gateway}/api/v1/tickets/{ticket['id']}", headers=auth(stack)).json()
        states = {t["name"]: t["state"] for t in shown["sla"] or []}
        if shown["assignee"]["engineer_id"] == second and states == want:
            break
        time.sleep(0.1)
    assert shown["assignee"]["engineer_id"] == second
    with direct(stack, "sla-monitor") as sla:
        debug = {n: sla.get(f"/api/v1/timers/{ticket['id']}/{n}").json() for n in want}
    assert states == want, debug


def test_reporting_rebuilds_its_projection_from_the_stream_as_its_own_bus_user(stack: Stack) -> None:
    # The rebuild replays JetStream through an ephemeral consumer: with one NATS user per service, reporting's own
    # user must be allowed to make and read one, or a manager's rebuild can never finish.
    series = 'reporting_tickets_created_total{channel="web",service_code="RS-REPAIR"}'
    before = counter(stack, "reporting", series)
    for _ in range(2):
        post_ticket(stack, channel="web")
    line = f"{series} {before + 2}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and line not in metrics(stack, "reporting"):
        time.sleep(0.1)
    assert line in metrics(stack, "reporting")
    month = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")

    def total() -> int:
        r = httpx.get(f"{stack.gateway}/api/v1/reports/service-summary/{month}", headers=auth(stack), timeout=30)
        assert r.status_code == 200, r.text
        return int(r.json()["figures"]["volumes"]["total"])

    # The stack is shared: the live projection counts every ticket of the month so far, ours included. Once it is
    # settled, the rebuilt generation must count exactly as many, each ticket once.
    counted = total()
    time.sleep(0.5)
    while (again := total()) != counted:
        counted = again
        time.sleep(0.5)
    assert counted >= 2

    rebuilt = httpx.post(f"{stack.gateway}/api/v1/reports/admin/rebuild", params={"wait": "true"}, headers=auth(stack), timeout=60)
    assert rebuilt.status_code == 202, rebuilt.text
    assert rebuilt.json()["status"] == "done" and rebuilt.json()["events"] >= 2, rebuilt.json()
    projection = httpx.get(f"{stack.gateway}/api/v1/reports/admin/projection", headers=auth(stack), timeout=15).json()
    assert projection["generation"] == rebuilt.json()["generation"]
    assert total() == counted  # the rebuilt generation counts each ticket once
