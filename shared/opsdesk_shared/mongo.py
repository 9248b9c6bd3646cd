"""Mongo client helpers; clients are bound to one event loop, so they are only ever made inside a lifespan."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]


def connect(url: str) -> AsyncMongoClient[Document]:
    # Short timeouts: a missing database must fail readiness quickly, not hang requests.
    return AsyncMongoClient(url, serverSelectionTimeoutMS=3000, connectTimeoutMS=3000, tz_aware=True)


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
