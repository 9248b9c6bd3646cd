from prometheus_client import CollectorRegistry, Counter

registry = CollectorRegistry()

timers_started = Counter("sla_timers_started_total", "Timers started", ["timer"], registry=registry)
timers_stopped = Counter("sla_timers_stopped_total", "Timers stopped in time", ["timer"], registry=registry)
timers_paused = Counter("sla_timers_paused_total", "Timers held while the ticket waited (pending)", ["timer"], registry=registry)
breaches = Counter("sla_breaches_total", "Timers that ran out, by timer", ["timer"], registry=registry)
warnings = Counter("sla_warnings_total", "Timers that used their warning share of business time, by timer", ["timer"], registry=registry)
dead_letters = Counter("sla_dead_letters_total", "Messages the SLA monitor gave up on", ["subject", "reason"], registry=registry)
approximate_results = Counter(
    "sla_approximate_results_total",
    "Business-time answers computed for a year without holiday data (weekends only)",
    ["calendar", "op"],
    registry=registry,
)
notifications = Counter(
    "sla_notifications_total", "Escalation notification attempts by channel and outcome", ["channel", "outcome"],
    registry=registry,
)
outcomes = Counter(
    "sla_timer_outcomes_total", "Timer cycles that ended, by timer and verdict (met, breached, cancelled)", ["timer", "outcome"],
    registry=registry,
)
notifications_queued = Counter(
    "sla_notifications_queued_total", "Notifications stored for delivery, by channel (email, webhook, apprise)", ["channel"],
    registry=registry,
)
notifications_deferred = Counter(
    "sla_notifications_deferred_total", "Notifications held back because their channel's rate was used up (not dropped)",
    ["kind"], registry=registry,
)
notification_messages = Counter(
    "sla_notification_messages_total", "Messages sent to a channel (a robot message may carry a batch), by outcome",
    ["kind", "outcome"], registry=registry,
)
