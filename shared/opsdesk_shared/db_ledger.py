"""The database ledger (issue 17): every command a service sends to its database, counted by name.

A ticket's cost is mostly round trips to the database, so each service counts them with PyMongo's command listener
(`opsdesk_db_commands_total{service, command}`) and its own CPU time (`process_cpu_seconds_total`), both on
/metrics; `make bench` divides the increase of each by the tickets a run accepted. Handshake and monitoring
commands (hello, ping, buildInfo, endSessions) are counted too, under their names, so a reader can leave them out.
"""

from __future__ import annotations

from prometheus_client import Counter, ProcessCollector
from pymongo import monitoring

from .observability import SHARED_REGISTRY

db_commands = Counter(
    "opsdesk_db_commands", "Database commands sent, by service and command name", ["service", "command"],
    registry=SHARED_REGISTRY,
)
db_command_failures = Counter(
    "opsdesk_db_command_failures", "Database commands that failed, by service and command name", ["service", "command"],
    registry=SHARED_REGISTRY,
)
# The process's CPU seconds and memory under the standard names; the services' own registries do not carry them.
ProcessCollector(registry=SHARED_REGISTRY)


class CommandLedger(monitoring.CommandListener):
    """Counts each command once when it starts; failures again under their own name. Cheap: one dict lookup."""

    def __init__(self, service: str) -> None:
        self.service = service

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        db_commands.labels(self.service, event.command_name).inc()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        db_command_failures.labels(self.service, event.command_name).inc()
