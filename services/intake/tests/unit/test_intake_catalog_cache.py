"""Issue 14, defect 2 at the catalog cache: a refresh's read that comes back after an edit made here keeps the edit."""

from __future__ import annotations

import asyncio

from intake.adapters.memory import MemoryCatalogStore
from intake.catalog import SEED
from intake.catalog_cache import Catalog


async def test_an_edit_made_during_a_refresh_is_not_overwritten_by_the_older_read() -> None:
    store = MemoryCatalogStore()
    catalog = Catalog(store)
    await catalog.start()
    code = SEED[0].code
    before = catalog.get(code)
    assert before is not None
    read_started, edit_done = asyncio.Event(), asyncio.Event()
    real_all = store.all

    async def slow_all() -> list:  # type: ignore[type-arg]
        snapshot = await real_all()  # read before the edit lands...
        read_started.set()
        await edit_done.wait()  # ...and returned after it
        return snapshot

    store.all = slow_all  # type: ignore[method-assign]

    async def edit() -> None:
        await read_started.wait()
        await catalog.put(before.model_copy(update={"skill": "printer-edited"}), expected_version=before.version)
        edit_done.set()

    await asyncio.gather(catalog.refresh(), edit())

    now = catalog.get(code)
    assert now is not None and now.version == before.version + 1 and now.skill == "printer-edited"
