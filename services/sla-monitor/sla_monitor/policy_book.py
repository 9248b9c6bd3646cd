"""SLA policies and escalation contacts as an administrator edits them: pure rules, no I/O (issue 16).

The contract's clocks (response in 60 business minutes, confirmation in 30, ...) and who is told of a breach used to
come from the environment only (`SLA_POLICIES`, `SLA_SERVICE_POLICIES`, `SLA_ESCALATION`). Now they are stored
documents with a version and a history of who changed them when; the environment seeds them while nothing is stored
(version 0, `source` "settings"). The first save stores version 1, and from then on the stored value wins.

A changed policy applies to clocks started after the change: a running clock keeps the business minutes, calendar
and due time it was planned with (a `Timer` carries them), so changing the rule never moves a deadline already given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .domain import DEFAULT_POLICIES, PROGRESS_WORKING_DAYS, TimerPolicy
from .escalation import EscalationLevel

Kind = Literal["policies", "escalation-contacts"]
POLICIES: Kind = "policies"
CONTACTS: Kind = "escalation-contacts"
# The clocks this service runs under a policy (the repair clocks follow fixed contract rules in calendar.py).
CLOCKS: tuple[str, ...] = tuple(DEFAULT_POLICIES)
# No clock in the contract runs longer than a month of business time; a larger figure is a typo.
MAX_MINUTES = 60 * 24 * 31
# How many changes each document keeps (who, when, what it became); older ones fall off.
HISTORY_KEPT = 100
# "<service code>:<priority>", either side "*" for any; no dots or dollars (they cannot be document keys).
OVERRIDE_KEY = re.compile(r"^(\*|[A-Za-z0-9_-]{1,40}):(\*|P[1-4])$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ClockPolicy(BaseModel):
    """One clock's promise: so many business minutes in a calendar, warned at a share of it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    calendar: str = Field(min_length=1, max_length=60, examples=["office-hours"])
    business_minutes: float = Field(gt=0, le=MAX_MINUTES, examples=[60])
    warn_ratio: float = Field(default=0.8, gt=0, lt=1, description="The warning (sla.warning) comes at this share of the time")


class ClockOverride(BaseModel):
    """A clock's promise for one service and/or priority: the fields given replace the clock's own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    calendar: str | None = Field(default=None, min_length=1, max_length=60)
    business_minutes: float | None = Field(default=None, gt=0, le=MAX_MINUTES)
    warn_ratio: float | None = Field(default=None, gt=0, lt=1)


class PolicySet(BaseModel):
    """Every clock's policy, and overrides keyed "<service>:<priority>" ("*" for any; the most specific key wins)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    clocks: dict[str, ClockPolicy]
    overrides: dict[str, dict[str, ClockOverride]] = Field(default_factory=dict)
    repair_progress_working_days: int = Field(
        default=PROGRESS_WORKING_DAYS, ge=1, le=30,
        description="A vendor's written progress report is due by close of business of this working day after the last",
    )

    def timer_policies(self) -> dict[str, TimerPolicy]:
        return {name: TimerPolicy(name=name, **clock.model_dump()) for name, clock in self.clocks.items()}

    def policy_for(self, name: str, *, service_code: str, priority: str) -> TimerPolicy:
        """The policy a ticket of this service and priority runs for clock `name`: service and priority, then
        service, then priority, then the clock's own."""
        base = self.clocks[name].model_dump()
        for key in (f"{service_code}:{priority}", f"{service_code}:*", f"*:{priority}"):
            override = self.overrides.get(key, {}).get(name)
            if override is not None:
                return TimerPolicy(name=name, **{**base, **override.model_dump(exclude_none=True)})
        return TimerPolicy(name=name, **base)


class ContactSet(BaseModel):
    """The escalation chain: who is told of a breach, after how long, on which channels."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    levels: tuple[EscalationLevel, ...]


class Change(BaseModel):
    """One saved change: who (the verified caller), when, and the version it made."""

    model_config = ConfigDict(frozen=True)

    version: int
    by: str
    role: str
    at: datetime
    value: dict[str, Any] = Field(description="What it became (as GET returned it afterwards)")


class Stored(BaseModel):
    """One stored document: the current value of a kind, its version and its history (newest last)."""

    model_config = ConfigDict(frozen=True)

    kind: Kind
    version: int = Field(ge=0)
    value: dict[str, Any]
    history: tuple[Change, ...] = ()

    @property
    def source(self) -> str:
        return "settings" if self.version == 0 else "stored"


def seed(kind: Kind, value: PolicySet | ContactSet) -> Stored:
    """What the environment says while nothing is stored: version 0."""
    return Stored(kind=kind, version=0, value=value.model_dump(mode="json"))


class Problem(BaseModel):
    """One refused field: where, and why (in the caller's language at the edge)."""

    model_config = ConfigDict(frozen=True)

    loc: tuple[str | int, ...]
    reason: str
    params: dict[str, Any] = Field(default_factory=dict)


def check_policies(policies: PolicySet, *, calendars: Iterable[str]) -> list[Problem]:
    """What pydantic cannot see: every clock named once, no unknown clock, calendars that exist, sane override keys."""
    known = sorted(calendars)
    problems = [Problem(loc=("clocks", name), reason="unknown_clock", params={"name": name, "allowed": ", ".join(CLOCKS)})
                for name in policies.clocks if name not in CLOCKS]
    problems += [Problem(loc=("clocks", name), reason="missing_clock", params={"name": name})
                 for name in CLOCKS if name not in policies.clocks]
    for name, clock in policies.clocks.items():
        if clock.calendar not in known:
            problems.append(Problem(loc=("clocks", name, "calendar"), reason="unknown_calendar",
                                    params={"name": clock.calendar, "allowed": ", ".join(known)}))
    for key, clocks in policies.overrides.items():
        if not OVERRIDE_KEY.fullmatch(key):
            problems.append(Problem(loc=("overrides", key), reason="bad_override_key", params={"key": key}))
        for name, override in clocks.items():
            if name not in CLOCKS:
                problems.append(Problem(loc=("overrides", key, name), reason="unknown_clock",
                                        params={"name": name, "allowed": ", ".join(CLOCKS)}))
            elif override.calendar is not None and override.calendar not in known:
                problems.append(Problem(loc=("overrides", key, name, "calendar"), reason="unknown_calendar",
                                        params={"name": override.calendar, "allowed": ", ".join(known)}))
    return problems


def check_contacts(contacts: ContactSet, *, channels: Iterable[str]) -> list[Problem]:
    """Levels numbered 1, 2, ... in order, real-looking addresses, http(s) webhooks, configured channels only."""
    known = sorted(channels)
    problems: list[Problem] = []
    for index, level in enumerate(contacts.levels):
        if level.level != index + 1:
            problems.append(Problem(loc=("levels", index, "level"), reason="level_order", params={"expected": index + 1}))
        if index and level.after_minutes < contacts.levels[index - 1].after_minutes:
            problems.append(Problem(loc=("levels", index, "after_minutes"), reason="after_order",
                                    params={"before": contacts.levels[index - 1].after_minutes}))
        if not level.role.strip():
            problems.append(Problem(loc=("levels", index, "role"), reason="empty_role"))
        for n, email in enumerate(level.emails):
            if not EMAIL.fullmatch(email):
                problems.append(Problem(loc=("levels", index, "emails", n), reason="bad_email", params={"value": email}))
        for n, url in enumerate(level.webhooks):
            if not re.fullmatch(r"https?://[^\s/]+\S*", url):
                problems.append(Problem(loc=("levels", index, "webhooks", n), reason="bad_webhook", params={"value": url}))
        for n, channel in enumerate(level.channels):
            if channel not in known:
                problems.append(Problem(loc=("levels", index, "channels", n), reason="unknown_channel",
                                        params={"name": channel, "allowed": ", ".join(known) or "-"}))
    return problems


class Stale(Exception):
    """The edit started from a version that is no longer the stored one (a 412 with the current version)."""

    def __init__(self, current: int) -> None:
        super().__init__(f"changed since; now version {current}")
        self.current = current


def change(current: Stored, value: PolicySet | ContactSet, *, expected: int | None, by: str, role: str, at: datetime) -> Stored:
    """The next stored document: the new value, the version after, and a history line saying who and when. An edit
    that names a version must start from the current one (`Stale` otherwise); none named means the current one."""
    if expected is not None and expected != current.version:
        raise Stale(current.version)
    dumped = value.model_dump(mode="json")
    version = current.version + 1
    before = current.history
    if current.version == 0:
        # The environment's value is the first line, so what was in force before the first save stays on record.
        before = (Change(version=0, by="environment", role="settings", at=at, value=current.value),)
    line = Change(version=version, by=by, role=role, at=at, value=dumped)
    return Stored(kind=current.kind, version=version, value=dumped, history=(*before, line)[-HISTORY_KEPT:])


def every_level(stored: Stored) -> tuple[EscalationLevel, ...]:
    """The current chain and every earlier one still in the history: an assignment cancels escalations a breach
    planned under an earlier chain too (their ids are made from the targets of the chain they were planned by)."""
    seen: dict[str, EscalationLevel] = {}
    for value in [*(c.value for c in stored.history), stored.value]:
        for level in ContactSet.model_validate(value).levels:
            seen.setdefault(level.model_dump_json(), level)
    return tuple(seen.values())


def policy_value(stored: Stored) -> PolicySet:
    return PolicySet.model_validate(stored.value)


def contact_value(stored: Stored) -> ContactSet:
    return ContactSet.model_validate(stored.value)


def settings_policies(policies: Mapping[str, TimerPolicy], overrides: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> PolicySet:
    """The environment's policies (SLA_POLICIES over the defaults, SLA_SERVICE_POLICIES) as a PolicySet."""
    return PolicySet(
        clocks={name: ClockPolicy(**p.model_dump(exclude={"name"})) for name, p in policies.items()},
        overrides={key: {name: ClockOverride(**{k: v for k, v in fields.items() if k != "name"}) for name, fields in clocks.items()}
                   for key, clocks in overrides.items()},
    )
