"""Shared builders for the assets tests: a register entry with a unique tag and a fixed clock."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from assets.domain import Asset, Location

T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)

AssetFactory = Callable[..., Asset]


@pytest.fixture
def t0() -> datetime:
    return T0


@pytest.fixture
def make_asset() -> AssetFactory:
    def make(*, tag: str | None = None, vendor: str | None = "聯想", status: str = "deployed") -> Asset:
        return Asset(
            tag=tag or f"GZ-T-{uuid.uuid4().hex[:8]}", type="laptop", model="Lenovo ThinkPad T14", serial="PF3XYZ12",
            location=Location(building="主樓", floor="4", room="402"), owner="李華", department="人事科",
            vendor=vendor, status=status,  # type: ignore[arg-type]
        )

    return make


@pytest.fixture
def asset(make_asset: AssetFactory) -> Asset:
    return make_asset()


def ctx_at(now: datetime, by: str = "tester") -> object:
    from assets.service import Ctx

    return Ctx(by=by, now=now, correlation_id="corr-test")


@pytest.fixture
def world() -> object:
    """Every adapter in memory, as the edges get them in tests."""
    from assets.adapters.memory import MemoryAssetRegister, MemoryOutbox, MemoryRepairStore
    from assets.main import Adapters

    return Adapters(register=MemoryAssetRegister(), repairs=MemoryRepairStore(), outbox=MemoryOutbox())
