"""Choosing an engineer: pure rules over the roster, no I/O."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from opsdesk_shared.contracts import TicketAssignedV1, TicketCreatedV1

Role = Literal["onsite", "mobile", "senior", "project_manager"]
EngineerStatus = Literal["available", "busy", "off_duty", "on_leave"]
# Only field engineers take tickets automatically; seniors and the PM are escalation targets.
DISPATCHABLE: tuple[Role, ...] = ("onsite", "mobile")

# Which skill a catalog service needs; unknown services need none in particular.
SERVICE_SKILL = {
    "RS-INTAKE": "desktop",
    "RS-ONSITE": "desktop",
    "RS-SPARE": "desktop",
    "RS-REPAIR": "printer",
    "RS-VENDOR": "printer",
    "RS-OTHER": "application",
}


class Engineer(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    role: Role
    # Defaulted because FerretDB v1 drops an empty array written by $setOnInsert.
    skills: tuple[str, ...] = ()
    status: EngineerStatus = "available"
    open_load: int = 0
    capacity: int = 8


class Assignment(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    ticket_id: str
    ticket_number: str
    engineer_id: str
    engineer_name: str
    reason: str
    score: float
    assigned_at: datetime
    status: Literal["open"] = "open"


class NoEngineerAvailable(Exception):
    """Nobody on the roster can take the ticket now."""


def score(engineer: Engineer, *, skill: str | None) -> float:
    """Higher is better: a skill match outweighs load. A full engineer scores below zero, by how overloaded."""
    if engineer.open_load >= engineer.capacity:
        return -engineer.open_load / engineer.capacity
    skill_points = 10.0 if skill is None or skill in engineer.skills else 0.0
    load_points = 5.0 * (1 - engineer.open_load / engineer.capacity)
    mobile_penalty = 0.5 if engineer.role == "mobile" else 0.0  # the mobile engineer is the reserve
    return skill_points + load_points - mobile_penalty


def choose_engineer(ticket: TicketCreatedV1, roster: list[Engineer]) -> tuple[Engineer, float, str]:
    skill = SERVICE_SKILL.get(ticket.service_code)
    candidates = [e for e in roster if e.role in DISPATCHABLE and e.status == "available"]
    ranked = sorted(((score(e, skill=skill), e) for e in candidates), key=lambda pair: (-pair[0], pair[1].id))
    if not ranked:
        raise NoEngineerAvailable(f"no available engineer for {ticket.service_code}")
    # When everyone is full the ticket still goes to the least overloaded engineer: the contract's clock is running,
    # and an unassigned ticket helps nobody; the reason says so for the desk to see.
    best_score, best = ranked[0]
    matched = "skill match" if skill is None or skill in best.skills else "no skill match"
    reason = f"{matched} ({skill or 'any'}), load {best.open_load}/{best.capacity}, role {best.role}, score {best_score:.2f}"
    if best_score < 0:
        reason = "over capacity: every available engineer is full; " + reason
    return best, best_score, reason


def assign(ticket: TicketCreatedV1, roster: list[Engineer], *, now: datetime) -> tuple[Assignment, TicketAssignedV1]:
    engineer, best_score, reason = choose_engineer(ticket, roster)
    assignment = Assignment(
        id=str(uuid.uuid4()),
        ticket_id=ticket.ticket_id,
        ticket_number=ticket.number,
        engineer_id=engineer.id,
        engineer_name=engineer.name,
        reason=reason,
        score=best_score,
        assigned_at=now,
    )
    event = TicketAssignedV1(
        ticket_id=ticket.ticket_id,
        assignment_id=assignment.id,
        engineer_id=engineer.id,
        engineer_name=engineer.name,
        reason=reason,
        assigned_at=now,
    )
    return assignment, event


DEMO_ROSTER: tuple[Engineer, ...] = (
    Engineer(id="eng-onsite-1", name="陳志強", role="onsite", skills=("desktop", "printer", "network")),
    Engineer(id="eng-onsite-2", name="李嘉欣", role="onsite", skills=("desktop", "application", "printer")),
    Engineer(id="eng-mobile-1", name="黃偉明", role="mobile", skills=("desktop", "network", "server")),
    Engineer(id="eng-senior-1", name="張國華", role="senior", skills=("server", "network", "security")),
    Engineer(id="eng-pm-1", name="劉美玲", role="project_manager", skills=()),
)
