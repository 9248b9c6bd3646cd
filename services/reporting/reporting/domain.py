"""Which counters an event moves: pure, so the same event always counts the same way, live or on rebuild."""

from __future__ import annotations

import json
from collections import Counter

from opsdesk_shared.contracts import (
    Envelope,
    EscalationRaisedV1,
    EventData,
    RepairUpdatedV1,
    SlaBreachedV1,
    SlaWarningV1,
    TicketAssignedV1,
    TicketCreatedV1,
    TicketReassignedV1,
)

# Counter name -> (help text, label names). Names become reporting_<name>_total in Prometheus.
COUNTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "tickets_created": ("Tickets created, by channel and catalog service", ("channel", "service_code")),
    "tickets_assigned": ("Tickets assigned, by engineer", ("engineer_id",)),
    "tickets_reassigned": ("Tickets moved to another engineer, by who decided", ("by",)),
    "escalations_raised": ("Abnormal events escalated, by kind", ("kind",)),
    "sla_breaches": ("SLA timers that ran out, by timer", ("timer",)),
    "sla_warnings": ("SLA timers that used their warning share, by timer", ("timer",)),
    "repair_updates": ("Repair record changes, by status", ("status",)),
}


def counter_key(name: str, **labels: str) -> str:
    """A flat, storable key: JSON [name, [values in the declared label order]], safe for any label value."""
    return json.dumps([name, [labels[label] for label in COUNTERS[name][1]]], ensure_ascii=False, separators=(",", ":"))


def parse_key(key: str) -> tuple[str, dict[str, str]]:
    name, values = json.loads(key)
    return name, dict(zip(COUNTERS[name][1], values, strict=True))


def counter_keys(envelope: Envelope, data: EventData) -> list[str]:
    if isinstance(data, TicketCreatedV1):
        return [counter_key("tickets_created", channel=data.channel, service_code=data.service_code)]
    if isinstance(data, TicketAssignedV1):
        return [counter_key("tickets_assigned", engineer_id=data.engineer_id)]
    if isinstance(data, TicketReassignedV1):
        return [counter_key("tickets_reassigned", by="dispatch" if data.by == "dispatch" else "desk")]
    if isinstance(data, EscalationRaisedV1):
        return [counter_key("escalations_raised", kind=data.kind)]
    if isinstance(data, SlaBreachedV1):
        return [counter_key("sla_breaches", timer=data.timer)]
    if isinstance(data, SlaWarningV1):
        return [counter_key("sla_warnings", timer=data.timer)]
    if isinstance(data, RepairUpdatedV1):
        return [counter_key("repair_updates", status=data.status)]
    return []


class Tally:
    """Counts per key; rebuilt from the projection at start-up and bumped once per newly recorded event."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def add(self, keys: list[str]) -> None:
        self.counts.update(keys)

    def summary(self) -> dict[str, list[dict[str, object]]]:
        out: dict[str, list[dict[str, object]]] = {name: [] for name in COUNTERS}
        for key, n in sorted(self.counts.items()):
            name, labels = parse_key(key)
            out[name].append({"labels": labels, "count": n})
        return out
