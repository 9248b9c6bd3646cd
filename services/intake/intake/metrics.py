from prometheus_client import CollectorRegistry, Counter, Histogram

registry = CollectorRegistry()

tickets_created = Counter(
    "intake_tickets_created_total", "Tickets recorded at the desk", ["channel", "service_code"], registry=registry
)
assignments_recorded = Counter("intake_assignments_recorded_total", "Assignments shown on tickets", registry=registry)
create_latency = Histogram(
    "intake_ticket_create_seconds",
    "Time to store a ticket and relay its event",
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0),
    registry=registry,
)
dead_letters = Counter("intake_dead_letters_total", "Messages intake gave up on", ["subject", "reason"], registry=registry)
