"""Notification rules: preferences (person over role), quiet hours outside duty time, the token bucket, and
delivery that batches and rate-limits per robot without ever dropping (100 messages to one robot)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from sla_monitor import calendar_service, notify
from sla_monitor.adapters.memory import MemoryCalendarStore, MemoryNotificationStore
from sla_monitor.calendar_book import CalendarBook
from sla_monitor.notifications import service
from sla_monitor.notifications.channels import NotifyChannel
from sla_monitor.notifications.plan import Recipient, audience
from sla_monitor.notifications.preferences import (
    DEFAULT_ROLE_EVENTS,
    ChannelChoice,
    Preference,
    PreferenceIn,
    deliver_at,
    is_urgent,
)
from sla_monitor.notifications.ratelimit import Buckets, TokenBucket
from sla_monitor.notifications.service import MissingAddress, NotificationWiring, UnknownChannel
from sla_monitor.notifications.stores import MemoryPreferenceStore

# Monday 30 Nov 2026: 02:00 UTC is 10:00 in Shanghai (duty time); 13:00 UTC is 21:00 (quiet).
DUTY = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
NIGHT = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
NEXT_MORNING = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)  # 08:30 Shanghai, Tuesday
ROBOT = NotifyChannel(kind="wecom", url="wecombot://KEY123", name="运维值班群")  # type: ignore[arg-type]
MAIL = NotifyChannel(kind="email", url="mailto://127.0.0.1:25?from=ops@localhost&mode=insecure")  # type: ignore[arg-type]
CHANNELS = {"desk-wecom": ROBOT, "mail": MAIL}


@pytest.fixture
async def book() -> CalendarBook:
    return await calendar_service.load_book(MemoryCalendarStore())


class Recording:
    """A channel sender that records messages (the real one is apprise; see tests/integration)."""

    def __init__(self, fail: int = 0) -> None:
        self.sent: list[tuple[str, str | None, str, str, datetime | None]] = []
        self.fail = fail
        self.now: datetime | None = None

    async def send(self, *, channel: NotifyChannel, address: str | None, title: str, body: str) -> None:
        if self.fail > 0:
            self.fail -= 1
            raise RuntimeError("robot said errcode 45009")
        self.sent.append((channel.kind, address, title, body, self.now))


def wiring(sender: Any = None) -> NotificationWiring:
    return NotificationWiring(store=MemoryNotificationStore(), preferences=MemoryPreferenceStore(), channels=CHANNELS,
                              sender=sender)


def pref(key: str, **kw: Any) -> Preference:
    return Preference(key=key, channels=(ChannelChoice(channel="desk-wecom"),), **kw)


# --- preferences and quiet hours ---

def test_breaches_and_major_incidents_are_urgent_others_are_not() -> None:
    assert is_urgent("breach", {})
    assert is_urgent("incident_raised", {"severity": "major"})
    assert not is_urgent("incident_raised", {"severity": "minor"})
    assert not is_urgent("assigned", {})


async def test_outside_duty_a_notification_waits_for_the_next_duty_minute(book: CalendarBook) -> None:
    p = pref("role:engineer")
    assert deliver_at(NIGHT, urgent=False, preference=p, calendar=book.get("office-hours")) == NEXT_MORNING
    assert deliver_at(DUTY, urgent=False, preference=p, calendar=book.get("office-hours")) == DUTY


async def test_a_breach_at_night_goes_at_once(book: CalendarBook) -> None:
    assert deliver_at(NIGHT, urgent=True, preference=pref("role:manager"), calendar=book.get("office-hours")) == NIGHT


async def test_quiet_hours_can_be_switched_off(book: CalendarBook) -> None:
    p = pref("role:engineer", quiet_outside_duty=False)
    assert deliver_at(NIGHT, urgent=False, preference=p, calendar=book.get("office-hours")) == NIGHT


async def test_a_persons_preference_wins_over_the_role(book: CalendarBook) -> None:
    w = wiring()
    await w.preferences.put(Preference(key="role:engineer", channels=(ChannelChoice(channel="desk-wecom"),)))
    await w.preferences.put(Preference(key="user:li", engineer_id="eng-1", language="en",
                                       channels=(ChannelChoice(channel="mail", address="li@agency.example"),)))
    planned = await service.notify_event(event_id="e1", kind="assigned", fields={"ticket_id": "t-1", "engineer_id": "eng-1"},
                                         ticket_id="t-1", wired=w, book=book, now=DUTY)
    assert planned == 1
    (n,) = await w.store.due(DUTY, limit=10)
    assert (n.target, n.address, n.language) == ("mail", "li@agency.example", "en")
    assert n.subject == "[Opsdesk] Ticket t-1 assigned to you"


async def test_without_a_persons_own_preference_the_roles_applies(book: CalendarBook) -> None:
    w = wiring()
    await w.preferences.put(pref("role:engineer"))
    await service.notify_event(event_id="e2", kind="assigned", fields={"ticket_id": "t-2", "engineer_id": "eng-9"},
                               ticket_id="t-2", wired=w, book=book, now=DUTY)
    (n,) = await w.store.due(DUTY, limit=10)
    assert n.target == "desk-wecom" and n.subject == "【运维】工单 t-2 已派给您"


async def test_an_event_kind_a_person_left_out_reaches_nobody(book: CalendarBook) -> None:
    w = wiring()
    await w.preferences.put(pref("role:agent", events=("breach",)))
    assert await service.notify_event(event_id="e3", kind="needs_answer", fields={"ticket_id": "t"}, wired=w, book=book, now=DUTY) == 0


async def test_a_redelivered_event_plans_nothing_twice(book: CalendarBook) -> None:
    w = wiring()
    await w.preferences.put(pref("role:agency"))
    fields = {"ticket_id": "t-3", "service_code": "NET-CHANGE"}
    assert await service.notify_event(event_id="e4", kind="authorization_waiting", fields=fields, wired=w, book=book, now=DUTY) == 1
    assert await service.notify_event(event_id="e4", kind="authorization_waiting", fields=fields, wired=w, book=book, now=DUTY) == 0


async def test_hand_built_authorization_report_and_incident_events_reach_their_roles(book: CalendarBook) -> None:
    """The authorization and incident events are being added by other work; these are built by hand meanwhile."""
    w = wiring()
    for role in ("agency", "manager", "auditor"):
        await w.preferences.put(pref(f"role:{role}", quiet_outside_duty=True))
    await service.notify_event(event_id="a1", kind="authorization_waiting", ticket_id="t-5",
                               fields={"ticket_id": "t-5", "number": "SR-2026-000005", "service": "NET-CHANGE"},
                               wired=w, book=book, now=NIGHT)
    await service.notify_event(event_id="r1", kind="report_returned",
                               fields={"report": "service-summary", "period": "2026-11", "comments": "补充第3节"},
                               wired=w, book=book, now=DUTY)
    await service.notify_event(event_id="i1", kind="incident_raised",
                               fields={"kind": "unauthorized_work", "severity": "major", "who": "eng-3", "what": "acted on t-5",
                                       "incident_id": "sec-1", "at": NIGHT}, wired=w, book=book, now=NIGHT)
    stored = sorted((await w.store.due(NEXT_MORNING, limit=50)), key=lambda n: (n.event or "", n.role))
    assert [(n.event, n.role) for n in stored] == [
        ("authorization_waiting", "agency"), ("incident_raised", "agency"), ("incident_raised", "auditor"),
        ("incident_raised", "manager"), ("report_returned", "manager"),
    ]
    by_event = {n.event: n for n in stored}
    assert by_event["authorization_waiting"].due_at == NEXT_MORNING  # held overnight
    assert by_event["incident_raised"].due_at == NIGHT  # a major incident is not
    assert "补充第3节" in by_event["report_returned"].body
    assert by_event["authorization_waiting"].subject == "【待授权】工单 SR-2026-000005 等待信息中心授权"


def test_who_each_event_is_for() -> None:
    assert audience("assigned", {"engineer_id": "e1"}) == [Recipient("engineer", "e1")]
    assert audience("resolved", {}, holder="e2") == [Recipient("engineer", "e2")]
    assert audience("resolved", {}) == [Recipient("agent")]
    assert audience("escalation", {"notify": ["pm-1"]}) == [Recipient("engineer", "pm-1"), Recipient("manager")]
    assert audience("report_submitted", {}) == [Recipient("agency")]


async def test_setting_a_preference_refuses_unknown_channels_and_email_without_address() -> None:
    prefs = MemoryPreferenceStore()
    with pytest.raises(UnknownChannel):
        await service.set_preference("user:x", PreferenceIn(channels=(ChannelChoice(channel="nope"),)), engineer_id=None,
                                     by="x", channels=CHANNELS, prefs=prefs, now=DUTY)
    with pytest.raises(MissingAddress):
        await service.set_preference("user:x", PreferenceIn(channels=(ChannelChoice(channel="mail"),)), engineer_id=None,
                                     by="x", channels=CHANNELS, prefs=prefs, now=DUTY)
    saved = await service.set_preference("user:x", PreferenceIn(events=("breach",)), engineer_id="eng-x", by="x",
                                         channels=CHANNELS, prefs=prefs, now=DUTY)
    assert (await prefs.for_engineer("eng-x")) == saved


# --- the token bucket ---

def test_a_bucket_gives_its_burst_then_one_token_per_interval() -> None:
    bucket = TokenBucket(per_minute=18, burst=2)
    assert [bucket.take(DUTY) for _ in range(3)] == [True, True, False]
    assert bucket.next_at(DUTY) == DUTY + timedelta(microseconds=3_333_334)
    assert not bucket.take(DUTY + timedelta(seconds=3))
    assert bucket.take(DUTY + timedelta(seconds=60 / 18))


def test_a_bucket_never_allows_more_than_twenty_in_any_minute() -> None:
    bucket = TokenBucket(per_minute=18, burst=2)
    sends = [DUTY + timedelta(seconds=s / 4) for s in range(4 * 600) if bucket.take(DUTY + timedelta(seconds=s / 4))]
    worst = max(sum(1 for t in sends if start <= t < start + timedelta(minutes=1)) for start in sends)
    assert worst <= 20 and len(sends) >= 180


# --- delivery: batching, rate, retries, never dropping ---

async def queue_for_robot(store: MemoryNotificationStore, count: int, *, at: datetime = DUTY) -> None:
    from sla_monitor.escalation import Notification

    for i in range(count):
        await store.add(Notification(
            id=f"n-{i:03d}", ticket_id=f"t-{i}", timer="", level=0, role="agent", channel="apprise", target="desk-wecom",
            subject=f"title {i}", body=f"body {i}", payload={}, due_at=at, event="assigned",
        ))


async def deliver(store: MemoryNotificationStore, sender: Recording, buckets: Buckets, now: datetime, **kw: Any) -> int:
    sender.now = now
    return await notify.deliver_due(now=now, store=store, email=None, webhook=None, sender=sender,  # type: ignore[arg-type]
                                    channels=CHANNELS, buckets=buckets, max_attempts=kw.get("max_attempts", 5),
                                    backoff_s=kw.get("backoff_s", 30.0), limit=kw.get("limit", 100))


async def test_a_hundred_notifications_to_one_robot_all_arrive_within_its_rate() -> None:
    store, sender, buckets = MemoryNotificationStore(), Recording(), Buckets()
    await queue_for_robot(store, 100)
    robot = ROBOT.model_copy(update={"batch": 1})  # no batching: the rate alone must hold them
    CHANNELS["desk-wecom"] = robot
    try:
        now = DUTY
        while any(n.status == "pending" for n in store.by_id.values()) and now < DUTY + timedelta(hours=1):
            await deliver(store, sender, buckets, now, limit=30)
            now += timedelta(seconds=1)
    finally:
        CHANNELS["desk-wecom"] = ROBOT
    statuses = Counter(n.status for n in store.by_id.values())
    assert statuses == {"sent": 100}
    assert sorted(int(title.split()[1]) for _, _, title, _, _ in sender.sent) == list(range(100))
    times = [t for *_, t in sender.sent if t is not None]
    assert max(sum(1 for t in times if s <= t < s + timedelta(minutes=1)) for s in times) <= 20
    assert all(n.attempts == 1 for n in store.by_id.values())  # waiting for a token is not an attempt


async def test_robot_messages_carry_batches_so_a_hundred_go_in_ten_messages() -> None:
    store, sender, buckets = MemoryNotificationStore(), Recording(), Buckets()
    await queue_for_robot(store, 100)
    now = DUTY
    while any(n.status == "pending" for n in store.by_id.values()):
        await deliver(store, sender, buckets, now)
        now += timedelta(seconds=5)
    assert len(sender.sent) == 10 and sender.sent[0][2] == "共 10 条通知"
    assert now - DUTY < timedelta(minutes=1)


async def test_a_robot_error_is_retried_with_back_off_and_the_batch_is_kept() -> None:
    store, sender, buckets = MemoryNotificationStore(), Recording(fail=1), Buckets()
    await queue_for_robot(store, 3)
    assert await deliver(store, sender, buckets, DUTY) == 0
    pending = list(store.by_id.values())
    assert all(n.status == "pending" and n.attempts == 1 and n.due_at == DUTY + timedelta(seconds=30) for n in pending)
    assert "45009" in (pending[0].last_error or "")
    assert await deliver(store, sender, buckets, DUTY + timedelta(seconds=30)) == 3


async def test_an_unconfigured_channel_fails_visibly_after_its_attempts() -> None:
    store, sender, buckets = MemoryNotificationStore(), Recording(), Buckets()
    await queue_for_robot(store, 1)
    CHANNELS.pop("desk-wecom")
    try:
        await deliver(store, sender, buckets, DUTY, max_attempts=1)
    finally:
        CHANNELS["desk-wecom"] = ROBOT
    (n,) = store.by_id.values()
    assert n.status == "failed" and "not configured" in (n.last_error or "")


async def test_a_replacement_request_reaches_the_manager_and_the_answer_the_agency(book: CalendarBook) -> None:
    """Issue 16: the agency asks for an engineer's replacement (the project manager is told, with the answer's due
    time) and the manager's answer goes back to the agency, each in the reader's language."""
    w = wiring()
    for role in ("agency", "manager"):
        await w.preferences.put(pref(f"role:{role}", quiet_outside_duty=False, events=DEFAULT_ROLE_EVENTS[role]))
    await service.notify_event(event_id="rq1", kind="replacement_requested", ticket_id="", wired=w, book=book, now=DUTY,
                               fields={"engineer": "陈志强", "reason": "多次未按时到场", "requested_at": DUTY,
                                       "answer_due_at": DUTY + timedelta(days=3)})
    await service.notify_event(event_id="an1", kind="replacement_answered", ticket_id="", wired=w, book=book, now=DUTY,
                               fields={"engineer": "eng-onsite-1", "plan": "由李嘉欣接替", "replace_by": date(2026, 12, 4),
                                       "answered_at": DUTY})
    stored = sorted(await w.store.due(DUTY, limit=10), key=lambda n: n.event or "")
    assert [(n.event, n.role) for n in stored] == [("replacement_answered", "agency"), ("replacement_requested", "manager")]
    answered, requested = stored
    assert requested.subject == "【更换人员】信息中心要求更换 陈志强" and "多次未按时到场" in requested.body
    assert "请于" in requested.body and "-" not in requested.body.split("请于")[1][:3]  # the due time, not a dash
    assert "由李嘉欣接替" in answered.body and "2026-12-04" in answered.body


async def test_a_requester_with_an_account_is_told_of_the_resolution_in_their_console(book: CalendarBook) -> None:
    assert audience("resolved", {"requester_id": "wang.req"}, holder="e2") == [
        Recipient("engineer", "e2"), Recipient("requester", subject="wang.req")]
    w = wiring()
    await w.preferences.put(pref("role:requester", quiet_outside_duty=False, events=DEFAULT_ROLE_EVENTS["requester"]))
    await w.preferences.put(pref("user:li.req", events=()))  # a requester who wants nothing
    for n, who in enumerate(("wang.req", "li.req")):
        await service.notify_event(event_id=f"res-{n}", kind="resolved", ticket_id=f"t-{n}", wired=w, book=book, now=DUTY,
                                   fields={"number": f"INC-2026-00000{n}", "resolution": "已更换硒鼓", "resolved_at": DUTY,
                                           "requester_id": who})
    told = [n for n in await w.store.due(DUTY, limit=10) if n.role == "requester"]
    assert [n.ticket_id for n in told] == ["t-0"]  # li.req's own preference (nothing) wins over the role's
    assert told[0].subject == "【运维】工单 INC-2026-000000 已解决" and "已更换硒鼓" in told[0].body
