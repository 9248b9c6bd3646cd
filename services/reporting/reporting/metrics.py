"""Reporting's Prometheus metrics: totals kept by the tally, so they survive restarts and redeliveries."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from .domain import COUNTERS, Tally, parse_key

registry = CollectorRegistry()
dead_letters = Counter("reporting_dead_letters_total", "Messages reporting gave up on", ["subject", "reason"], registry=registry)


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


tally_collector = TallyCollector()
registry.register(tally_collector)
