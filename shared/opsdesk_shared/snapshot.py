"""Snapshots of a per-process view, so a restart reads a few documents instead of rebuilding from every one.

A snapshot is a JSON payload (the view, in whatever compact shape its owner chooses) plus `through`: the position
in the view's own change feed it includes (a change-log number, a JetStream sequence, an epoch). The owner loads the
snapshot and then applies the feed after `through`, exactly as it follows changes while running; without a snapshot
(first start, or one that cannot be read) it rebuilds in full and saves one.

Storage: zlib-compressed JSON cut into chunk documents of at most `chunk_bytes` (FerretDB and MongoDB refuse
documents over 16 MiB), all read and written by `_id` only (FerretDB v1 scans for any other filter). A new snapshot
writes its chunks under a fresh generation first and then replaces the head document naming that generation, so a
crash part-way leaves the previous snapshot whole; the old generation's chunks are deleted after the switch."""

from __future__ import annotations

import json
import time
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from .mongo import Document

CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Snapshot:
    through: Any
    payload: Any
    taken_at: datetime
    size_bytes: int


def _chunk_id(name: str, generation: str, n: int) -> str:
    return f"{name}|{generation}|{n:05d}"


class Snapshots:
    """Named snapshots in one collection (e.g. `snapshots` in the service's own database)."""

    def __init__(self, collection: AsyncCollection[Document], *, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.collection = collection
        self.chunk_bytes = chunk_bytes
        self.last_save_s = 0.0

    async def save(self, name: str, *, through: Any, payload: Any, taken_at: datetime | None = None) -> int:
        """Store `payload` as the snapshot `name` including the feed up to `through`; returns its compressed size."""
        started = time.perf_counter()
        data = zlib.compress(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode(), 6)
        generation = uuid.uuid4().hex[:12]
        chunks = [data[i:i + self.chunk_bytes] for i in range(0, len(data), self.chunk_bytes)] or [b""]
        for n, chunk in enumerate(chunks):
            await self.collection.insert_one({"_id": _chunk_id(name, generation, n), "d": chunk})
        previous = await self.collection.find_one({"_id": name}, {"generation": 1, "chunks": 1})
        head = {"generation": generation, "chunks": len(chunks), "through": through, "bytes": len(data),
                "taken_at": taken_at or datetime.now(UTC)}
        await self.collection.replace_one({"_id": name}, head, upsert=True)
        if previous is not None and previous.get("generation") != generation:
            for n in range(int(previous.get("chunks", 0))):
                await self.collection.delete_one({"_id": _chunk_id(name, str(previous["generation"]), n)})
        self.last_save_s = time.perf_counter() - started
        return len(data)

    async def load(self, name: str) -> Snapshot | None:
        """The snapshot, or None when there is none or it cannot be read whole (then rebuild in full)."""
        head = await self.collection.find_one({"_id": name})
        if head is None:
            return None
        parts: list[bytes] = []
        for n in range(int(head.get("chunks", 0))):
            doc = await self.collection.find_one({"_id": _chunk_id(name, str(head["generation"]), n)})
            if doc is None:
                return None
            parts.append(bytes(doc["d"]))
        data = b"".join(parts)
        try:
            payload = json.loads(zlib.decompress(data)) if data else None
        except (zlib.error, ValueError):
            return None
        taken_at = head.get("taken_at")
        if isinstance(taken_at, datetime) and taken_at.tzinfo is None:
            taken_at = taken_at.replace(tzinfo=UTC)
        return Snapshot(through=head.get("through"), payload=payload, taken_at=taken_at or datetime.now(UTC),
                        size_bytes=len(data))
