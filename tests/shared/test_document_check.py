"""The memory adapters' document check refuses what the real database refuses, with the driver's own exception class.

Each case runs twice: through `check_document` (what every memory adapter calls on a write) and as a real write to
the database the test fixtures start (FerretDB v1 locally; MongoDB when MONGODB_URL or Docker is there).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pymongo.errors import AutoReconnect, DocumentTooLarge, PyMongoError, WriteError

from opsdesk_shared.mongo import MAX_BSON_SIZE, check_document

MiB = 1024 * 1024

# name -> (document, exception class the driver raises, or None when stored)
CASES: dict[str, tuple[dict[str, Any], type[Exception] | None]] = {
    "dot_in_top_key": ({"service_record.review": 1}, WriteError),
    "dot_in_nested_key": ({"history": {"a.b": 1}}, WriteError),
    "dot_in_key_inside_list": ({"history": [{"a.b": 1}]}, WriteError),
    "dollar_leading_nested_key": ({"x": {"$a": 1}}, WriteError),
    "dollar_leading_key_inside_list": ({"x": [{"$a": 1}]}, WriteError),
    "array_of_arrays": ({"x": [[1, 2]]}, WriteError),
    "empty_array_in_array": ({"x": [[]]}, WriteError),
    "array_of_arrays_deep": ({"x": {"y": [1, [2]]}}, WriteError),
    "infinity": ({"x": float("inf")}, WriteError),
    "over_16_mib": ({"x": "a" * (17 * MiB)}, DocumentTooLarge),
    "date_without_time": ({"x": dt.date(2026, 11, 30)}, Exception),
    # accepted by both
    "dollar_inside_key": ({"a$b": 1}, None),
    "array_in_document_in_array": ({"x": [{"y": [1]}]}, None),
    "empty_key": ({"": 1}, None),
    "just_under_16_mib": ({"x": "a" * (16 * MiB - 100)}, None),
    "aware_datetime": ({"x": dt.datetime(2026, 11, 30, 8, tzinfo=dt.UTC)}, None),
}
if "MONGODB_URL" not in __import__("os").environ:
    # MongoDB stores NaN; FerretDB v1 drops the connection on it, which pymongo reports as AutoReconnect.
    CASES["nan"] = ({"x": float("nan")}, AutoReconnect)


def _raised(expected: type[Exception], got: BaseException) -> bool:
    # bson's "cannot encode" is bson.errors.InvalidDocument from both; compare the exact class otherwise.
    return type(got) is expected if expected is not Exception else isinstance(got, Exception)


@pytest.mark.parametrize("name", list(CASES))
def test_memory_check_refuses_as_the_driver(name: str) -> None:
    doc, expected = CASES[name]
    if expected is None:
        check_document({"_id": name, **doc})
        return
    with pytest.raises(Exception) as caught:
        check_document({"_id": name, **doc})
    assert _raised(expected, caught.value), f"{name}: memory raised {type(caught.value).__name__}, driver {expected.__name__}"


def test_memory_check_refuses_from_16_mib_as_mongodb_does() -> None:
    """FerretDB stores up to 16 KiB more (pymongo's own command overhead); MongoDB refuses; we follow MongoDB."""
    with pytest.raises(DocumentTooLarge):
        check_document({"x": "a" * (MAX_BSON_SIZE + 1)})


def test_write_error_carries_the_servers_code_and_reason() -> None:
    with pytest.raises(WriteError) as caught:
        check_document({"history": [{"service_record.review": "approve"}]})
    assert caught.value.code == 2
    assert "service_record.review" in str(caught.value) and "'.'" in str(caught.value)


@pytest.mark.integration
@pytest.mark.parametrize("name", list(CASES))
async def test_real_database_answers_each_case_as_the_memory_check(mongo_db: Any, name: str) -> None:
    doc, expected = CASES[name]
    coll = mongo_db["docs"]
    memory: BaseException | None = None
    try:
        check_document({"_id": name, **doc})
    except Exception as e:  # compared with the server's answer below
        memory = e
    try:
        await coll.insert_one({"_id": name, **doc})
    except Exception as server:
        assert memory is not None, f"{name}: the server refused ({server!r}); the memory check accepted"
        assert expected is not None and _raised(expected, server), f"{name}: server raised {server!r}"
        assert type(memory) is type(server), f"{name}: memory {type(memory).__name__}, server {type(server).__name__}"
        if isinstance(server, WriteError):
            assert isinstance(memory, WriteError) and memory.code == server.code
        return
    assert memory is None, f"{name}: the server stored it; the memory check refused ({memory!r})"
    assert expected is None


@pytest.mark.integration
@pytest.mark.parametrize("name", ["dot_in_key_inside_list", "dollar_leading_nested_key", "array_of_arrays", "infinity"])
async def test_updates_are_refused_like_inserts(mongo_db: Any, name: str) -> None:
    """$set and $push answer as an insert does, so checking the updated document in memory is the same check."""
    doc, expected = CASES[name]
    coll = mongo_db["docs"]
    await coll.insert_one({"_id": name, "list": []})
    for update in ({"$set": {"w": doc}}, {"$push": {"list": doc}}):
        with pytest.raises(PyMongoError) as caught:
            await coll.update_one({"_id": name}, update)
        assert type(caught.value) is expected
        with pytest.raises(PyMongoError) as memory:
            check_document({"_id": name, "w": doc, "list": [doc]})
        assert type(memory.value) is type(caught.value)
