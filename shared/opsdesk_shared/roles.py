"""The roles people have in Opsdesk, in one place: every service decides on these names and these groups.

The operations team (an outsourced team) works for a government agency's information centre. The team: the desk
(agent, manager, admin) runs the lifecycle, engineers do the work they hold, auditors read everything and change
nothing. The agency (信息中心管理人员, role `agency`) holds the reins (contract 1.3.1): it reads everything about its
service (tickets, assignments, clocks, reports, assets, engineers' work) and writes nothing of the team's records
except its own decisions (authorizations of work, sign-offs, replacement requests). Requesters are the agency's
staff reporting problems; they see their own and their department's tickets. Another service calling as itself has
role `service` (opsdesk_shared.internal_auth); it is no person's role and no user is given it.
"""

from __future__ import annotations

from typing import Literal, get_args

Role = Literal["requester", "agent", "engineer", "manager", "auditor", "agency", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
SERVICE_ROLE = "service"

AGENCY_ROLE: Role = "agency"
AUDITOR_ROLE: Role = "auditor"
ENGINEER_ROLE: Role = "engineer"
REQUESTER_ROLE: Role = "requester"

# The desk runs the queue and the ticket lifecycle.
DESK_ROLES: frozenset[str] = frozenset({"agent", "manager", "admin"})
# The outsourced operations team (the desk, engineers, auditors).
TEAM_ROLES: frozenset[str] = DESK_ROLES | {ENGINEER_ROLE, AUDITOR_ROLE}
# Read everything and change none of the team's records (the agency only decides what is its own to decide).
READ_ONLY_ROLES: frozenset[str] = frozenset({AUDITOR_ROLE, AGENCY_ROLE})
# Who reads everything (every ticket, assignment, clock, report, asset): the desk, auditors and the agency.
READ_EVERYTHING: frozenset[str] = DESK_ROLES | READ_ONLY_ROLES
# Who may read behind the gateway at all (services' data other than the knowledge base): the team and the agency.
STAFF_ROLES: frozenset[str] = TEAM_ROLES | {AGENCY_ROLE}


def reads_everything(role: str) -> bool:
    """The role reads every ticket's data (engineers only what they hold; requesters their own)."""
    return role in READ_EVERYTHING


def read_only(role: str) -> bool:
    """Auditors and the agency change nothing of the team's records."""
    return role in READ_ONLY_ROLES
