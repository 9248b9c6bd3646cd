"""The catalog as this replica knows it: loaded from the store, refreshed now and then so edits made through another
replica arrive, and updated at once by edits made here."""

from __future__ import annotations

from .catalog import SEED, CatalogService
from .ports import CatalogStore


class Catalog:
    def __init__(self, store: CatalogStore | None) -> None:
        self._store = store
        self._services: dict[str, CatalogService] = {}

    @classmethod
    def preloaded(cls, services: tuple[CatalogService, ...] = SEED) -> Catalog:
        """A fixed catalog without a store, for unit tests and tools."""
        catalog = cls(None)
        catalog._services = {s.code: s for s in services}
        return catalog

    async def start(self) -> None:
        if self._store is not None:
            await self._store.seed(SEED)
            await self.refresh()

    async def refresh(self) -> None:
        if self._store is not None:
            fresh = {s.code: s for s in await self._store.all()}
            # An edit made here while the read was under way is newer than what the read brought back: keep it
            # (issue 14, defect 2: a local view compares versions before it overwrites).
            for code, mine in self._services.items():
                if code in fresh and fresh[code].version < mine.version:
                    fresh[code] = mine
            self._services = fresh

    def get(self, code: str) -> CatalogService | None:
        return self._services.get(code)

    def all(self) -> list[CatalogService]:
        return sorted(self._services.values(), key=lambda s: s.code)

    async def put(self, service: CatalogService, *, expected_version: int | None) -> CatalogService:
        if self._store is None:
            raise RuntimeError("this catalog is fixed")
        stored = await self._store.put(service, expected_version=expected_version)
        self._services[stored.code] = stored
        return stored
