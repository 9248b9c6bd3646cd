"""Crashes on purpose, for the fault campaign (tests/faults) and by hand: SIGKILL a service, NATS or the database of
a running Stack and start it again on the same port, store and users. A kill is a crash: no lifespan shutdown,
nothing flushed, unlike Stack.restart (SIGTERM)."""

from __future__ import annotations

import time

from opsdesk_shared.bus_permissions import SERVICES as BUS_SERVICES

from .infra import DB_ADMIN, InfraError, start_database, start_nats
from .natsconf import load_or_make_passwords
from .stack import Stack

INFRA = ("nats", "database")


def kill(stack: Stack, target: str) -> None:
    """SIGKILL a service by name, or "nats", or "database" (not an external MONGODB_URL)."""
    if target == "nats":
        assert stack.nats is not None
        stack.nats.process.kill()
    elif target == "database":
        assert stack.database is not None
        if stack.database.process is None:
            raise InfraError("the database is external (MONGODB_URL): it cannot be killed from here")
        stack.database.process.kill()
    else:
        stack.service(target).kill()


def start_again(stack: Stack, target: str) -> None:
    """Start a killed part again where it was: same port, JetStream store or data directory, users and secrets."""
    if target == "nats":
        assert stack.nats is not None
        stack.nats = start_nats(stack.var_dir / "nats", passwords=stack.nats.passwords, port=stack.nats.port,
                                log=stack.var_dir / "logs" / "nats-restarted.log", config=stack.secret_files()["NATS config"])
    elif target == "database":
        assert stack.database is not None
        port = stack.db_port or int(stack.database.url.rstrip("/").rsplit(":", 1)[-1])
        passwords = load_or_make_passwords(stack.secret_files()["database passwords"], [DB_ADMIN, *BUS_SERVICES])
        stack.database = start_database(stack.var_dir / "ferretdb", port=port, passwords=passwords,
                                        log=stack.var_dir / "logs" / "database-restarted.log")
    else:
        stack.service(target).start()


def wait_all_ready(stack: Stack, timeout: float = 90.0) -> float:
    """Seconds until every started service answers /readyz with 200 (InfraError after `timeout`)."""
    started = time.monotonic()
    for svc in stack.services.values():
        svc.wait_ready(max(1.0, timeout - (time.monotonic() - started)))
    return time.monotonic() - started


def crash_and_restart(stack: Stack, target: str, *, down_s: float = 1.5, ready_timeout: float = 90.0) -> float:
    """SIGKILL `target`, leave it down `down_s`, start it again; seconds from the restart until all are ready."""
    kill(stack, target)
    time.sleep(down_s)
    started = time.monotonic()
    start_again(stack, target)
    wait_all_ready(stack, ready_timeout)
    return time.monotonic() - started
