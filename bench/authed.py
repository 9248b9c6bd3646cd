"""For benches that start their own NATS and database instead of a whole Stack: the same authenticated set-up as
`make run` (one NATS user per service with its permissions, anonymous refused; FerretDB with SCRAM users), so a bench
measures what production pays for authentication and cannot do what a service could not."""

from __future__ import annotations

import secrets
from pathlib import Path

from faststream.nats import NatsBroker

from opsdesk_devstack.infra import DB_ADMIN, Database, Nats, start_database, start_nats
from opsdesk_shared.bus import make_broker


def passwords(*users: str) -> dict[str, str]:
    """A fresh strong password per user, for this run only."""
    return {user: secrets.token_urlsafe(24) for user in users}


def start_bus(store_dir: Path, *users: str, log: Path | None = None) -> Nats:
    """nats-server with one user per name (a service of `bus_permissions`, the observer or the test user)."""
    return start_nats(store_dir, passwords=passwords(*users), log=log)


def start_db(data_dir: Path, *services: str, log: Path | None = None) -> Database:
    """The database with an administrator and one SCRAM user per service; `url_for(service)` signs in as it."""
    return start_database(data_dir, passwords=passwords(DB_ADMIN, *services), log=log)


def broker_as(bus: Nats, user: str, *, name: str) -> NatsBroker:
    """A broker (not connected yet) signed in as `user`, with that user's permissions."""
    broker: NatsBroker = make_broker(bus.url, name=name, user=user, password=bus.passwords[user])
    return broker
