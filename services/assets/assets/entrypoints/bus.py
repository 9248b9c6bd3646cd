"""The assets bus edge: answers asset.lookup requests (core NATS request/reply, not persisted)."""

from __future__ import annotations

import json
from typing import Any

from faststream.nats import NatsBroker
from faststream.nats.annotations import NatsMessage

from opsdesk_shared.contracts import subjects

from .. import metrics, service
from ..ports import AssetRegister


def register(broker: NatsBroker, *, assets: AssetRegister) -> None:
    @broker.subscriber(subjects.ASSET_LOOKUP, queue="assets", description="Request {'tag': str}; reply {'found': bool, 'asset': {...}}")
    async def on_asset_lookup(msg: NatsMessage) -> dict[str, Any]:
        try:
            request = json.loads(msg.body)
            tag = request["tag"]
            if not isinstance(tag, str) or not tag:
                raise ValueError("tag must be a non-empty string")
        except (ValueError, KeyError, TypeError) as exc:
            return {"found": False, "error": f"bad request: {exc}"}
        asset = await service.lookup_asset(tag, register=assets)
        metrics.lookups.labels(str(asset is not None).lower()).inc()
        if asset is None:
            return {"found": False}
        return {"found": True, "asset": asset.model_dump(mode="json")}
