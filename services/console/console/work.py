"""The engineer's work as the phone shows it: assignments in order of urgency and the next step of each (pure).

Dispatch decides who may take which step (its STEP_PARTIES and NEXT_STEPS); this mirrors them only to offer the
buttons, and the API still refuses what does not fit. Confirming execution is the desk's step: the engineer tells the
desk the ETA (a note on the ticket) and the desk confirms it (the contract: within 30 minutes of assignment).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .clock import parse_instant
from .queues import most_urgent_clock

ACTIVE = ("open", "accepted", "confirmed")
SHOWN = (*ACTIVE, "completed")
# Dispatch's NEXT_STEPS for the steps an engineer who holds the assignment may take.
NEXT: dict[str, tuple[str, ...]] = {
    "open": ("accept", "delay", "escalate", "help", "complete"),
    "accepted": ("eta", "delay", "escalate", "help", "complete"),
    "confirmed": ("delay", "escalate", "help", "complete"),
}
# The big button on each card: what the day's next move is in this state.
PRIMARY = {"open": "accept", "accepted": "eta", "confirmed": "complete"}
PRIORITY_RANK = {"P1": 0, "P2": 1, "P3": 2, "P4": 3}
FAR = "9999"


@dataclass(frozen=True)
class Job:
    """One assignment with its ticket's detail (None when the ticket could not be read)."""

    assignment: dict[str, Any]
    ticket: dict[str, Any] | None

    @property
    def number(self) -> str:
        return str(self.assignment.get("ticket_number") or self.assignment.get("ticket_id"))

    @property
    def status(self) -> str:
        return str(self.assignment.get("status", ""))

    @property
    def clock(self) -> dict[str, Any] | None:
        return most_urgent_clock(self.ticket) if self.ticket else None

    @property
    def priority(self) -> str:
        return str((self.ticket or {}).get("priority") or "")

    @property
    def primary(self) -> str | None:
        return PRIMARY.get(self.status)

    @property
    def steps(self) -> tuple[str, ...]:
        return NEXT.get(self.status, ())

    @property
    def secondary(self) -> tuple[str, ...]:
        return tuple(s for s in self.steps if s != self.primary)


def urgency_key(job: Job, now: datetime) -> tuple[int, int, str, int, str]:
    """Work waiting for the engineer before work done; overdue first, then the clock due first, the higher
    priority, the older assignment."""
    waiting = 0 if job.status in ACTIVE else 1
    overdue = 0 if job.assignment.get("overdue") else 1
    clock = job.clock
    due = parse_instant((clock or {}).get("due_at"))
    breached = 0 if due is not None and due <= now else 1
    due_key = due.isoformat() if due is not None else FAR
    return (waiting, min(overdue, breached), due_key, PRIORITY_RANK.get(job.priority, 9), str(job.assignment.get("assigned_at", "")))


def in_order(jobs: list[Job], now: datetime) -> list[Job]:
    return sorted(jobs, key=lambda j: urgency_key(j, now))


def location(asset: dict[str, Any] | None, ticket: dict[str, Any] | None) -> dict[str, str]:
    """Where to go: the asset's building, floor and room, and the ticket's site (empty when unknown)."""
    where = (asset or {}).get("location") or {}
    out = {k: str(where.get(k) or "") for k in ("building", "floor", "room")}
    out["site"] = str((ticket or {}).get("site") or "")
    return out
