"""Snapshots of per-process views on the real database: round trip, replacement, and a broken one reads as none."""

from __future__ import annotations

from typing import Any

import pytest

from opsdesk_shared.readiness import StartupPhases
from opsdesk_shared.snapshot import Snapshots

pytestmark = pytest.mark.integration


async def test_a_snapshot_reads_back_whole_across_chunks_and_a_new_one_replaces_it(mongo_db: Any) -> None:
    store = Snapshots(mongo_db["snapshots"], chunk_bytes=1000)
    payload = {"edges": [[f"A-{i}", "runs_on", f"S-{i % 7}"] for i in range(3000)], "名": "主樓"}

    await store.save("graph", through=41, payload=payload)
    first = await store.load("graph")
    await store.save("graph", through=42, payload={"edges": []})
    second = await store.load("graph")
    ids = [d["_id"] async for d in mongo_db["snapshots"].find({}, {"_id": 1})]

    assert first is not None and first.through == 41 and first.payload == payload
    assert second is not None and (second.through, second.payload) == (42, {"edges": []})
    assert first.size_bytes > 1000  # really cut into several chunks
    assert sorted(ids)[:1] == ["graph"] and len(ids) == 2  # the head and one chunk: the first generation is gone


async def test_no_snapshot_or_a_missing_chunk_reads_as_none(mongo_db: Any) -> None:
    store = Snapshots(mongo_db["snapshots"], chunk_bytes=100)
    await store.save("tally", through={"epoch": 3}, payload=[["k", i] for i in range(200)])
    head = await mongo_db["snapshots"].find_one({"_id": "tally"})
    await mongo_db["snapshots"].delete_one({"_id": f"tally|{head['generation']}|00001"})

    assert await store.load("nothing") is None
    assert await store.load("tally") is None


def test_startup_phases_add_up_per_named_phase() -> None:
    phases = StartupPhases()
    phases("views")
    phases("consumers")
    phases("views")

    assert set(phases.seconds) == {"views", "consumers"}
    assert phases.total == pytest.approx(sum(phases.seconds.values()), abs=0.01)
