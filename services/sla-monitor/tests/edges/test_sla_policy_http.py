"""SLA policies and escalation contacts over HTTP (issue 16), on the memory store and on the real database: GET gives
the environment's values at version 0, PUT takes them back changed, refusals name the field and the reason in the
caller's language, a stale version is a 412, only an administrator writes, and every save is in the history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from opsdesk_shared.internal_auth_testing import InternalTokenAuth
from sla_monitor import calendar_service, service
from sla_monitor.adapters.memory import MemoryCalendarStore, MemoryNotificationStore, MemoryOutbox, MemoryTimerStore
from sla_monitor.adapters.policy_stores import MemoryPolicyStore, MongoPolicyStore
from sla_monitor.calendar_book import BookHolder
from sla_monitor.main import Adapters, create_app
from sla_monitor.notifications.channels import NotifyChannel
from sla_monitor.notifications.service import NotificationWiring
from sla_monitor.notifications.stores import MemoryPreferenceStore
from sla_monitor.settings import SlaSettings

ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture(params=["memory", pytest.param("mongo", marks=pytest.mark.integration)])
def policy_store(request: pytest.FixtureRequest) -> object:
    if request.param == "memory":
        return MemoryPolicyStore()
    return MongoPolicyStore(request.getfixturevalue("mongo_db"))


@pytest.fixture
async def adapters(policy_store: Any) -> Adapters:
    calendars = MemoryCalendarStore()
    wiring = NotificationWiring(
        store=MemoryNotificationStore(), preferences=MemoryPreferenceStore(), sender=None,
        channels={"desk-wecom": NotifyChannel(kind="wecom", url="wecombot://KEY", name="运维值班群")},
    )
    return Adapters(store=MemoryTimerStore(), outbox=MemoryOutbox(), calendars=calendars,
                    book=BookHolder(await calendar_service.load_book(calendars)), notifications=wiring, policy_store=policy_store)


@pytest.fixture
async def client(adapters: Adapters) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SlaSettings(), adapters=adapters)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://sla.test", auth=InternalTokenAuth("sla-monitor")
        ) as client:
            yield client


def as_admin(user: str = "wang.admin") -> dict[str, str]:
    return {"X-Opsdesk-Role": "admin", "X-Opsdesk-User": user}


async def test_get_gives_the_environments_policies_at_version_0(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/sla/policies", headers={"X-Opsdesk-Role": "agency"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["version"], body["source"], body["changed_by"]) == (0, "settings", None)
    assert r.headers["etag"] == '"0"'
    assert body["clocks"]["response"] == {"calendar": "office-hours", "business_minutes": 60.0, "warn_ratio": 0.8}
    assert body["clocks"]["confirmation"]["business_minutes"] == 30


async def test_put_takes_back_what_get_returned_and_new_clocks_use_it(client: httpx.AsyncClient, adapters: Adapters) -> None:
    body = (await client.get("/api/v1/sla/policies")).json()
    body["clocks"]["response"]["business_minutes"] = 45
    body["overrides"] = {"RS-SPARE:P1": {"response": {"business_minutes": 20}}}
    assert body["repair_progress_working_days"] == 3
    body["repair_progress_working_days"] = 5
    r = await client.put("/api/v1/sla/policies", json=body, headers=as_admin())
    assert r.status_code == 200, r.text
    saved = r.json()
    assert (saved["version"], saved["source"], saved["changed_by"]) == (1, "stored", "wang.admin")
    assert r.headers["etag"] == '"1"'
    again = (await client.get("/api/v1/sla/policies")).json()
    assert again["clocks"]["response"]["business_minutes"] == 45 and again["version"] == 1
    assert again["overrides"]["RS-SPARE:P1"]["response"]["business_minutes"] == 20
    assert again["repair_progress_working_days"] == 5
    # What the bus handlers start clocks with from now on: a ticket filed after the save gets 45 minutes.
    assert adapters.policies is not None
    policy = adapters.policies.policy_for("response", service_code="RS-REPAIR", priority="P3")
    started = await service.start_policy_timer(
        policy, ticket_id="t-after", started_at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC), book=adapters.book.book,
        store=adapters.store, correlation_id="c", outbox=adapters.outbox,
    )
    assert started
    timer = await adapters.store.get("t-after:response")
    assert timer is not None and timer.business_minutes == 45
    assert adapters.policies.policy_for("response", service_code="RS-SPARE", priority="P1").business_minutes == 20
    assert adapters.policies.policies.repair_progress_working_days == 5  # what the bus passes to the repair clocks


async def test_a_running_clock_keeps_the_policy_it_started_with(client: httpx.AsyncClient, adapters: Adapters) -> None:
    assert adapters.policies is not None
    before = adapters.policies.policy_for("response", service_code="RS-REPAIR", priority="P3")
    await service.start_policy_timer(before, ticket_id="t-before", started_at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC),
                                     book=adapters.book.book, store=adapters.store, correlation_id="c", outbox=adapters.outbox)
    due = (await adapters.store.get("t-before:response")).due_at  # type: ignore[union-attr]
    body = (await client.get("/api/v1/sla/policies")).json()
    body["clocks"]["response"]["business_minutes"] = 10
    assert (await client.put("/api/v1/sla/policies", json=body)).status_code == 200
    timer = await adapters.store.get("t-before:response")
    assert timer is not None and timer.business_minutes == 60 and timer.due_at == due


async def test_negative_minutes_are_refused_naming_the_field_in_chinese(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/sla/policies")).json()
    body["clocks"]["dispatch"]["business_minutes"] = -10
    r = await client.put("/api/v1/sla/policies", json=body, headers=ZH)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail[0]["loc"] == ["body", "clocks", "dispatch", "business_minutes"]
    assert detail[0]["msg"].startswith("应大于 0")
    body["clocks"]["dispatch"]["business_minutes"] = 10
    body["repair_progress_working_days"] = 0
    r = await client.put("/api/v1/sla/policies", json=body, headers=ZH)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "repair_progress_working_days"], r.text
    assert (await client.get("/api/v1/sla/policies")).json()["version"] == 0  # nothing stored


async def test_an_unknown_clock_and_an_unknown_calendar_are_named_with_what_is_known(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/sla/policies")).json()
    body["clocks"]["lunch_break"] = {"calendar": "office-hours", "business_minutes": 30}
    body["clocks"]["response"]["calendar"] = "weekends"
    r = await client.put("/api/v1/sla/policies", json=body, headers={"Accept-Language": "en"})
    assert r.status_code == 422, r.text
    msgs = {tuple(d["loc"]): d["msg"] for d in r.json()["detail"]}
    assert msgs[("body", "clocks", "lunch_break")].startswith("no clock named lunch_break; known clocks: response, dispatch")
    assert msgs[("body", "clocks", "response", "calendar")].startswith("no calendar named weekends; known calendars:")
    r = await client.put("/api/v1/sla/policies", json=body, headers={"Accept-Language": "zh-TW"})
    assert r.json()["detail"][0]["msg"].startswith("沒有名為 lunch_break 的時鐘")


async def test_a_stale_version_is_412_with_the_current_etag(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/sla/policies")).json()
    assert (await client.put("/api/v1/sla/policies", json=body)).status_code == 200
    r = await client.put("/api/v1/sla/policies", json=body, headers=ZH)  # still says version 0
    assert r.status_code == 412, r.text
    assert r.headers["etag"] == '"1"' and r.json()["current_version"] == 1
    assert "SLA 策略已被他人修改" in r.json()["message"]
    # If-Match wins over the body's version.
    assert (await client.put("/api/v1/sla/policies", json=body, headers={"If-Match": '"1"'})).status_code == 200
    assert (await client.put("/api/v1/sla/policies", json=body, headers={"If-Match": '"1"'})).status_code == 412


@pytest.mark.parametrize("role", ["manager", "agency", "auditor", "agent"])
async def test_only_an_administrator_changes_them(client: httpx.AsyncClient, role: str) -> None:
    body = (await client.get("/api/v1/sla/policies")).json()
    assert (await client.put("/api/v1/sla/policies", json=body, headers={"X-Opsdesk-Role": role})).status_code == 403
    contacts = (await client.get("/api/v1/sla/escalation-contacts")).json()
    assert (await client.put("/api/v1/sla/escalation-contacts", json=contacts, headers={"X-Opsdesk-Role": role})).status_code == 403


async def test_a_service_token_cannot_change_them_and_requesters_cannot_read(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/sla/policies")).json()
    assert (await client.put("/api/v1/sla/policies", json=body, headers={"X-Opsdesk-Role": "service"})).status_code == 403
    assert (await client.get("/api/v1/sla/policies", headers={"X-Opsdesk-Role": "requester"})).status_code == 403


async def test_escalation_contacts_round_trip_and_bad_ones_are_named(client: httpx.AsyncClient, adapters: Adapters) -> None:
    r = await client.get("/api/v1/sla/escalation-contacts")
    assert r.status_code == 200 and r.json()["version"] == 0
    body = r.json()
    assert [lvl["role"] for lvl in body["levels"]] == ["desk_lead", "project_manager", "agency_it_manager"]
    body["levels"][1]["emails"] = ["pm@agency.example.cn"]
    body["levels"][1]["channels"] = ["desk-wecom"]
    r = await client.put("/api/v1/sla/escalation-contacts", json=body, headers=as_admin("li.admin"))
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 1 and r.json()["changed_by"] == "li.admin"
    assert adapters.policies is not None and adapters.policies.chain[1].emails == ("pm@agency.example.cn",)
    body = r.json()
    body["levels"][0]["channels"] = ["pm-sms"]
    body["levels"][2]["after_minutes"] = -1
    r = await client.put("/api/v1/sla/escalation-contacts", json=body, headers=ZH)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "levels", 2, "after_minutes"]
    body["levels"][2]["after_minutes"] = 60
    r = await client.put("/api/v1/sla/escalation-contacts", json=body, headers=ZH)
    assert r.status_code == 422, r.text
    [problem] = r.json()["detail"]
    assert problem["loc"] == ["body", "levels", 0, "channels", 0]
    assert problem["msg"].startswith("没有配置名为 pm-sms 的通知渠道；已配置：") and "desk-wecom" in problem["msg"]


async def test_the_history_says_who_changed_what_and_when_newest_first(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/sla/policies")).json()
    body["clocks"]["confirmation"]["business_minutes"] = 25
    body = (await client.put("/api/v1/sla/policies", json=body, headers=as_admin("wang.admin"))).json()
    body["clocks"]["confirmation"]["business_minutes"] = 20
    assert (await client.put("/api/v1/sla/policies", json=body, headers=as_admin("li.admin"))).status_code == 200
    r = await client.get("/api/v1/sla/policies/history", headers={"X-Opsdesk-Role": "auditor"})
    assert r.status_code == 200
    lines = r.json()
    assert [(line["version"], line["by"]) for line in lines] == [(2, "li.admin"), (1, "wang.admin"), (0, "environment")]
    assert [line["value"]["clocks"]["confirmation"]["business_minutes"] for line in lines] == [20, 25, 30]
    assert all(line["at"] for line in lines)
    assert (await client.get("/api/v1/sla/escalation-contacts/history")).json() == []


async def test_a_saved_policy_survives_a_restart_on_the_same_store(adapters: Adapters) -> None:
    """What another replica (or the next start) reads: the stored version, not the environment's."""
    from sla_monitor import policy_service
    from sla_monitor.main import policy_holder

    app = create_app(SlaSettings(), adapters=adapters)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sla.test", auth=InternalTokenAuth("sla-monitor")
    ) as client:
        body = (await client.get("/api/v1/sla/policies")).json()
        body["clocks"]["escalation"]["business_minutes"] = 15
        assert (await client.put("/api/v1/sla/policies", json=body)).status_code == 200
    fresh = policy_holder(SlaSettings())
    assert fresh.timer_policy("escalation").business_minutes == 20
    await policy_service.reload(store=adapters.policy_store, holder=fresh)
    assert fresh.timer_policy("escalation").business_minutes == 15
