"""NATS subject names: the only place they are spelled out."""

TICKET_CREATED = "ticket.created"
TICKET_ASSIGNED = "ticket.assigned"
TICKET_REASSIGNED = "ticket.reassigned"
ASSIGNMENT_ACCEPTED = "assignment.accepted"
ASSIGNMENT_CONFIRMED = "assignment.confirmed"
ASSIGNMENT_DELAYED = "assignment.delayed"
ASSIGNMENT_COMPLETED = "assignment.completed"
ASSIGNMENT_HELP_REQUESTED = "assignment.help_requested"
ASSIGNMENT_REVIEWED = "assignment.reviewed"
ASSIGNMENT_UNASSIGNED = "assignment.unassigned"
ESCALATION_RAISED = "escalation.raised"
ESCALATION_ACKNOWLEDGED = "escalation.acknowledged"
SLA_BREACHED = "sla.breached"
SLA_WARNING = "sla.warning"
REPAIR_UPDATED = "repair.updated"

# Core NATS request/reply (not persisted, so outside every stream's subjects): the gateway asks assets which asset
# a tag names, and the SLA monitor for business-calendar arithmetic.
ASSET_LOOKUP = "asset.lookup"
CALENDAR_QUERY = "calendar.query"
TIMERS_QUERY = "timers.query"

# A message that cannot be handled is republished here with the error, e.g. deadletter.ticket.created.
DEADLETTER_PREFIX = "deadletter"


def deadletter_subject(subject: str) -> str:
    return f"{DEADLETTER_PREFIX}.{subject}"
