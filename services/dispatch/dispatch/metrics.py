from prometheus_client import CollectorRegistry, Counter, Histogram

registry = CollectorRegistry()

assignments = Counter("dispatch_assignments_total", "Tickets assigned", ["engineer_id"], registry=registry)
assignment_latency = Histogram(
    "dispatch_assignment_latency_seconds",
    "From ticket.created to the assignment being stored",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600),
    registry=registry,
)
no_engineer = Counter("dispatch_no_engineer_available_total", "Tickets nobody could take yet", registry=registry)
dead_letters = Counter("dispatch_dead_letters_total", "Messages dispatch gave up on", ["subject", "reason"], registry=registry)
