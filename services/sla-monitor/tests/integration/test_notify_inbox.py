"""The in-app channel and the roles' defaults, on the memory stores and on the real database (one body, both stores):
an event reaches a person's console on a fresh install with no channel configured, quiet hours do not hold it, and
each reader reads and marks only their own (a role's notice is shared, its read mark is each reader's own)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from opsdesk_shared.internal_auth_testing import InternalTokenAuth
from sla_monitor import calendar_service, notify
from sla_monitor.adapters.memory import MemoryCalendarStore, MemoryNotificationStore, MemoryOutbox, MemoryTimerStore
from sla_monitor.adapters.mongo import MongoNotificationStore
from sla_monitor.calendar_book import BookHolder, CalendarBook
from sla_monitor.main import Adapters, create_app
from sla_monitor.notifications import service
from sla_monitor.notifications.inbox import InboxStore, MemoryInboxStore, MongoInboxStore, Notice, view
from sla_monitor.notifications.preferences import DEFAULT_ROLE_EVENTS, ChannelChoice, Preference
from sla_monitor.notifications.service import NotificationWiring
from sla_monitor.notifications.stores import (
    MemoryNumberStore,
    MemoryPreferenceStore,
    MongoNumberStore,
    MongoPreferenceStore,
)
from sla_monitor.settings import SlaSettings

pytestmark = pytest.mark.integration

# Monday 30 Nov 2026 13:00 UTC is 21:00 in Shanghai: outside duty time, when other channels would wait till morning.
NIGHT = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
ENGINEER = {"X-Opsdesk-Role": "engineer", "X-Opsdesk-User": "li.hua", "X-Opsdesk-Engineer": "eng-7"}
OTHER_ENGINEER = {"X-Opsdesk-Role": "engineer", "X-Opsdesk-User": "wang.qiang", "X-Opsdesk-Engineer": "eng-8"}
AGENT_A = {"X-Opsdesk-Role": "agent", "X-Opsdesk-User": "desk.zhou"}
AGENT_B = {"X-Opsdesk-Role": "agent", "X-Opsdesk-User": "desk.chen"}
ADMIN = {"X-Opsdesk-Role": "admin", "X-Opsdesk-User": "root"}
REQUESTER = {"X-Opsdesk-Role": "requester", "X-Opsdesk-User": "req-office"}


@dataclass
class Stores:
    wired: NotificationWiring


@pytest.fixture(params=["memory", "mongo"])
def stores(request: pytest.FixtureRequest) -> Stores:
    # A plain fixture: only it may pull the async Mongo fixture in lazily, so the memory case starts no server.
    if request.param == "memory":
        return Stores(NotificationWiring(
            store=MemoryNotificationStore(), preferences=MemoryPreferenceStore(), channels={}, sender=None,
            inbox=MemoryInboxStore(), numbers=MemoryNumberStore(),
        ))
    return request.getfixturevalue("mongo_stores")  # type: ignore[no-any-return]


@pytest.fixture
async def mongo_stores(mongo_db: object) -> Stores:
    notifications = MongoNotificationStore(mongo_db)  # type: ignore[arg-type]
    await notifications.ensure_indexes()
    prefs = MongoPreferenceStore(mongo_db)  # type: ignore[arg-type]
    await prefs.ensure_indexes()
    inbox = MongoInboxStore(mongo_db)  # type: ignore[arg-type]
    await inbox.ensure_indexes()
    return Stores(NotificationWiring(
        store=notifications, preferences=prefs, channels={}, sender=None, inbox=inbox,
        numbers=MongoNumberStore(mongo_db),  # type: ignore[arg-type]
    ))


@pytest.fixture
async def book() -> CalendarBook:
    return await calendar_service.load_book(MemoryCalendarStore())


@pytest.fixture
async def client(stores: Stores, book: CalendarBook) -> AsyncIterator[httpx.AsyncClient]:
    adapters = Adapters(store=MemoryTimerStore(), outbox=MemoryOutbox(), calendars=MemoryCalendarStore(),
                        book=BookHolder(book), notifications=stores.wired)
    app = create_app(SlaSettings(), adapters=adapters)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://sla.test", auth=InternalTokenAuth("sla-monitor"),
        ) as c:
            yield c


async def deliver(wired: NotificationWiring, now: datetime) -> int:
    return await notify.deliver_due(
        now=now, store=wired.store, email=None, webhook=None, max_attempts=3, backoff_s=1.0,  # type: ignore[arg-type]
        channels=wired.channels, inbox=wired.inbox,
    )


def notice(nid: str, audience: str, at: datetime) -> Notice:
    return Notice(id=nid, audience=audience, event="breach", ticket_id="t-1", number="INC-2026-000001",
                  texts={"zh-CN": ["标题", "正文"], "en": ["Title", "Body"]}, created_at=at)


async def test_the_inbox_keeps_each_notice_once_latest_first_and_marks_per_reader(stores: Stores) -> None:
    inbox: InboxStore = stores.wired.inbox
    assert await inbox.add(notice("n-1", "role:agent", NIGHT))
    assert not await inbox.add(notice("n-1", "role:agent", NIGHT))  # a redelivered record keeps one notice
    await inbox.add(notice("n-2", "engineer:eng-7", NIGHT + timedelta(minutes=1)))
    await inbox.add(notice("n-3", "role:agent", NIGHT + timedelta(minutes=2)))

    assert [n.id for n in await inbox.mine(["role:agent", "user:desk.zhou"], limit=10)] == ["n-3", "n-1"]
    assert [n.id for n in await inbox.mine(["role:agent"], limit=1)] == ["n-3"]
    assert await inbox.unread(["role:agent"], "desk.zhou") == 2
    assert await inbox.mark_read("n-1", ["role:agent"], "desk.zhou")
    assert await inbox.mark_read("n-1", ["role:agent"], "desk.zhou")  # twice is still read, once in read_by
    assert not await inbox.mark_read("n-2", ["role:agent"], "desk.zhou")  # the engineer's, not the desk's
    assert await inbox.unread(["role:agent"], "desk.zhou") == 1
    assert await inbox.unread(["role:agent"], "desk.chen") == 2  # a role's notice: each reader's own mark
    assert await inbox.mark_all_read(["role:agent"], "desk.chen") == 2
    assert await inbox.unread(["role:agent"], "desk.chen") == 0
    assert (await inbox.mine(["role:agent"], limit=10))[1].read_by == ["desk.zhou", "desk.chen"]


async def test_defaults_are_seeded_once_and_never_over_an_admins_choice(stores: Stores) -> None:
    prefs = stores.wired.preferences
    mine = Preference(key="role:manager", events=("breach",), channels=(), updated_by="root")
    await prefs.put(mine)
    seeded = await service.seed_role_defaults(prefs=prefs, now=NIGHT)
    assert sorted(seeded) == sorted(r for r in DEFAULT_ROLE_EVENTS if r != "manager")
    assert await prefs.get("role:manager") == mine
    engineer = await prefs.get("role:engineer")
    assert engineer is not None and engineer.events == ("assigned",)
    assert engineer.channels == (ChannelChoice(channel="console"),)
    agency = await prefs.get("role:agency")
    assert agency is not None and set(agency.events) == {"authorization_waiting", "report_submitted", "incident_raised", "replacement_answered"}
    assert await service.seed_role_defaults(prefs=prefs, now=NIGHT) == []  # a second start seeds nothing


async def test_an_assignment_at_night_reaches_the_engineers_console_at_once_by_its_number(
    stores: Stores, client: httpx.AsyncClient, book: CalendarBook,
) -> None:
    wired = stores.wired
    await service.seed_role_defaults(prefs=wired.preferences, now=NIGHT)
    await wired.numbers.remember("tkt-42", "INC-2026-000042", "打印机卡纸")
    fields = {"ticket_id": "tkt-42", "engineer_id": "eng-7", "engineer_name": "李华", "reason": "skill match, load 0/8",
              "reason_code": "chosen", "reason_params": {"matched": "match", "skill": "printer", "duty": "onsite", "load": 0,
                                                         "capacity": 8, "role": "onsite", "score": 15.0}}
    for _ in range(2):  # a redelivered event plans nothing twice
        await service.notify_event(event_id="ev-1", kind="assigned", fields=fields, ticket_id="tkt-42", wired=wired,
                                   book=book, now=NIGHT)
    assert await deliver(wired, NIGHT) == 1  # at 21:00, not held till the morning
    assert await deliver(wired, NIGHT + timedelta(seconds=5)) == 0

    mine = (await client.get("/api/v1/notifications/mine", headers={**ENGINEER, "Accept-Language": "zh-CN"})).json()
    assert mine["unread"] == 1 and len(mine["items"]) == 1
    item = mine["items"][0]
    assert item["number"] == "INC-2026-000042" and item["event"] == "assigned" and not item["read"]
    assert item["title"] == "【运维】工单 INC-2026-000042 已派给您"
    # The ticket's title (remembered from ticket.created) and dispatch's reason in the reader's words, not its English.
    assert item["body"].startswith("工单 INC-2026-000042（打印机卡纸）已派给 李华。") and "负载 0/8" in item["body"], item
    assert "skill match" not in item["body"]
    english = (await client.get("/api/v1/notifications/mine", headers=ENGINEER)).json()  # no Accept-Language: English
    assert english["items"][0]["title"] == "[Opsdesk] Ticket INC-2026-000042 assigned to you"
    assert "load 0/8" in english["items"][0]["body"] and "(打印机卡纸)" in english["items"][0]["body"]
    assert (await client.get("/api/v1/notifications/mine", headers=OTHER_ENGINEER)).json() == {"items": [], "unread": 0}

    refused = await client.post(f"/api/v1/notifications/mine/{item['id']}/read", headers=OTHER_ENGINEER)
    assert refused.status_code == 404
    marked = await client.post(f"/api/v1/notifications/mine/{item['id']}/read", headers=ENGINEER)
    assert marked.status_code == 200
    after = (await client.get("/api/v1/notifications/mine", headers=ENGINEER)).json()
    assert after["unread"] == 0 and after["items"][0]["read"]
    sent = await wired.store.listed(status="sent", limit=10)
    assert [(n.target, n.event) for n in sent] == [("console", "assigned")]


async def test_a_breach_reaches_every_desk_agent_and_each_marks_their_own(
    stores: Stores, client: httpx.AsyncClient, book: CalendarBook,
) -> None:
    wired = stores.wired
    await service.seed_role_defaults(prefs=wired.preferences, now=NIGHT)
    await service.notify_event(
        event_id="ev-b", kind="breach", ticket_id="tkt-9",
        fields={"ticket_id": "tkt-9", "number": "INC-2026-000009", "timer": "response", "due_at": NIGHT, "calendar": ""},
        wired=wired, book=book, now=NIGHT,
    )
    assert await deliver(wired, NIGHT) == 2  # role manager and role agent
    a = (await client.get("/api/v1/notifications/mine", headers=AGENT_A)).json()
    assert a["unread"] == 1 and a["items"][0]["number"] == "INC-2026-000009" and a["items"][0]["event"] == "breach"
    read_all = await client.post("/api/v1/notifications/mine/read", headers=AGENT_A)
    assert read_all.json() == {"marked": 1}
    assert (await client.get("/api/v1/notifications/mine", headers=AGENT_A)).json()["unread"] == 0
    assert (await client.get("/api/v1/notifications/mine", headers=AGENT_B)).json()["unread"] == 1
    assert (await client.get("/api/v1/notifications/mine", headers=ENGINEER)).json()["unread"] == 0


async def test_my_preferences_show_my_roles_until_i_choose_and_admins_edit_the_requesters(
    stores: Stores, client: httpx.AsyncClient,
) -> None:
    await service.seed_role_defaults(prefs=stores.wired.preferences, now=NIGHT)
    inherited = (await client.get("/api/v1/notifications/preferences", headers=ENGINEER)).json()
    assert inherited["key"] == "user:li.hua" and inherited["events"] == ["assigned"] and inherited["updated_at"] is None
    assert inherited["channels"] == [{"channel": "console", "address": None}]
    own = await client.put("/api/v1/notifications/preferences", headers=ENGINEER,
                           json={"events": ["assigned", "resolved"], "channels": [{"channel": "console"}]})
    assert own.status_code == 200 and own.json()["updated_at"] is not None
    assert (await client.get("/api/v1/notifications/preferences", headers=ENGINEER)).json()["events"] == ["assigned", "resolved"]

    requester = (await client.get("/api/v1/notifications/preferences/roles/requester", headers=ADMIN)).json()
    assert requester["events"] == ["resolved", "needs_answer"]
    changed = await client.put("/api/v1/notifications/preferences/roles/requester", headers=ADMIN,
                               json={"events": ["resolved"], "channels": [{"channel": "console"}]})
    assert changed.status_code == 200
    assert (await client.get("/api/v1/notifications/mine", headers=REQUESTER)).json() == {"items": [], "unread": 0}


async def test_the_in_app_channels_test_is_a_notice_for_the_admin_who_asked(client: httpx.AsyncClient) -> None:
    sent = await client.post("/api/v1/notifications/channels/console/test", headers=ADMIN)
    assert sent.status_code == 200 and sent.json() == {"channel": "console", "sent": True}
    mine = (await client.get("/api/v1/notifications/mine", headers=ADMIN)).json()
    assert mine["unread"] == 1 and mine["items"][0]["event"] == "test" and mine["items"][0]["number"] is None


async def test_an_earlier_releases_defaults_gain_the_new_kinds_an_admins_choice_does_not(stores: Stores) -> None:
    prefs = stores.wired.preferences
    old_defaults = Preference(key="role:agency", events=("authorization_waiting", "report_submitted", "incident_raised"),
                              channels=(ChannelChoice(channel="console"),), updated_by="defaults")
    chosen = Preference(key="role:manager", events=("breach",), channels=(), updated_by="root")
    await prefs.put(old_defaults)
    await prefs.put(chosen)

    seeded = await service.seed_role_defaults(prefs=prefs, now=NIGHT)

    assert "agency" in seeded and "manager" not in seeded
    agency = await prefs.get("role:agency")
    assert agency is not None and "replacement_answered" in agency.events and agency.channels == old_defaults.channels
    assert await prefs.get("role:manager") == chosen
    assert await service.seed_role_defaults(prefs=prefs, now=NIGHT) == []


async def test_the_agencys_decision_settles_its_authorization_notices_for_everyone(stores: Stores) -> None:
    inbox: InboxStore = stores.wired.inbox
    waiting = Notice(id="w-1", audience="role:agency", event="authorization_waiting", ticket_id="t-9", number="INC-9",
                     texts={"zh-CN": ["待授权", "正文"]}, created_at=NIGHT)
    other = Notice(id="w-2", audience="role:agency", event="authorization_waiting", ticket_id="t-10", number="INC-10",
                   texts={"zh-CN": ["待授权", "正文"]}, created_at=NIGHT)
    await inbox.add(waiting)
    await inbox.add(other)
    await inbox.add(notice("b-1", "role:agency", NIGHT))  # t-1's breach: another kind, not settled by t-9's decision
    assert await inbox.unread(["role:agency"], "zhou") == 3

    assert await inbox.settle("t-9", ["authorization_waiting"]) == 1
    assert await inbox.settle("t-9", ["authorization_waiting"]) == 0  # a redelivered decision changes nothing

    assert await inbox.unread(["role:agency"], "zhou") == 2 and await inbox.unread(["role:agency"], "wu") == 2
    shown = {n.id: view(n, reader="zhou", language="zh-CN").read for n in await inbox.mine(["role:agency"], limit=10)}
    assert shown == {"w-1": True, "w-2": False, "b-1": False}
