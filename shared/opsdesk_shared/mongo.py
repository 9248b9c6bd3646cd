"""Mongo client helpers; clients are bound to one event loop, so they are only ever made inside a lifespan."""

from __future__ import annotations

import asyncio
import math
import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import bson
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import AutoReconnect, ConnectionFailure, DocumentTooLarge, WriteError

from .db_ledger import CommandLedger
from .errors import Unavailable

Document = dict[str, Any]
T = TypeVar("T")


def connect(url: str, *, service: str = "") -> AsyncMongoClient[Document]:
    """A client for `url`; with `service`, its commands are counted in the database ledger (db_ledger.py)."""
    listeners = [CommandLedger(service)] if service else []
    # Short timeouts: a missing database must fail readiness quickly, not hang requests.
    return AsyncMongoClient(
        url, serverSelectionTimeoutMS=3000, connectTimeoutMS=3000, tz_aware=True, event_listeners=listeners,
    )


async def ping(db: AsyncDatabase[Document]) -> bool:
    try:
        await db.command("ping")
    except Exception:
        return False
    return True


_locks: weakref.WeakValueDictionary[tuple[str, str, Any], asyncio.Lock] = weakref.WeakValueDictionary()


def document_lock(collection: AsyncCollection[Document], doc_id: Any) -> asyncio.Lock:
    """Serialises this process's writes to one document.

    FerretDB v1's SQLite backend applies an update as read, modify, write outside a transaction, so two concurrent
    updates of one document lose one of them (measured: 100 concurrent $push kept 14). Every read-modify-write of a
    document in Opsdesk holds this lock; MongoDB needs none of it, and several replicas of a service need MongoDB.
    """
    key = (collection.database.name, collection.name, doc_id)
    lock = _locks.get(key)
    if lock is None:
        lock = asyncio.Lock()
        _locks[key] = lock
    return lock


_ferretdb: weakref.WeakKeyDictionary[AsyncMongoClient[Document], bool] = weakref.WeakKeyDictionary()


async def is_ferretdb(client: AsyncMongoClient[Document]) -> bool:
    """FerretDB answers buildInfo with its own version; remembered per client."""
    if client not in _ferretdb:
        info = await client.admin.command("buildInfo")
        _ferretdb[client] = "ferretdbVersion" in info
    return _ferretdb[client]


async def update_if(
    collection: AsyncCollection[Document], doc_id: Any, *, expect: dict[str, Any], update: dict[str, Any]
) -> bool:
    """Apply `update` to one document only while its fields equal `expect`; True when applied.

    MongoDB does it in one atomic update. FerretDB v1's SQLite backend would scan the whole table for any filter
    beyond `_id` (and is not atomic anyway), so there the check runs here, by `_id` only, under the document lock.
    """
    async with document_lock(collection, doc_id):
        if not await is_ferretdb(collection.database.client):
            result = await collection.update_one({"_id": doc_id, **expect}, update)
            return result.matched_count == 1
        current = await collection.find_one({"_id": doc_id}, {field: 1 for field in expect})
        if current is None or any(current.get(field) != value for field, value in expect.items()):
            return False
        await collection.update_one({"_id": doc_id}, update)
        return True


# Given the current document (None when there is none), what to write: (fields it must still have, the update),
# or None to write nothing.
Decision = tuple[dict[str, Any], dict[str, Any]] | None


async def modify(
    collection: AsyncCollection[Document], doc_id: Any, decide: Callable[[Document | None], Decision]
) -> bool:
    """Read one document, decide from it, write the decision: two operations by `_id`. True when written.

    On MongoDB the write is filtered on the fields the decision relied on, so a concurrent change makes it miss
    (False) rather than overwrite; on FerretDB the document lock is what keeps the read and the write together.
    """
    async with document_lock(collection, doc_id):
        current = await collection.find_one({"_id": doc_id})
        decision = decide(current)
        if decision is None:
            return False
        expect, update = decision
        if await is_ferretdb(collection.database.client):
            await collection.update_one({"_id": doc_id}, update)
            return True
        result = await collection.update_one({"_id": doc_id, **expect}, update)
        return result.matched_count == 1


async def read_back(read: Callable[[], Awaitable[T]], *, attempts: int = 3, delay_s: float = 0.5) -> T:
    """Settle a write whose outcome is unknown (the connection died while it was sent): read what is stored.

    The caller decides from the answer whether its write landed, and answers only then: a committed write must
    not be reported as failed (a client without an Idempotency-Key would make a duplicate), nor a lost one as
    done. While the database stays silent, Unavailable (503 with Retry-After): the outcome is still unknown."""
    for attempt in range(attempts):
        try:
            return await read()
        except ConnectionFailure as exc:
            if attempt == attempts - 1:
                raise Unavailable("the database did not answer; whether the write was stored is not known yet") from exc
            await asyncio.sleep(delay_s * (attempt + 1))
    raise AssertionError("unreachable")


# The largest document MongoDB stores (its `maxBsonObjectSize`; FerretDB v1 announces the same).
MAX_BSON_SIZE = 16 * 1024 * 1024


def check_document(doc: Document) -> None:
    """Refuse, as the real database would, a document it would refuse; every memory adapter calls it on each write.

    A memory store kinder than the database makes a unit test pass where the service fails (issue 13: the history
    key `service_record.review` answered 500 in production and passed every unit test). Measured against FerretDB
    v1.24 through pymongo (tests/shared/test_document_check.py runs each case on both):
    - a key with `.` or starting with `$`, at any depth, lists included: WriteError code 2 (BadValue);
    - an array directly inside an array (`[[1]]`, also `[[]]`): WriteError code 2; FerretDB v1 has no nested arrays;
    - infinity: WriteError code 2; NaN: FerretDB drops the connection ("NaN is not supported"), pymongo says AutoReconnect;
    - more than 16 MiB of BSON: MongoDB refuses it; pymongo refuses anything over 16 MiB + 16 KiB itself with
      DocumentTooLarge before sending, while FerretDB stores the 16 KiB in between; we refuse from 16 MiB, as MongoDB does;
    - what BSON cannot encode at all (a `date`, an int over 64 bits, a NUL in a key): bson's own error, as the driver.
    """
    _check_value(doc)
    size = len(bson.encode(doc))
    if size > MAX_BSON_SIZE:
        raise DocumentTooLarge(f"BSON document too large ({size} bytes) - the server supports up to {MAX_BSON_SIZE} bytes")


def _refused(errmsg: str) -> WriteError:
    # The shape pymongo gives a server's refusal of one write (code 2 = BadValue, as FerretDB answers).
    return WriteError(errmsg, code=2, details={"index": 0, "code": 2, "errmsg": errmsg})


def _check_value(value: Any) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and "." in key:
                raise _refused(f"invalid key: \"{key}\" (key must not contain '.' sign)")
            if isinstance(key, str) and key.startswith("$"):
                raise _refused(f"invalid key: \"{key}\" (key must not start with '$' sign)")
            _check_value(item)
    elif isinstance(value, list | tuple):
        for item in value:
            if isinstance(item, list | tuple):
                raise _refused(f"invalid value: {value!r} (nested arrays are not supported)")
            _check_value(item)
    elif isinstance(value, float):
        if math.isnan(value):
            raise AutoReconnect("connection closed: FerretDB v1 refuses NaN (\"NaN is not supported\") by dropping the connection")
        if math.isinf(value):
            raise _refused(f"invalid value: {value!r} (infinity values are not allowed)")
