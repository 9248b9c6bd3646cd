"""Who may say what on NATS: one user per service, allowed only the subjects it owns, consumes and asks.

The table below is read off the code (each service's `entrypoints/bus.py`, its use cases' events and its NATS
adapters); it is the single source from which `make run`, the test fixtures and the deploy files render the
nats-server configuration (`opsdesk_devstack.natsconf`). A service that publishes a subject it does not own, pulls
from another service's consumer or subscribes to events outside its consumers is refused by the server.

What each permission is for:
- `publishes`: the events the service owns. A JetStream publish is a plain core publish to the event's subject
  (JetStream only captures it), so `$JS.API` rights never let a service publish into another's subject.
- `consumes`: (filter subject, durable) pairs. The service may create exactly these durable consumers
  (`$JS.API.CONSUMER.CREATE.<stream>.<durable>.<filter>`, the filter is part of the permission), read their info,
  pull from them (`MSG.NEXT`) and ack their messages (`$JS.ACK.<stream>.<durable>.>`), and dead-letter what they
  deliver (`deadletter.<filter>`). It cannot pull another service's consumer or make one over other subjects.
- `requests`: core request/reply subjects it asks; `answers`: the ones it serves (it may reply once to a request's
  reply subject, `allow_responses`, and to nothing else).
- `listens`: plain core subscriptions (intake's search index hears every ticket event).
- `follows`: reads the events stream live through ordered consumers of its own (unnamed, ephemeral, push, no acks;
  the gateway's event stream for its callers): it may create such consumers on OPSDESK_EVENTS and answer their flow
  control (`$JS.FC.OPSDESK_EVENTS.>`), nothing else. An unnamed create cannot make or bind a durable.
- Replies come back to a per-user inbox prefix (`_INBOX_<user>`), so no service can read another's replies or the
  messages another service pulls (a pull batch is delivered to the puller's inbox).
- Streams: every service declares both Opsdesk streams at start-up (`declare_streams`), so it may create, update
  and read the info of those two streams only; no delete, purge, message get/delete or other streams.
  Residual risk, stated plainly: a stolen service credential can change the two streams' settings (say, shorten
  retention). Moving stream declaration to a deploy-time job would close that; it is not done yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .contracts import subjects as s

EVENTS_STREAM = "OPSDESK_EVENTS"  # spelled as in bus.py, which imports FastStream; this module stays dependency-free
DEADLETTER_STREAM = "OPSDESK_DEADLETTER"
# Dead letters an operator replays after a fix (deadletters.py): `replay.<service>.<durable>`, each service pulling
# its own through the durable `<service>-replay` and handing each message to the consumer that gave up on it.
REPLAY_STREAM = "OPSDESK_REPLAY"
REPLAY_PREFIX = "replay"
STREAMS = (EVENTS_STREAM, DEADLETTER_STREAM, REPLAY_STREAM)
JS_API = "$JS.API"
JS_ACK = "$JS.ACK"

# Users that are not services: the read-only observer (make run and end-to-end tests read what reached JetStream
# with it) and the test user with every right, which only the `broker` test fixture uses.
OBSERVER = "observer"
TEST_USER = "opsdesk-test"


@dataclass(frozen=True)
class Consumer:
    subject: str
    durable: str


@dataclass(frozen=True)
class BusRole:
    """What one service does on the bus; the permissions follow from it."""

    service: str
    publishes: tuple[str, ...] = ()
    consumes: tuple[Consumer, ...] = ()
    requests: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()
    listens: tuple[str, ...] = ()
    # Reads the events stream from a sequence through its own ephemeral consumers (reporting's rebuild).
    replays: bool = False
    # Follows the events stream live through ordered ephemeral push consumers (intake's live event stream).
    follows: bool = False
    # Reads the dead-letter stream by sequence and sends replays to any service (the gateway's admin API).
    operates_dead_letters: bool = False
    notes: dict[str, str] = field(default_factory=dict)


def _c(*pairs: tuple[str, str]) -> tuple[Consumer, ...]:
    return tuple(Consumer(subject, durable) for subject, durable in pairs)


def _reporting_consumers() -> tuple[Consumer, ...]:
    """reporting/entrypoints/bus.py: one durable per family, named `reporting-<family>`."""
    families = (
        "ticket.>", "assignment.>", "escalation.>", "sla.>", "repair.>", "problem.>", s.CMDB_INSPECTION_RECORDED, s.CMDB_SPARE_ISSUED,
        s.CMDB_SPARE_ISSUE_REVERSED,  # a reversed issue is no consumption
    )
    return tuple(Consumer(f, "reporting-" + f.removesuffix(".>").replace(".", "-")) for f in families)


# The SLA monitor's notifications (sla_monitor/notifications/bus.py ROUTES): one durable per event that reaches a
# person. A subject other work is still adding is allowed once its constant exists in contracts/subjects.py.
NOTIFICATION_CONSUMERS: tuple[tuple[str, str], ...] = (
    ("TICKET_CREATED", "sla-notify-authorization"),
    ("TICKET_ASSIGNED", "sla-notify-assigned"),
    ("TICKET_REASSIGNED", "sla-notify-reassigned"),
    ("ASSIGNMENT_HELP_REQUESTED", "sla-notify-help-requested"),
    ("TICKET_RESOLVED", "sla-notify-resolved"),
    ("SLA_BREACHED", "sla-notify-breached"),
    ("ESCALATION_RAISED", "sla-notify-escalation-raised"),
    ("REPORT_SUBMITTED", "sla-notify-report-submitted"),
    ("REPORT_RETURNED", "sla-notify-report-returned"),
    ("SECURITY_INCIDENT_RAISED", "sla-notify-incident"),
    ("REPLACEMENT_REQUESTED", "sla-notify-replacement-requested"),
    ("REPLACEMENT_ANSWERED", "sla-notify-replacement-answered"),
)
# Events after which notices are settled (sla_monitor/notifications/bus.py SETTLING).
SETTLING_CONSUMERS: tuple[tuple[str, str], ...] = (
    ("TICKET_AUTHORIZED", "sla-notify-settle-authorized"),
    ("TICKET_AUTHORIZATION_DECLINED", "sla-notify-settle-declined"),
)


def _notification_consumers() -> tuple[Consumer, ...]:
    return tuple(Consumer(getattr(s, name), durable) for name, durable in (*NOTIFICATION_CONSUMERS, *SETTLING_CONSUMERS)
                 if hasattr(s, name))


ROLES: dict[str, BusRole] = {
    role.service: role
    for role in (
        BusRole(
            "intake",
            publishes=(
                s.TICKET_CREATED, s.TICKET_UPDATED, s.TICKET_STATUS_CHANGED, s.TICKET_RESOLVED, s.TICKET_CLOSED, s.TICKET_REOPENED,
                s.TICKET_SERVICE_RECORD_REVIEWED, s.TICKET_DISPATCH_REQUESTED, s.TICKET_AUTHORIZED,
                s.TICKET_AUTHORIZATION_DECLINED, s.SECURITY_INCIDENT_RAISED,
            ),
            consumes=_c(
                # An engineer's act beyond authorization that dispatch refused: recorded as a security incident.
                (s.ASSIGNMENT_VIOLATION_DETECTED, "intake-violation-assignment"),
                # A CI change or a storage device's repair beyond authorization that assets noticed: an incident too.
                (s.CMDB_VIOLATION_DETECTED, "intake-violation-cmdb"),
                (s.TICKET_ASSIGNED, "intake-ticket-assigned"),
                (s.TICKET_REASSIGNED, "intake-ticket-reassigned"),
                # Dispatch withdrew the engineer (desk resolution, cancellation): the ticket stops showing them.
                (s.ASSIGNMENT_WITHDRAWN, "intake-assignment-withdrawn"),
                (s.KB_SUGGESTED, "intake-kb-suggested"),
                (s.CMDB_INSPECTION_RECORDED, "intake-inspection-recorded"),
                (s.ASSIGNMENT_COMPLETED, "intake-assignment-completed"),
                # The engineer's acceptance and the confirmed ETA, shown to the requester on the ticket.
                (s.ASSIGNMENT_ACCEPTED, "intake-assignment-accepted"),
                (s.ASSIGNMENT_CONFIRMED, "intake-assignment-confirmed"),
                # Its own status changes: the requester is mailed when assigned, pending on them, resolved (notices).
                (s.TICKET_STATUS_CHANGED, "intake-requester-notices"),
                # Every tag assets announces, so a ticket naming an unknown asset tag is refused (known_tags).
                (s.CMDB_CI_CHANGED, "intake-ci-changed"),
                (s.CMDB_REGISTER_IMPORTED, "intake-register-imported"),
                # The engineer's question to the desk, kept on the ticket as a work note for staff.
                (s.ASSIGNMENT_HELP_REQUESTED, "intake-help-requested"),
                # An engineer's escalation to the project manager: a work note the desk reads on the ticket.
                (s.ESCALATION_RAISED, "intake-escalation-raised"),
                # Stock parts of a service record that assets could not issue: a work note for the desk.
                (s.CMDB_SPARE_ISSUE_REFUSED, "intake-spare-issue-refused"),
                # Nobody could take the ticket yet, or work on site is held for the on-site shift: a work note for
                # the desk, and the requester of a held ticket told when someone comes.
                (s.ASSIGNMENT_UNASSIGNED, "intake-assignment-unassigned"),
            ),
            # The gateway asks assets and the SLA monitor (adapters/nats.py); the rpc.* answers are documented as
            # being for the gateway, so it is the one user allowed to ask them.
            requests=(s.ASSET_LOOKUP, s.CALENDAR_QUERY, s.TIMERS_QUERY, s.RPC_KB_SEARCH, s.RPC_CMDB_ASSET_SUMMARY, s.RPC_CMDB_IMPACT),
            listens=("ticket.>",),
            operates_dead_letters=True,
            # GET /api/v1/events/stream (intake/live): ticket, assignment, escalation and SLA events for callers.
            follows=True,
        ),
        BusRole(
            "dispatch",
            publishes=(
                s.TICKET_ASSIGNED, s.TICKET_REASSIGNED, s.ASSIGNMENT_ACCEPTED, s.ASSIGNMENT_CONFIRMED, s.ASSIGNMENT_DELAYED,
                s.ASSIGNMENT_COMPLETED, s.ASSIGNMENT_HELP_REQUESTED, s.ASSIGNMENT_REVIEWED, s.ASSIGNMENT_UNASSIGNED, s.ASSIGNMENT_WITHDRAWN,
                s.ESCALATION_RAISED, s.ESCALATION_ACKNOWLEDGED, s.ASSIGNMENT_VIOLATION_DETECTED,
                s.REPLACEMENT_REQUESTED, s.REPLACEMENT_ANSWERED,
            ),
            consumes=_c(
                (s.TICKET_CREATED, "dispatch-ticket-created"),
                (s.TICKET_STATUS_CHANGED, "dispatch-ticket-status-changed"),
                (s.SLA_BREACHED, "dispatch-sla-breached"),
                (s.TICKET_SERVICE_RECORD_REVIEWED, "dispatch-service-record-reviewed"),
                # A desk-first ticket is assigned when the desk hands it over, not on ticket.created.
                (s.TICKET_DISPATCH_REQUESTED, "dispatch-dispatch-requested"),
                # A ticket the engineer's work resolved, reopened: the assignment goes back to them to complete again.
                (s.TICKET_REOPENED, "dispatch-ticket-reopened"),
                # Work awaiting the agency's authorization is assigned when it is authorized, not on ticket.created.
                (s.TICKET_AUTHORIZED, "dispatch-ticket-authorized"),
                # Work the agency declined: an engineer's act on it is refused and reported (security incidents).
                (s.TICKET_AUTHORIZATION_DECLINED, "dispatch-ticket-authorization-declined"),
            ),
            # When a replacement request's answer is due: working days on the SLA monitor's calendar (agency/calendar.py).
            requests=(s.CALENDAR_QUERY,),
        ),
        BusRole(
            "sla-monitor",
            # sla.timer_started: a clock cycle the monitor started (reporting counts clocks running from it).
            publishes=(s.SLA_WARNING, s.SLA_BREACHED, s.SLA_TIMER_STOPPED, s.SLA_TIMER_STARTED),
            consumes=_notification_consumers() + _c(
                (s.TICKET_CREATED, "sla-ticket-created"),
                (s.TICKET_ASSIGNED, "sla-ticket-assigned"),
                (s.TICKET_STATUS_CHANGED, "sla-ticket-status-changed"),
                (s.TICKET_UPDATED, "sla-ticket-updated"),
                # The desk sent the ticket on: the remote-guidance clock stops there.
                (s.TICKET_DISPATCH_REQUESTED, "sla-ticket-dispatch-requested"),
                (s.SLA_BREACHED, "sla-escalation"),
                (s.REPAIR_UPDATED, "sla-repair-updated"),
                (s.TICKET_REASSIGNED, "sla-ticket-reassigned"),
                (s.ASSIGNMENT_CONFIRMED, "sla-assignment-confirmed"),
                (s.ASSIGNMENT_DELAYED, "sla-assignment-delayed"),
                (s.ESCALATION_RAISED, "sla-escalation-raised"),
                (s.ESCALATION_ACKNOWLEDGED, "sla-escalation-acknowledged"),
                # The agency's decision: the dispatch clock starts at an authorization, the authorization clock stops.
                (s.TICKET_AUTHORIZED, "sla-ticket-authorized"),
                (s.TICKET_AUTHORIZATION_DECLINED, "sla-ticket-authorization-declined"),
            ),
            answers=(s.CALENDAR_QUERY, s.TIMERS_QUERY),
        ),
        BusRole(
            "assets",
            publishes=(
                s.REPAIR_UPDATED, s.CMDB_CI_CHANGED, s.CMDB_AUDIT_CLOSED, s.CMDB_INSPECTION_RECORDED, s.CMDB_SPARE_ISSUED,
                s.CMDB_LOANER_CHANGED, s.CMDB_REGISTER_IMPORTED, s.CMDB_SPARE_ISSUE_REVERSED, s.CMDB_SPARE_ISSUE_REFUSED,
                s.CMDB_VIOLATION_DETECTED,
            ),
            consumes=tuple(
                Consumer(subject, "assets-" + subject.replace(".", "-"))
                for subject in (
                    s.TICKET_CREATED, s.TICKET_STATUS_CHANGED, s.TICKET_RESOLVED, s.TICKET_CLOSED, s.TICKET_ASSIGNED,
                    s.TICKET_REASSIGNED, s.SLA_BREACHED,
                    # The engineer's service record: its stock parts are issued against the ticket.
                    s.ASSIGNMENT_COMPLETED,
                    # A returned service record: its completion's stock parts go back (the redo issues them again).
                    s.TICKET_SERVICE_RECORD_REVIEWED,
                    # Tickets the agency authorized, by the asset they name: a CI change or a storage device's repair
                    # without one is a security violation (assets/oversight.py).
                    s.TICKET_AUTHORIZED,
                )
            ),
            answers=(s.ASSET_LOOKUP, s.RPC_CMDB_ASSET_SUMMARY, s.RPC_CMDB_IMPACT),
        ),
        BusRole(
            "reporting",
            publishes=(s.REPORT_GENERATED, s.REPORT_OVERDUE, s.REPORT_SUBMITTED, s.REPORT_ACKNOWLEDGED, s.REPORT_RETURNED),
            consumes=_reporting_consumers(),
            # The maintenance manual's articles, asked of knowledge (reporting/adapters/nats.py).
            requests=(s.RPC_KB_ARTICLES,),
            replays=True,
        ),
        BusRole(
            "knowledge",
            publishes=(
                s.KB_ARTICLE_PUBLISHED, s.KB_SUGGESTED, s.PROBLEM_CREATED, s.PROBLEM_KNOWN_ERROR, s.PROBLEM_RESOLVED,
                s.PROBLEM_ESCALATED,
            ),
            consumes=_c(
                (s.TICKET_CREATED, "knowledge-ticket-created"),
                (s.TICKET_RESOLVED, "knowledge-ticket-resolved"),
                (s.TICKET_REOPENED, "knowledge-ticket-reopened"),
                (s.ASSIGNMENT_HELP_REQUESTED, "knowledge-help-requested"),
            ),
            answers=(s.RPC_KB_SEARCH, s.RPC_KB_ARTICLES),
        ),
    )
}

SERVICES: tuple[str, ...] = tuple(ROLES)


def inbox_prefix(user: str) -> str:
    """Replies to `user`'s requests (and its pulled messages) arrive under this prefix, which only it may read."""
    if user in (OBSERVER, TEST_USER):
        return "_INBOX"
    return f"_INBOX_{user}"


def owner_of(subject: str) -> str | None:
    """The one service allowed to publish an event subject, if any."""
    for role in ROLES.values():
        if subject in role.publishes:
            return role.service
    return None


def _stream_rights() -> list[str]:
    return [f"{JS_API}.{op}.{stream}" for stream in STREAMS for op in ("STREAM.CREATE", "STREAM.UPDATE", "STREAM.INFO")]


def permissions(service: str) -> dict[str, Any]:
    """nats-server `permissions` block for one service user (publish/subscribe allow lists, responses)."""
    role = ROLES[service]
    publish: list[str] = [*role.publishes, *role.requests, f"{JS_API}.INFO", *_stream_rights()]
    for c in role.consumes:
        publish += [
            f"{s.DEADLETTER_PREFIX}.{c.subject}",
            f"{JS_API}.CONSUMER.CREATE.{EVENTS_STREAM}.{c.durable}.{c.subject}",
            f"{JS_API}.CONSUMER.INFO.{EVENTS_STREAM}.{c.durable}",
            f"{JS_API}.CONSUMER.MSG.NEXT.{EVENTS_STREAM}.{c.durable}",
            f"{JS_ACK}.{EVENTS_STREAM}.{c.durable}.>",
        ]
    publish += replay_consumer_rights(service)
    if role.operates_dead_letters:
        publish += [f"{REPLAY_PREFIX}.>", f"{JS_API}.STREAM.MSG.GET.{DEADLETTER_STREAM}"]
    if role.follows:
        publish += [f"{JS_API}.CONSUMER.CREATE.{EVENTS_STREAM}", f"$JS.FC.{EVENTS_STREAM}.>"]
    deny: list[str] = []
    if role.replays:
        allow, deny = _ephemeral_reader_rights((EVENTS_STREAM,), own=service)
        publish += allow
    subscribe = [f"{inbox_prefix(service)}.>", *role.answers, *role.listens]
    out: dict[str, Any] = {"publish": {"allow": _unique(publish)}, "subscribe": {"allow": _unique(subscribe)}}
    if deny:
        out["publish"]["deny"] = deny
    if role.answers:
        # One reply to the reply subject of a request it received, and nothing else on anyone's inbox.
        out["allow_responses"] = True
    return out


def replay_durable(service: str) -> str:
    return f"{service}-replay"


def replay_subject(service: str, durable: str) -> str:
    """Where a dead letter of `durable` (a consumer of `service`) is sent back to be handled again."""
    return f"{REPLAY_PREFIX}.{service}.{durable}"


def replay_consumer_rights(service: str) -> list[str]:
    """The service's one replay consumer on the replay stream: create, read, pull and ack it, and dead-letter what
    still fails (`deadletter.replay.<service>.<durable>`)."""
    durable, subject = replay_durable(service), f"{REPLAY_PREFIX}.{service}.>"
    return [
        f"{s.DEADLETTER_PREFIX}.{subject}",
        f"{JS_API}.CONSUMER.CREATE.{REPLAY_STREAM}.{durable}.{subject}",
        f"{JS_API}.CONSUMER.INFO.{REPLAY_STREAM}.{durable}",
        f"{JS_API}.CONSUMER.MSG.NEXT.{REPLAY_STREAM}.{durable}",
        f"{JS_ACK}.{REPLAY_STREAM}.{durable}.>",
    ]


def _ephemeral_reader_rights(streams: tuple[str, ...], *, own: str | None = None) -> tuple[list[str], list[str]]:
    """(allow, deny) for reading `streams` through ephemeral consumers of one's own, never another service's durable
    (a deny beats every allow in nats-server, so `own`'s durables must stay out of the deny list)."""
    allow = [
        *[f"{JS_API}.CONSUMER.CREATE.{stream}" for stream in streams],
        *[f"{JS_API}.CONSUMER.CREATE.{stream}.*.>" for stream in streams],
        *[f"{JS_API}.CONSUMER.CREATE.{stream}.*" for stream in streams],
        *[f"{JS_API}.CONSUMER.{op}.{stream}.*" for stream in streams for op in ("INFO", "MSG.NEXT", "DELETE")],
    ]
    # Service durables are off limits: pulling one would steal its messages, deleting one would lose them,
    # re-creating one with another filter would change what the service reads.
    deny = [
        pattern
        for role in ROLES.values() if role.service != own for c in role.consumes
        for pattern in (
            f"{JS_API}.CONSUMER.MSG.NEXT.{EVENTS_STREAM}.{c.durable}",
            f"{JS_API}.CONSUMER.DELETE.{EVENTS_STREAM}.{c.durable}",
            f"{JS_API}.CONSUMER.CREATE.{EVENTS_STREAM}.{c.durable}",
            f"{JS_API}.CONSUMER.CREATE.{EVENTS_STREAM}.{c.durable}.>",
        )
    ]
    return allow, deny


def observer_permissions() -> dict[str, Any]:
    """Reads what reached JetStream through ephemeral consumers; publishes no event and pulls no service's consumer."""
    allow, deny = _ephemeral_reader_rights(STREAMS)
    return {
        "publish": {
            "allow": [f"{JS_API}.INFO", f"{JS_API}.STREAM.NAMES", f"{JS_API}.STREAM.LIST",
                      *[f"{JS_API}.STREAM.INFO.{stream}" for stream in STREAMS], *allow],
            "deny": deny,
        },
        "subscribe": {"allow": ["_INBOX.>"]},
    }


def test_user_permissions() -> dict[str, Any]:
    return {"publish": {"allow": [">"]}, "subscribe": {"allow": [">"]}}


def user_permissions(user: str) -> dict[str, Any]:
    if user in ROLES:
        return permissions(user)
    if user == OBSERVER:
        return observer_permissions()
    if user == TEST_USER:
        return test_user_permissions()
    raise KeyError(f"no NATS user {user!r}")


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
