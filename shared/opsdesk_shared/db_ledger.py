"""The database ledger (issue 17): every command a service sends to its database, counted by name.

A ticket's cost is mostly round trips to the database, so each service counts them with PyMongo's command listener
(`opsdesk_db_commands_total{service, command, collection}`) and its own CPU time (`process_cpu_seconds_total`), both on
/metrics; `make bench` divides the increase of each by the tickets a run accepted. Handshake and monitoring
commands (hello, ping, buildInfo, endSessions) are counted too, under their names, so a reader can leave them out
(`DRIVER_COMMANDS`). `CommandTally` counts one client's commands in process, the driver's own left out, for tests that
hold a use case to a number of commands.
"""

from __future__ import annotations

import collections
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import Counter, ProcessCollector
from pymongo import AsyncMongoClient, monitoring

from .observability import SHARED_REGISTRY

# The driver's own commands (handshakes, SCRAM sign-in of a new pooled connection, heartbeats, sessions): not the
# work's cost, so the tally leaves them out and the bench shows them apart.
DRIVER_COMMANDS = frozenset({"hello", "isMaster", "ismaster", "saslStart", "saslContinue", "ping", "buildInfo", "endSessions"})

db_commands = Counter(
    "opsdesk_db_commands", "Database commands sent, by service, command name and collection",
    ["service", "command", "collection"],
    registry=SHARED_REGISTRY,
)
db_command_failures = Counter(
    "opsdesk_db_command_failures", "Database commands that failed, by service and command name", ["service", "command"],
    registry=SHARED_REGISTRY,
)
# The process's CPU seconds and memory under the standard names; the services' own registries do not carry them.
ProcessCollector(registry=SHARED_REGISTRY)


def collection_of(event: monitoring.CommandStartedEvent) -> str:
    """The collection a command addresses (`find: "timers"`, a getMore's `collection`); "" for the rest. The bench
    names the collections a ticket's commands go to, which is where a lever is found."""
    target = event.command.get(event.command_name)
    if isinstance(target, str):
        return target
    named = event.command.get("collection")
    return named if isinstance(named, str) else ""


class CommandLedger(monitoring.CommandListener):
    """Counts each command once when it starts; failures again under their own name. Cheap: one dict lookup."""

    def __init__(self, service: str) -> None:
        self.service = service

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        db_commands.labels(self.service, event.command_name, collection_of(event)).inc()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        db_command_failures.labels(self.service, event.command_name).inc()


class CommandTally(monitoring.CommandListener):
    """One client's commands by name, counted as they start; DRIVER_COMMANDS are left out. `clear()` before the work
    to measure, then read `names` (a Counter) or `per(n)`."""

    def __init__(self) -> None:
        self.names: collections.Counter[str] = collections.Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in DRIVER_COMMANDS:
            self.names[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None

    def clear(self) -> None:
        self.names.clear()

    def per(self, units: float) -> dict[str, float]:
        """Commands by name divided by `units` (the tickets or events the work handled)."""
        return {name: n / units for name, n in self.names.items()}


@asynccontextmanager
async def tallied_client(url: str) -> AsyncIterator[tuple[AsyncMongoClient[dict[str, Any]], CommandTally]]:
    """A client whose commands `CommandTally` counts, closed on leaving."""
    tally = CommandTally()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, tz_aware=True, event_listeners=[tally])
    try:
        yield client, tally
    finally:
        await client.close()
