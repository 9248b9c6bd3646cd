"""`make run`'s demonstration stock (seed_demo): parts an engineer can take on a fresh install, added once, on both
stores."""

from __future__ import annotations

from typing import Any

import pytest

from assets import service_ops
from assets.adapters.memory import MemoryDocs
from assets.adapters.mongo import MongoDocs
from assets.domain import DEMO_STOCK


@pytest.fixture(params=["memory", "mongo"])
def spares(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return MemoryDocs()
    return MongoDocs(request.getfixturevalue("mongo_db")["spares"], None)


async def test_demo_stock_is_added_once_and_never_over_what_the_site_holds(spares: Any) -> None:
    await service_ops.set_stock(part_type=DEMO_STOCK[0][0], site=DEMO_STOCK[0][1], received=1, minimum=None,
                                reorder_quantity=None, spares=spares)  # the site already counted this part

    assert await service_ops.seed_stock(DEMO_STOCK, spares=spares) == len(DEMO_STOCK) - 1
    assert await service_ops.seed_stock(DEMO_STOCK, spares=spares) == 0  # a restart adds nothing
    lines, _ = await service_ops.list_stock(spares=spares, low_only=False, site=None, part_type=None, after=None, limit=50)
    by_part = {(s.part_type, s.site): s.available for s in lines}
    assert by_part[(DEMO_STOCK[0][0], DEMO_STOCK[0][1])] == 1 and by_part[(DEMO_STOCK[2][0], DEMO_STOCK[2][1])] == DEMO_STOCK[2][2]
