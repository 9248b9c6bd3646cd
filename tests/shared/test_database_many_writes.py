"""Many update statements in flight answer (issue 17): FerretDB v1 held each update statement's query connection
until the whole command ended, so 100 statements in flight (one bulk write of 100, eight bulk writes of 20 at once,
or many single updates from six services) took every pooled connection and the database answered nothing until it
was restarted. scripts/build-ferretdb.sh patches the update and findAndModify handlers to release the query before
writing; on MongoDB these pass as they are."""

from __future__ import annotations

import asyncio

import pytest
from pymongo import ReturnDocument, UpdateOne

from opsdesk_shared.mongo import connect

pytestmark = pytest.mark.integration


async def test_large_and_concurrent_bulk_writes_and_updates_all_answer(database_url: str) -> None:
    client = connect(database_url)
    try:
        coll = client["opsdesk_many_writes"]["docs"]
        await coll.insert_many([{"_id": i, "v": 0, "a": []} for i in range(300)])

        async def work() -> None:
            one = await coll.bulk_write([UpdateOne({"_id": i}, {"$inc": {"v": 1}}) for i in range(150)], ordered=False)
            assert one.matched_count == 150
            many = await asyncio.gather(*(
                coll.bulk_write([UpdateOne({"_id": (k * 20 + i) % 300}, {"$inc": {"v": 1}}) for i in range(20)], ordered=False)
                for k in range(16)
            ))
            assert sum(r.matched_count for r in many) == 320
            singles = await asyncio.gather(*(coll.update_one({"_id": k}, {"$push": {"a": k}}) for k in range(200)))
            assert sum(r.matched_count for r in singles) == 200
            found = await asyncio.gather(*(
                coll.find_one_and_update({"_id": k}, {"$inc": {"v": 1}}, return_document=ReturnDocument.AFTER)
                for k in range(120)
            ))
            assert all(doc is not None for doc in found)

        await asyncio.wait_for(work(), timeout=60)  # unpatched FerretDB v1: no answer, ever
    finally:
        await client.drop_database("opsdesk_many_writes")
        await client.close()
