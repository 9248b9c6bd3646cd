"""Who may read which report or form: the desk's ticket visibility, applied to reporting's own copy of the tickets.

Requesters see their own tickets and their department's, engineers the tickets they hold (the latest assignment),
the rest of the team (agent, manager, auditor, admin) and other services every ticket. A form or report about one
ticket the caller may not see is answered as if it did not exist (404), so ticket ids cannot be probed. Reports over
a period are the team's (engineers included); generating and rebuilding are for managers and admins.

Pure: the caller and the documents in, a yes or no out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsdesk_shared.hanzi import same_text

if TYPE_CHECKING:
    from opsdesk_shared.internal_auth import Caller

Document = dict[str, Any]

# The agency (信息中心, role `agency`) reads everything about its service, reports included (issue 16).
AGENCY = "agency"
TEAM_WIDE = frozenset({"agent", "manager", "auditor", "admin", AGENCY})
STAFF = TEAM_WIDE | {"engineer"}
MANAGERS = frozenset({"manager", "admin"})
INCIDENT_REPORT = "major-incident"


def sees_every_ticket(caller: Caller) -> bool:
    return caller.role in TEAM_WIDE or caller.is_service


def may_see_ticket(caller: Caller, ticket: Document) -> bool:
    if sees_every_ticket(caller):
        return True
    if caller.role == "engineer":
        # The engineer link in the token, never the user name: a user is not an engineer by having an engineer's id.
        return bool(caller.engineer_id) and ticket.get("engineer_id") == caller.engineer_id
    if caller.role == "requester":
        own = ticket.get("requester_id") is not None and ticket.get("requester_id") == caller.subject
        # Script-folded, as intake's visibility: an account of 财务科 sees its department's tickets written 財務科.
        department = same_text(caller.department, ticket.get("department"))
        return own or department
    return False


def may_see_form(caller: Caller, *, collection: str, doc: Document, ticket: Document | None) -> bool:
    """A ticket's form follows the ticket; a repair form follows the ticket it was opened for (it prints the requester
    and department), and without one it is the team's, like an inspection form."""
    if collection == "tickets":
        return may_see_ticket(caller, doc)
    if ticket is not None:
        return may_see_ticket(caller, ticket)
    return caller.is_staff


def incident_ticket_id(report: Document) -> str | None:
    """The ticket a stored major-incident report is about (its period is the ticket id)."""
    if report.get("kind") != INCIDENT_REPORT:
        return None
    figures = report.get("figures")
    ticket_id = figures.get("ticket_id") if isinstance(figures, dict) else None
    return str(ticket_id or report.get("period") or "") or None


def may_see_report(caller: Caller, report: Document, *, ticket: Document | None) -> bool:
    """A major-incident report follows its ticket; a period's report is the team's."""
    if report.get("kind") == INCIDENT_REPORT:
        if sees_every_ticket(caller):
            return True
        return ticket is not None and may_see_ticket(caller, ticket)
    return caller.is_staff or caller.role == AGENCY
