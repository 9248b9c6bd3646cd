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
ASSIGNMENT_WITHDRAWN = "assignment.withdrawn"
ESCALATION_RAISED = "escalation.raised"
ESCALATION_ACKNOWLEDGED = "escalation.acknowledged"
SLA_BREACHED = "sla.breached"
SLA_WARNING = "sla.warning"
SLA_TIMER_STOPPED = "sla.timer_stopped"
# A clock cycle started (the SLA monitor decided it runs): reporting counts running clocks from it.
SLA_TIMER_STARTED = "sla.timer_started"
REPAIR_UPDATED = "repair.updated"

# Ticket lifecycle at the service desk (intake).
TICKET_UPDATED = "ticket.updated"
TICKET_STATUS_CHANGED = "ticket.status_changed"
TICKET_RESOLVED = "ticket.resolved"
TICKET_CLOSED = "ticket.closed"
TICKET_REOPENED = "ticket.reopened"
TICKET_SERVICE_RECORD_REVIEWED = "ticket.service_record_reviewed"
# A desk-first ticket leaves the desk: the agent sent it on, or its guidance window ran out; dispatch assigns on it.
TICKET_DISPATCH_REQUESTED = "ticket.dispatch_requested"
# The agency (信息中心) authorized a ticket's work (or a standing authorization covered it): dispatch assigns on it
# when the ticket waited; or declined it (the ticket is cancelled with the agency's note).
TICKET_AUTHORIZED = "ticket.authorized"
TICKET_AUTHORIZATION_DECLINED = "ticket.authorization_declined"

# Acts beyond the agency's authorization (contracts/security.py). Each service detects its own acts and announces
# them in its own family (one publisher per subject): dispatch an engineer's act, assets a CI change or a repair;
# intake records each as a security incident (its own desk acts directly) and announces that.
ASSIGNMENT_VIOLATION_DETECTED = "assignment.violation_detected"
CMDB_VIOLATION_DETECTED = "cmdb.violation_detected"
SECURITY_INCIDENT_RAISED = "security.incident_raised"
# The agency asks for an engineer to be replaced; the project manager answers with a plan (dispatch).
REPLACEMENT_REQUESTED = "replacement.requested"
REPLACEMENT_ANSWERED = "replacement.answered"

# Knowledge base and problem management (knowledge).
KB_ARTICLE_PUBLISHED = "kb.article_published"
KB_SUGGESTED = "kb.suggested"
PROBLEM_CREATED = "problem.created"
PROBLEM_KNOWN_ERROR = "problem.known_error"
PROBLEM_RESOLVED = "problem.resolved"
PROBLEM_ESCALATED = "problem.escalated"

# Configuration management (assets).
CMDB_CI_CHANGED = "cmdb.ci_changed"
CMDB_AUDIT_CLOSED = "cmdb.audit_closed"
CMDB_INSPECTION_RECORDED = "cmdb.inspection_recorded"
CMDB_SPARE_ISSUED = "cmdb.spare_issued"
CMDB_SPARE_ISSUE_REVERSED = "cmdb.spare_issue_reversed"
# Stock parts of an engineer's service record that could not be issued (unknown, out of stock): intake notes them.
CMDB_SPARE_ISSUE_REFUSED = "cmdb.spare_issue_refused"
CMDB_LOANER_CHANGED = "cmdb.loaner_changed"
CMDB_REGISTER_IMPORTED = "cmdb.register_imported"

# Periodic reports (reporting).
REPORT_GENERATED = "report.generated"
REPORT_OVERDUE = "report.overdue"
# Sign-off by the agency: a stored report submitted to it, acknowledged, or returned with comments.
REPORT_SUBMITTED = "report.submitted"
REPORT_ACKNOWLEDGED = "report.acknowledged"
REPORT_RETURNED = "report.returned"

# Core NATS request/reply (not persisted, so outside every stream's subjects): the gateway asks assets which asset
# a tag names, and the SLA monitor for business-calendar arithmetic.
ASSET_LOOKUP = "asset.lookup"
CALENDAR_QUERY = "calendar.query"
TIMERS_QUERY = "timers.query"

# Further request/reply subjects live under this prefix (e.g. rpc.kb.search, rpc.cmdb.impact); no stream captures it.
RPC_PREFIX = "rpc"
RPC_KB_SEARCH = "rpc.kb.search"
RPC_CMDB_IMPACT = "rpc.cmdb.impact"
RPC_CMDB_ASSET_SUMMARY = "rpc.cmdb.asset_summary"
# Reporting asks knowledge for the published articles the maintenance manual collects (knowledge owns articles).
RPC_KB_ARTICLES = "rpc.kb.articles"

# A message that cannot be handled is republished here with the error, e.g. deadletter.ticket.created.
DEADLETTER_PREFIX = "deadletter"


def deadletter_subject(subject: str) -> str:
    return f"{DEADLETTER_PREFIX}.{subject}"
