"""Knowledge stores, memory and Mongo, behind one fixture; Mongo runs on the real server from the devstack plugin."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(params=["memory", "mongo"])
def backend(request: pytest.FixtureRequest) -> Any:
    """None for the memory stores, else a fresh database (only then is the server started)."""
    return request.getfixturevalue("mongo_db") if request.param == "mongo" else None
