"""The live stream's metrics, on intake's registry (so on the gateway's /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from ..metrics import registry

streams_open = Gauge("intake_live_streams_open", "Open event streams (GET /api/v1/events/stream)", registry=registry)
streams_refused = Counter("intake_live_streams_refused_total", "Streams refused at a cap", ["cap"], registry=registry)
events_published = Counter("intake_live_events_total", "Bus events handed to the open streams", registry=registry)
publish_seconds = Histogram(
    "intake_live_publish_seconds", "From a bus event's arrival at the gateway to every listener's queue (ticket read included)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0), registry=registry,
)
dropped_slow = Counter("intake_live_slow_clients_total", "Streams ended because the client fell too far behind", registry=registry)


def observe_publish(seconds: float) -> None:
    events_published.inc()
    publish_seconds.observe(seconds)
