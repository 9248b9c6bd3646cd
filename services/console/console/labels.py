"""Values the API sends that a person reads (states, roles, channels, clocks): marked here so Babel extracts them;
templates translate them with `_(value)`."""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks a message for extraction without translating it here."""
    return message


VALUES = (
    # ticket states
    N_("new"), N_("assigned"), N_("in_progress"), N_("pending"), N_("resolved"), N_("closed"), N_("cancelled"),
    # roles
    N_("requester"), N_("agent"), N_("engineer"), N_("manager"), N_("auditor"), N_("admin"), N_("agency"),
    # waiting for the agency's authorization (issue 16)
    N_("awaiting_authorization"),
    # stored reports: sign-off states and the monthly kinds the dashboard generates
    N_("report.draft"), N_("report.submitted"), N_("report.acknowledged"), N_("report.returned"),
    N_("kind.service-summary"), N_("kind.repair-summary"),
    # security incidents' severity (intake's oversight)
    N_("severity.low"), N_("severity.normal"), N_("severity.high"), N_("severity.major"), N_("severity.critical"),
    # channels
    N_("hotline"), N_("email"), N_("web"), N_("api"), N_("remote_desktop"), N_("walk_in"),
    # catalog families
    N_("responsive"), N_("proactive"), N_("management"), N_("reporting"),
    # impact and urgency
    N_("high"), N_("medium"), N_("low"),
    # SLA clocks
    N_("response"), N_("dispatch"), N_("confirmation"), N_("remote_guidance"), N_("escalation"), N_("redispatch"),
    N_("repair_progress"), N_("repair_return"), N_("authorization"),
    # service record review
    N_("approved"), N_("returned"),
    # engineers
    N_("available"), N_("busy"), N_("off_duty"), N_("on_leave"),
    # queues
    N_("Open"), N_("Held at the desk"), N_("Unassigned"), N_("At risk"), N_("Breached"), N_("Waiting (vendor or requester)"),
    N_("Resolved, awaiting review"),
    # the engineer's phone: assignment states and steps
    N_("assignment.unassigned"), N_("assignment.open"), N_("assignment.accepted"), N_("assignment.confirmed"),
    N_("assignment.completed"), N_("assignment.reviewed"), N_("assignment.withdrawn"),
    N_("step.accept"), N_("step.eta"), N_("step.delay"), N_("step.help"), N_("step.escalate"), N_("step.complete"),
    N_("remote"),
    # the service record's review
    N_("review.pending"), N_("review.approved"), N_("review.returned"),
    # the requester's rating
    N_("rating.1"), N_("rating.2"), N_("rating.3"), N_("rating.4"), N_("rating.5"),
    # codes the administration pages show by name (Ctx.named): calendars, roster roles and duty modes, channel kinds
    N_("calendar.office-hours"), N_("calendar.24x7"), N_("calendar.phone-support"),
    N_("engineer_role.onsite"), N_("engineer_role.mobile"), N_("engineer_role.senior"), N_("engineer_role.project_manager"),
    N_("mode.onsite"), N_("mode.phone"),
    N_("channel_kind.email"), N_("channel_kind.wecom"), N_("channel_kind.dingtalk"), N_("channel_kind.sms"), N_("channel_kind.webhook"),
    # the catalog editor's facts (Ctx.named): SLA profiles, ticket types, cadences (walk 6a: shown as codes)
    N_("sla_profile.responsive"), N_("sla_profile.scheduled"), N_("sla_profile.project"),
    N_("ticket_type.incident"), N_("ticket_type.service_request"), N_("ticket_type.repair"), N_("ticket_type.task"),
    N_("cadence.as_built"), N_("cadence.monthly"), N_("cadence.on_demand"), N_("cadence.once"), N_("cadence.per_incident"),
    N_("cadence.per_plan"), N_("cadence.periodic"), N_("cadence.quarterly"), N_("cadence.weekly"),
    # asset types (the assets API names them in zh-CN only, whatever the reader's language)
    N_("asset_type.application"), N_("asset_type.business_service"), N_("asset_type.copier"), N_("asset_type.desktop"),
    N_("asset_type.laptop"), N_("asset_type.monitor"), N_("asset_type.network_device"), N_("asset_type.phone"),
    N_("asset_type.printer"), N_("asset_type.projector"), N_("asset_type.scanner"), N_("asset_type.server"),
    N_("asset_type.software_licence"), N_("asset_type.storage"), N_("asset_type.video_conference"),
    # a notification record's state (the SLA monitor's outbox)
    N_("notification_status.pending"), N_("notification_status.sent"), N_("notification_status.failed"),
    N_("notification_status.cancelled"),
    # errors raised by the pages
    N_("CSRF token missing or wrong; reload the page"), N_("no such ticket"), N_("no such action"), N_("Not Found"),
)
