"""SLA policies and escalation contacts an administrator edits (issue 16): the pure rules in policy_book and the holder
the bus handlers read from."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sla_monitor import policy_book
from sla_monitor.escalation import EscalationLevel
from sla_monitor.policy_book import CONTACTS, POLICIES, ClockOverride, ClockPolicy, ContactSet, PolicySet, Stale
from sla_monitor.policy_service import PolicyHolder
from sla_monitor.settings import SlaSettings

AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CALENDARS = ("office-hours", "24x7")


def reasons(problems: list[policy_book.Problem]) -> list[tuple[tuple[str | int, ...], str]]:
    return [(p.loc, p.reason) for p in problems]


def test_the_environment_seeds_every_clock_with_its_overrides() -> None:
    settings = SlaSettings(policies={"response": {"business_minutes": 45}}, service_policies={"*:P1": {"response": {"business_minutes": 30}}})
    policies = settings.policy_set()
    assert set(policies.clocks) == set(policy_book.CLOCKS)
    assert policies.clocks["response"] == ClockPolicy(calendar="office-hours", business_minutes=45)
    assert policies.clocks["authorization"].business_minutes == 240  # SLA_AUTHORIZATION_WORKING_HOURS 4
    assert policies.overrides == {"*:P1": {"response": ClockOverride(business_minutes=30)}}


def test_the_most_specific_override_wins_like_the_settings_did() -> None:
    overrides = {"RS-SPARE:P1": {"response": {"business_minutes": 15}}, "RS-SPARE:*": {"response": {"business_minutes": 45}},
                 "*:P1": {"response": {"business_minutes": 30, "calendar": "24x7"}}}
    settings = SlaSettings(service_policies=overrides)
    policies = settings.policy_set()
    for service, priority in (("RS-SPARE", "P1"), ("RS-SPARE", "P3"), ("RS-REPAIR", "P1"), ("RS-REPAIR", "P3")):
        assert policies.policy_for("response", service_code=service, priority=priority) == settings.policy_for(
            "response", service_code=service, priority=priority)
    assert policies.policy_for("response", service_code="RS-REPAIR", priority="P1").calendar == "24x7"
    assert policies.policy_for("dispatch", service_code="RS-SPARE", priority="P1").business_minutes == 10


def test_an_unknown_or_missing_clock_and_an_unknown_calendar_are_named() -> None:
    clocks = SlaSettings().policy_set().clocks
    edited = {**{k: v for k, v in clocks.items() if k != "redispatch"}, "lunch": ClockPolicy(calendar="office-hours", business_minutes=5),
              "response": ClockPolicy(calendar="weekends", business_minutes=60)}
    found = reasons(policy_book.check_policies(PolicySet(clocks=edited), calendars=CALENDARS))
    assert (("clocks", "lunch"), "unknown_clock") in found
    assert (("clocks", "redispatch"), "missing_clock") in found
    assert (("clocks", "response", "calendar"), "unknown_calendar") in found


def test_override_keys_must_name_a_service_and_a_priority_without_dots() -> None:
    clocks = SlaSettings().policy_set().clocks
    overrides = {"RS.SPARE:P1": {"response": ClockOverride(business_minutes=5)}, "*:P9": {}, "RS-SPARE:*": {"nap": ClockOverride()}}
    found = reasons(policy_book.check_policies(PolicySet(clocks=clocks, overrides=overrides), calendars=CALENDARS))
    assert found == [(("overrides", "RS.SPARE:P1"), "bad_override_key"), (("overrides", "*:P9"), "bad_override_key"),
                     (("overrides", "RS-SPARE:*", "nap"), "unknown_clock")]


def test_negative_minutes_are_refused_by_the_model() -> None:
    with pytest.raises(ValueError, match="greater than 0"):
        ClockPolicy(calendar="office-hours", business_minutes=-5)


def test_contacts_need_ordered_levels_real_addresses_and_configured_channels() -> None:
    contacts = ContactSet(levels=(
        EscalationLevel(level=1, role="desk_lead", after_minutes=10, emails=("lead@example.cn", "not-an-address")),
        EscalationLevel(level=3, role="project_manager", after_minutes=5, webhooks=("ftp://x",), channels=("desk-wecom", "pm-sms")),
    ))
    found = reasons(policy_book.check_contacts(contacts, channels=("desk-wecom",)))
    assert found == [
        (("levels", 0, "emails", 1), "bad_email"), (("levels", 1, "level"), "level_order"),
        (("levels", 1, "after_minutes"), "after_order"), (("levels", 1, "webhooks", 0), "bad_webhook"),
        (("levels", 1, "channels", 1), "unknown_channel"),
    ]
    assert policy_book.check_contacts(SlaSettings().contact_set(), channels=()) == []


def test_a_change_counts_the_version_and_keeps_who_and_when_with_the_environments_value_first() -> None:
    seed = policy_book.seed(POLICIES, SlaSettings().policy_set())
    edited = SlaSettings(policies={"response": {"business_minutes": 45}}).policy_set()
    first = policy_book.change(seed, edited, expected=0, by="wang.admin", role="admin", at=AT)
    assert (first.version, first.source) == (1, "stored")
    assert [(c.version, c.by) for c in first.history] == [(0, "environment"), (1, "wang.admin")]
    assert first.history[0].value == seed.value and first.history[1].value["clocks"]["response"]["business_minutes"] == 45
    second = policy_book.change(first, seed_value := SlaSettings().policy_set(), expected=None, by="li.admin", role="admin", at=AT)
    assert second.version == 2 and policy_book.policy_value(second) == seed_value
    with pytest.raises(Stale) as stale:
        policy_book.change(second, edited, expected=1, by="wang.admin", role="admin", at=AT)
    assert stale.value.current == 2


def test_history_keeps_the_latest_changes_only() -> None:
    stored = policy_book.seed(CONTACTS, SlaSettings().contact_set())
    for _ in range(policy_book.HISTORY_KEPT + 5):
        stored = policy_book.change(stored, SlaSettings().contact_set(), expected=None, by="a", role="admin", at=AT)
    assert len(stored.history) == policy_book.HISTORY_KEPT
    assert stored.history[-1].version == policy_book.HISTORY_KEPT + 5


def test_an_assignment_cancels_what_an_earlier_chain_planned_too() -> None:
    old = ContactSet(levels=(EscalationLevel(level=1, role="desk_lead", after_minutes=0, emails=("old@example.cn",)),))
    new = ContactSet(levels=(EscalationLevel(level=1, role="desk_lead", after_minutes=0, emails=("new@example.cn",)),))
    holder = PolicyHolder(policies=SlaSettings().policy_set(), contacts=old)
    holder.take(policy_book.change(holder.current[CONTACTS], new, expected=0, by="a", role="admin", at=AT))
    assert [lvl.emails for lvl in holder.chain] == [("new@example.cn",)]
    assert {e for lvl in holder.cancellable for e in lvl.emails} == {"old@example.cn", "new@example.cn"}


def test_the_holder_keeps_the_newer_version_when_a_reload_races_a_save() -> None:
    settings = SlaSettings()
    holder = PolicyHolder(policies=settings.policy_set(), contacts=settings.contact_set())
    one = policy_book.change(holder.current[POLICIES], SlaSettings(policies={"response": {"business_minutes": 45}}).policy_set(),
                             expected=0, by="a", role="admin", at=AT)
    two = policy_book.change(one, SlaSettings(policies={"response": {"business_minutes": 30}}).policy_set(),
                             expected=1, by="a", role="admin", at=AT)
    holder.take(two)
    holder.take(one)  # an older read arriving late changes nothing
    assert holder.timer_policy("response").business_minutes == 30
    assert holder.policy_for("response", service_code="RS-REPAIR", priority="P3").business_minutes == 30


async def test_the_vendor_report_interval_is_a_policy_too() -> None:
    """Sent on Monday 10:00: by Thursday 17:30 (3rd working day) by default; by the following Monday with 5."""
    from zoneinfo import ZoneInfo

    from opsdesk_shared.contracts import RepairUpdatedV1
    from sla_monitor import calendar_service, domain, service
    from sla_monitor.adapters.memory import MemoryCalendarStore, MemoryTimerStore

    book = await calendar_service.load_book(MemoryCalendarStore())
    sent = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert SlaSettings().policy_set().repair_progress_working_days == 3
    dues = []
    for days in (3, 5):
        store = MemoryTimerStore()
        update = RepairUpdatedV1(repair_id="r-1", asset_tag="GZ-2026-000001", status="sent_to_vendor", ticket_id="t-1", updated_at=sent)
        assert await service.on_repair_updated(update, book=book, store=store, progress_working_days=days) == "started"
        timer = await store.get(domain.timer_key("r-1", domain.REPAIR_PROGRESS))
        assert timer is not None and timer.due_at is not None
        dues.append(timer.due_at.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat())
    assert dues == ["2026-11-26", "2026-11-30"]
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        PolicySet(clocks=SlaSettings().policy_set().clocks, repair_progress_working_days=0)
