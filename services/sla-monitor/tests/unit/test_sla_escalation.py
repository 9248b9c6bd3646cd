"""Escalation chain: who is told when, retries with back-off, failures recorded, cancelled by an assignment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from opsdesk_shared.contracts import SlaBreachedV1
from sla_monitor import escalation, notify
from sla_monitor.adapters.memory import MemoryNotificationStore, RecordingSender
from sla_monitor.escalation import EscalationLevel

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
CHAIN = (
    EscalationLevel(level=1, role="desk_lead", after_minutes=0, emails=("lead@agency.example",)),
    EscalationLevel(level=2, role="project_manager", after_minutes=20, emails=("pm@vendor.example",), webhooks=("http://hooks.example/pm",)),
    EscalationLevel(level=3, role="agency_it_manager", after_minutes=60, emails=("it@agency.example",)),
)


def breach(ticket_id: str = "t-1") -> SlaBreachedV1:
    return SlaBreachedV1(
        ticket_id=ticket_id, timer="response", started_at=T0 - timedelta(hours=1), due_at=T0, breached_at=T0,
        policy="response", calendar="office-hours",
    )


def test_chain_tells_each_level_after_its_delay_on_each_channel() -> None:
    planned = escalation.plan_escalation(breach(), CHAIN, now=T0)
    assert [(n.level, n.channel, n.target, n.due_at - T0) for n in planned] == [
        (1, "email", "lead@agency.example", timedelta(0)),
        (2, "email", "pm@vendor.example", timedelta(minutes=20)),
        (2, "webhook", "http://hooks.example/pm", timedelta(minutes=20)),
        (3, "email", "it@agency.example", timedelta(minutes=60)),
    ]
    assert "t-1" in planned[0].subject and planned[2].payload["event"] == "sla.escalation"
    assert planned[2].payload["ticket_id"] == "t-1" and planned[2].payload["level"] == 2


def test_a_level_without_contacts_notifies_nobody() -> None:
    assert escalation.plan_escalation(breach(), escalation.DEFAULT_CHAIN, now=T0) == []


def test_attempts_retry_with_back_off_then_fail_for_good() -> None:
    n = escalation.plan_escalation(breach(), CHAIN, now=T0)[0]
    first = escalation.after_attempt(n, error="refused", now=T0, max_attempts=3, backoff_s=10)
    assert (first.status, first.attempts, first.due_at) == ("pending", 1, T0 + timedelta(seconds=10))
    second = escalation.after_attempt(first, error="refused", now=T0, max_attempts=3, backoff_s=10)
    assert second.due_at == T0 + timedelta(seconds=20)
    third = escalation.after_attempt(second, error="refused again", now=T0, max_attempts=3, backoff_s=10)
    assert (third.status, third.attempts, third.last_error) == ("failed", 3, "refused again")
    ok = escalation.after_attempt(first, error=None, now=T0, max_attempts=3, backoff_s=10)
    assert (ok.status, ok.sent_at, ok.last_error) == ("sent", T0, None)


async def test_redelivered_breach_plans_nothing_twice_and_only_due_levels_are_sent() -> None:
    store, sender = MemoryNotificationStore(), RecordingSender()
    assert await notify.escalate_breach(breach(), chain=CHAIN, store=store, now=T0) == 4
    assert await notify.escalate_breach(breach(), chain=CHAIN, store=store, now=T0) == 0
    sent = await notify.deliver_due(now=T0, store=store, email=sender, webhook=sender, max_attempts=3, backoff_s=10)
    assert sent == 1 and sender.sent == [("lead@agency.example", planned_subject())]
    sent = await notify.deliver_due(now=T0 + timedelta(minutes=20), store=store, email=sender, webhook=sender, max_attempts=3, backoff_s=10)
    assert sent == 2 and {t for t, _ in sender.sent[1:]} == {"pm@vendor.example", "http://hooks.example/pm"}


def planned_subject() -> str:
    return escalation.plan_escalation(breach(), CHAIN, now=T0)[0].subject


async def test_failed_attempts_are_recorded_and_retried_until_sent() -> None:
    store, sender = MemoryNotificationStore(), RecordingSender(fail=2)
    await notify.escalate_breach(breach(), chain=CHAIN[:1], store=store, now=T0)
    (nid,) = store.by_id
    assert await notify.deliver_due(now=T0, store=store, email=sender, webhook=sender, max_attempts=5, backoff_s=10) == 0
    after_one = await store.get(nid)
    assert after_one is not None and after_one.attempts == 1 and "channel down" in (after_one.last_error or "")
    assert await notify.deliver_due(now=T0 + timedelta(seconds=5), store=store, email=sender, webhook=sender, max_attempts=5, backoff_s=10) == 0
    assert await notify.deliver_due(now=T0 + timedelta(seconds=10), store=store, email=sender, webhook=sender, max_attempts=5, backoff_s=10) == 0
    assert await notify.deliver_due(now=T0 + timedelta(seconds=30), store=store, email=sender, webhook=sender, max_attempts=5, backoff_s=10) == 1
    done = await store.get(nid)
    assert done is not None and (done.status, done.attempts) == ("sent", 3)


async def test_assignment_cancels_the_levels_not_yet_told() -> None:
    store, sender = MemoryNotificationStore(), RecordingSender()
    await notify.escalate_breach(breach(), chain=CHAIN, store=store, now=T0)
    await notify.deliver_due(now=T0, store=store, email=sender, webhook=sender, max_attempts=3, backoff_s=10)
    cancelled = await notify.cancel_escalation("t-1", timers=("response", "dispatch"), chain=CHAIN, store=store)
    assert cancelled == 3
    assert await notify.deliver_due(now=T0 + timedelta(hours=2), store=store, email=sender, webhook=sender, max_attempts=3, backoff_s=10) == 0
    assert sorted(n.status for n in store.by_id.values()) == ["cancelled", "cancelled", "cancelled", "sent"]
