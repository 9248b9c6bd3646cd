"""The database ledger counts every command a service's client sends, on the real database."""

from __future__ import annotations

import pytest
from prometheus_client import generate_latest

from opsdesk_shared.db_ledger import db_commands, tallied_client
from opsdesk_shared.mongo import connect
from opsdesk_shared.observability import SHARED_REGISTRY

pytestmark = pytest.mark.integration


def _count(service: str, command: str, collection: str = "things") -> float:
    return db_commands.labels(service, command, collection)._value.get()


async def test_each_command_is_counted_under_its_name_for_the_service(database_url: str) -> None:
    client = connect(database_url, service="ledger-test")
    try:
        coll = client["opsdesk_ledger_test"]["things"]
        before_insert, before_find = _count("ledger-test", "insert"), _count("ledger-test", "find")
        await coll.insert_one({"_id": "a", "n": 1})
        await coll.insert_one({"_id": "b", "n": 2})
        assert await coll.find_one({"_id": "a"}) is not None
        assert _count("ledger-test", "insert") - before_insert == 2
        assert _count("ledger-test", "find") - before_find == 1
        assert _count("ledger-test", "find", "other") == 0  # counted under the collection it addressed
        await client.drop_database("opsdesk_ledger_test")
    finally:
        await client.close()


async def test_a_client_without_a_service_counts_nothing(database_url: str) -> None:
    client = connect(database_url)
    try:
        before = _count("", "find")
        await client["opsdesk_ledger_test2"]["things"].find_one({"_id": "x"})
        assert _count("", "find") == before
    finally:
        await client.close()


async def test_the_tally_counts_one_clients_commands_by_name_and_leaves_the_drivers_own_out(database_url: str) -> None:
    async with tallied_client(database_url) as (client, tally):
        coll = client["opsdesk_ledger_test3"]["things"]
        await client["opsdesk_ledger_test3"].command("ping")  # the first command also signs a connection in
        await coll.insert_many([{"_id": "a"}, {"_id": "b"}])
        assert await coll.find_one({"_id": "a"}) is not None
        assert dict(tally.names) == {"insert": 1, "find": 1}, tally.names
        assert tally.per(2) == {"insert": 0.5, "find": 0.5}
        tally.clear()
        await coll.delete_one({"_id": "b"})
        assert dict(tally.names) == {"delete": 1}
        await client.drop_database("opsdesk_ledger_test3")


def test_the_ledger_and_the_process_cpu_are_on_metrics() -> None:
    text = generate_latest(SHARED_REGISTRY).decode()
    assert "opsdesk_db_commands_total" in text
    assert "process_cpu_seconds_total" in text
