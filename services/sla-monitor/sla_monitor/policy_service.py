"""Use cases for the SLA policies and escalation contacts an administrator edits (issue 16), and the holder the bus
handlers read them from. The rules are in policy_book.py; the store is a port (PolicyStore)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from . import policy_book
from .domain import TimerPolicy
from .escalation import EscalationLevel
from .policy_book import CONTACTS, POLICIES, ContactSet, Kind, PolicySet, Stale, Stored


class PolicyStore(Protocol):
    """The administrator's SLA policies and escalation contacts: one document per kind, with its history
    (adapters/policy_stores.py)."""

    async def get(self, kind: Kind) -> Stored | None: ...
    async def put(self, stored: Stored, *, expect: int) -> bool:
        """Write `stored` if the stored version is still `expect` (0: nothing stored yet); False when it is not."""
        ...


class PolicyHolder:
    """What the clocks and escalations run on now, swapped whole when an administrator saves (or a reload finds a
    newer version another replica saved). Seeds are the environment's values, used while nothing is stored."""

    def __init__(self, *, policies: PolicySet, contacts: ContactSet) -> None:
        self.seeds: dict[Kind, Stored] = {POLICIES: policy_book.seed(POLICIES, policies), CONTACTS: policy_book.seed(CONTACTS, contacts)}
        self.current: dict[Kind, Stored] = dict(self.seeds)
        self._apply()

    def _apply(self) -> None:
        self.policies = policy_book.policy_value(self.current[POLICIES])
        self.timer_policies = self.policies.timer_policies()
        self.chain: tuple[EscalationLevel, ...] = policy_book.contact_value(self.current[CONTACTS]).levels
        self.cancellable: tuple[EscalationLevel, ...] = policy_book.every_level(self.current[CONTACTS])

    def take(self, stored: Stored) -> None:
        """Use `stored` unless what is held is newer (a reload racing a save)."""
        if stored.version >= self.current[stored.kind].version:
            self.current[stored.kind] = stored
            self._apply()

    def policy_for(self, name: str, *, service_code: str, priority: str) -> TimerPolicy:
        return self.policies.policy_for(name, service_code=service_code, priority=priority)

    def timer_policy(self, name: str) -> TimerPolicy:
        return self.timer_policies[name]


async def reload(*, store: PolicyStore, holder: PolicyHolder) -> None:
    """Take what is stored (at start-up, and every minute: another replica may have saved)."""
    for kind in (POLICIES, CONTACTS):
        stored = await store.get(kind)
        if stored is not None:
            holder.take(stored)


async def read(kind: Kind, *, store: PolicyStore, holder: PolicyHolder) -> Stored:
    """The stored document, or the environment's seed (version 0) while nothing is stored."""
    stored = await store.get(kind)
    if stored is None:
        return holder.seeds[kind]
    holder.take(stored)
    return stored


async def save(
    value: PolicySet | ContactSet, *, kind: Kind, expected: int | None, by: str, role: str, at: datetime,
    store: PolicyStore, holder: PolicyHolder,
) -> Stored:
    """Store the new value (one conditional write), record who and when, and use it for clocks started from now.
    `Stale` when the edit started from an older version, or another save won the write."""
    current = await read(kind, store=store, holder=holder)
    changed = policy_book.change(current, value, expected=expected, by=by, role=role, at=at)
    if not await store.put(changed, expect=current.version):
        latest = await store.get(kind)
        raise Stale(latest.version if latest is not None else 0)
    holder.take(changed)
    return changed
