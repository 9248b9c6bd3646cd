"""Fixtures that start real servers for integration and end-to-end tests; a server that cannot start fails the test."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from .infra import Database, Nats, start_database, start_nats


def _docker_engine_answers() -> bool:
    if os.environ.get("OPSDESK_TESTCONTAINERS", "auto") == "off":
        return False
    try:
        import docker

        docker.from_env(timeout=2).ping()
    except Exception:
        return False
    return True


@pytest.fixture(scope="session")
def database_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """One database server per test session; tests isolate by database name."""
    if not os.environ.get("MONGODB_URL") and _docker_engine_answers():
        from testcontainers.mongodb import MongoDbContainer

        with MongoDbContainer("mongo:7") as container:
            yield Database(url=container.get_connection_url(), kind="mongo:7 (testcontainers)")
        return
    root = tmp_path_factory.mktemp("database")
    db = start_database(root / "data", log=root / "database.log")
    yield db
    db.stop()


@pytest.fixture
def database_url(database_server: Database) -> str:
    return database_server.url


@pytest.fixture
def database_name(request: pytest.FixtureRequest) -> str:
    return f"t_{request.node.name[:30].replace('[', '_').replace(']', '_').replace('-', '_')}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def mongo_db(database_url: str, database_name: str) -> AsyncIterator[object]:
    """A fresh database on the real server, dropped afterwards. The client is made here: it is bound to this loop."""
    from opsdesk_shared.mongo import connect

    client = connect(database_url)
    yield client[database_name]
    await client.drop_database(database_name)
    await client.close()


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[Nats]:
    """A fresh nats-server with JetStream per test: it starts in milliseconds and leaves no streams behind."""
    nats = start_nats(tmp_path / "nats", log=tmp_path / "nats.log")
    yield nats
    nats.process.stop()


@pytest.fixture
async def broker(nats_server: Nats) -> AsyncIterator[object]:
    """A connected FastStream broker with Opsdesk's streams declared."""
    from opsdesk_shared.bus import declare_streams, make_broker

    b = make_broker(nats_server.url, name="test")
    await b.connect()
    await declare_streams(b)
    yield b
    await b.stop()
