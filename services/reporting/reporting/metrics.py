"""Reporting's Prometheus metrics: totals kept by the tally (they survive restarts and redeliveries), the live state
of the projection (open tickets by status, repairs at vendors, this month's desk share) and report generation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from .domain import COUNTERS, Tally, parse_key

registry = CollectorRegistry()
dead_letters = Counter("reporting_dead_letters_total", "Messages reporting gave up on", ["subject", "reason"], registry=registry)
events_projected = Counter("reporting_events_projected_total", "Events applied to the read models, by type", ["type"], registry=registry)
reports_generated = Counter("reporting_reports_generated_total", "Reports generated and stored, by kind", ["kind"], registry=registry)
reports_overdue = Counter(
    "reporting_reports_overdue_total", "Reports generated after their due time (late) or not there by it (missing)",
    ["kind", "reason"], registry=registry,
)
report_generation_seconds = Histogram(
    "reporting_report_generation_seconds", "Time to compute, render (JSON, XLSX, PDF) and store one report", ["kind"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60), registry=registry,
)
report_compute_seconds = Histogram(
    "reporting_report_compute_seconds", "Time to compute a report's figures from the aggregates", ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5), registry=registry,
)
rebuild_seconds = Histogram("reporting_rebuild_seconds", "Time to rebuild the projection from the stream",
                            buckets=(1, 5, 15, 60, 300, 900, 3600), registry=registry)


class TallyCollector(Collector):
    def __init__(self) -> None:
        self.tally: Tally | None = None

    def collect(self) -> Iterator[CounterMetricFamily]:
        families = {
            name: CounterMetricFamily(f"reporting_{name}", help_text, labels=list(labels))
            for name, (help_text, labels) in COUNTERS.items()
        }
        if self.tally is not None:
            for key, n in self.tally.counts.items():
                name, labels = parse_key(key)
                families[name].add_metric([labels[label] for label in COUNTERS[name][1]], n)
        yield from families.values()


class LiveCollector(Collector):
    """Gauges read from the projection's live state (the `state` bucket mirrored in memory)."""

    def __init__(self) -> None:
        self.holder: Any = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        open_tickets = GaugeMetricFamily("reporting_open_tickets", "Tickets by current status, as projected", labels=["status"])
        at_vendor = GaugeMetricFamily("reporting_repairs_at_vendor", "Repairs sent out and not back yet, by vendor", labels=["vendor"])
        share = GaugeMetricFamily("reporting_desk_resolution_share", "Share of this month's resolutions made at the desk (target 0.3-0.5)")
        live = getattr(self.holder, "live", None)
        if live is not None:
            for status, n in sorted(live.state.get("status", {}).items()):
                if status not in ("closed", "cancelled", "resolved"):
                    open_tickets.add_metric([status], n)
            for vendor, n in sorted(live.state.get("at_vendor", {}).items()):
                at_vendor.add_metric([vendor or "-"], n)
            value = live.desk_share(datetime.now(UTC))
            if value is not None:
                share.add_metric([], value)
        yield from (open_tickets, at_vendor, share)


tally_collector = TallyCollector()
registry.register(tally_collector)
live_collector = LiveCollector()
registry.register(live_collector)
