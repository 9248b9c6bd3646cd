"""Intake's Prometheus metrics, on /metrics. Open tickets and the desk share are read from the search index when
scraped, so they are right after a restart, not counted from zero."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .search import TicketIndex

registry = CollectorRegistry()

tickets_created = Counter(
    "intake_tickets_created_total", "Tickets recorded at the desk", ["channel", "service_code", "priority"], registry=registry
)
assignments_recorded = Counter("intake_assignments_recorded_total", "Assignments shown on tickets", registry=registry)
create_latency = Histogram(
    "intake_ticket_create_seconds",
    "Time to store a ticket and relay its event",
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0),
    registry=registry,
)
resolutions_total = Counter("intake_resolutions_total", "Tickets resolved, by the desk or by an engineer", registry=registry)
desk_resolutions_total = Counter(
    "intake_desk_resolutions_total", "Tickets the desk resolved at first contact (remote guidance)", registry=registry
)
mails_received = Counter("intake_mails_received_total", "Mails posted by the mail gateway", ["outcome"], registry=registry)
requester_notices = Counter(
    "intake_requester_notices_total", "Status changes considered for a requester mail, by outcome (sent, no_address, off...)",
    ["outcome"], registry=registry,
)
dead_letters = Counter("intake_dead_letters_total", "Messages intake gave up on", ["subject", "reason"], registry=registry)


def count_resolution(*, at_desk: bool) -> None:
    resolutions_total.inc()
    if at_desk:
        desk_resolutions_total.inc()

OPEN_STATES = ("new", "assigned", "in_progress", "pending")


class IndexCollector(Collector):
    def __init__(self) -> None:
        self.index: TicketIndex | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        open_tickets = GaugeMetricFamily("intake_open_tickets", "Tickets not yet resolved, by state", labels=["status"])
        share = GaugeMetricFamily("intake_desk_resolution_share", "Share of resolved tickets resolved at the desk (target 0.3-0.5)")
        if self.index is not None:
            counts = self.index.counts("status")
            for state in OPEN_STATES:
                open_tickets.add_metric([state], counts.get(state, 0))
            resolved, at_desk = self.index.resolution_counts()
            share.add_metric([], at_desk / resolved if resolved else 0.0)
        yield open_tickets
        yield share


index_collector = IndexCollector()
registry.register(index_collector)
