"""Fixtures that start real servers for integration and end-to-end tests; a server that cannot start fails the test."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .infra import DB_ADMIN, Database, Nats, start_database, start_nats
from .natsconf import default_users

if TYPE_CHECKING:
    from .stack import Stack
    from .stack_pool import StackPool


def _passwords(users: list[str]) -> dict[str, str]:
    return {user: secrets.token_urlsafe(24) for user in users}


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
    # With authentication as in `make run`: `url` is the administrator's, `url_for(service)` a service's own user.
    from opsdesk_shared.bus_permissions import SERVICES

    db = start_database(root / "data", log=root / "database.log", passwords=_passwords([DB_ADMIN, *SERVICES]))
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
async def counted_db(database_url: str, database_name: str) -> AsyncIterator[tuple[object, object]]:
    """(a fresh database, the CommandTally of its client): the ledger tests (issue 17) hold a use case to a number
    of database commands. Dropped afterwards."""
    from opsdesk_shared.db_ledger import tallied_client

    async with tallied_client(database_url) as (client, tally):
        yield client[database_name], tally
        await client.drop_database(database_name)


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[Nats]:
    """A fresh nats-server with JetStream per test: it starts in milliseconds and leaves no streams behind.

    It has the users of `make run` (one per service with its permissions, the read-only observer) plus the test
    user; `nats_server.url` alone is anonymous and refused: connect with `url_for(user)` or `env_for(user)`."""
    nats = start_nats(tmp_path / "nats", passwords=_passwords(default_users(test_user=True)), log=tmp_path / "nats.log")
    yield nats
    nats.process.stop()


@pytest.fixture
async def broker(nats_server: Nats) -> AsyncIterator[object]:
    """A connected FastStream broker with Opsdesk's streams declared, signed in as the test user with every right.

    Why every right: the tests that use it play the other services around the one under test (publishing
    ticket.created as intake would to drive dispatch) and read what reached JetStream through ephemeral consumers,
    which no service user may do. A test that checks what a service itself may do uses `service_broker`."""
    from opsdesk_shared.bus import declare_streams, make_broker
    from opsdesk_shared.bus_permissions import TEST_USER

    b = make_broker(nats_server.url, name="test", user=TEST_USER, password=nats_server.passwords[TEST_USER])
    await b.connect()
    await declare_streams(b)
    yield b
    await b.stop()


@pytest.fixture
async def service_broker(nats_server: Nats) -> AsyncIterator[Callable[[str], Awaitable[object]]]:
    """`await service_broker("dispatch")`: a connected broker signed in as that service's user, streams declared."""
    from opsdesk_shared.bus import declare_streams, make_broker

    made: list[Any] = []

    async def connect(service: str) -> object:
        b = make_broker(nats_server.url, name=service, user=service, password=nats_server.passwords[service])
        made.append(b)
        await b.connect()
        await declare_streams(b)
        return b

    yield connect
    for b in made:
        await b.stop()


# ---- Whole stacks shared between tests (see stack_pool): one running at a time, each kind started once. ----

_POOL = pytest.StashKey["StackPool"]()


@pytest.fixture(scope="session")
def stack_pool(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackPool]:
    """`stack_pool.get(label, env)`: the running stack of that kind, started the first time it is asked for."""
    from .stack_pool import StackPool

    pool = StackPool(make_dir=lambda label: tmp_path_factory.mktemp(label))
    request.config.stash[_POOL] = pool
    yield pool
    pool.close()
    if pool.starts:
        print(f"\nstack pool: {len(pool.starts)} stack start(s): " + ", ".join(f"{label} {dict(env)}" for label, env in pool.starts))


# The shared end-to-end stack: the e2e tests, the journeys, the browser and the security tests run on one stack of
# this kind, started once (a module that asks for more with `stack_env` gets a stack of its own). Fast sweeps and
# waiting-room retries, so a test sees a clock or a shift change in a second, not in half a minute.
SHARED_LABEL = "e2e"
SHARED_ENV = {"SLA_SWEEP_INTERVAL_S": "0.2", "DISPATCH_WAITING_RETRY_S": "1"}


def shared_stack(pool: StackPool, node: pytest.Item | pytest.Collector) -> Stack:
    """The running shared stack of `node`'s kind (its stack_env added to SHARED_ENV)."""
    marker = node.get_closest_marker("stack_env")
    extra = {k: str(v) for k, v in marker.kwargs.items()} if marker else {}
    return pool.get(SHARED_LABEL, {**SHARED_ENV, **extra})


def stack_env(item: pytest.Item) -> dict[str, str]:
    """The extra environment a test asks of its stack with `pytest.mark.stack_env(...)`."""
    marker = item.get_closest_marker("stack_env")
    return {k: str(v) for k, v in marker.kwargs.items()} if marker else {}


def _uses_pool(item: pytest.Item) -> bool:
    """Whether the test asks for a shared stack (directly or through a fixture)."""
    return "stack_pool" in getattr(item, "fixturenames", ())


_LAST = pytest.StashKey[set[str]]()


def share_stacks(items: list[pytest.Item], directory: Path, label: str) -> None:
    """Marks the tests under `directory` as users of the `label` stacks, for a conftest's
    `pytest_collection_modifyitems`: directories that mark the same label run as one group per stack_env, so they
    share each stack instead of starting their own (the journeys share the e2e tests' stacks)."""
    for item in items:
        if item.path.is_relative_to(directory):
            item.add_marker(pytest.mark.stack_label(label))


def _group(item: pytest.Item) -> str:
    marker = item.get_closest_marker("stack_label")
    return str(marker.args[0]) if marker else str(item.path.parent)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that share stacks run grouped by kind (their directory or `stack_label`, and stack_env), in their order
    otherwise, so that each kind of stack starts once; every other test keeps its place."""
    slots = [i for i, item in enumerate(items) if _uses_pool(item)]
    first: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}
    keyed = []
    for n, i in enumerate(slots):
        key = (_group(items[i]), tuple(sorted(stack_env(items[i]).items())))
        keyed.append((first.setdefault(key, n), n, items[i]))
    for slot, (_, _, item) in zip(slots, sorted(keyed, key=lambda k: (k[0], k[1])), strict=True):
        items[slot] = item
    # The last test of each group that uses a shared stack: after it, that group's stack is stopped.
    last: dict[str, str] = {_group(items[i]): items[i].nodeid for i in slots}
    config.stash[_LAST] = set(last.values())


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stops the shared stack after the last test of a directory that uses it: no idle stack eats the CPU of the
    tests after it."""
    pool = item.config.stash.get(_POOL, None)
    if pool is not None and (nextitem is None or item.nodeid in item.config.stash.get(_LAST, set())):
        pool.close()
