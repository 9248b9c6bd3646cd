"""Asks the assets service over NATS request/reply which asset a tag names."""

from __future__ import annotations

import json
from typing import Any

from faststream.nats import NatsBroker

from opsdesk_shared.contracts import subjects

from ..ports import AssetsUnavailable


class NatsAssetDirectory:
    def __init__(self, broker: NatsBroker, *, timeout_s: float) -> None:
        self._broker = broker
        self._timeout_s = timeout_s

    async def lookup(self, tag: str) -> dict[str, Any] | None:
        try:
            reply = await self._broker.request(json.dumps({"tag": tag}).encode(), subjects.ASSET_LOOKUP, timeout=self._timeout_s)
        except Exception as exc:
            raise AssetsUnavailable(str(exc)) from exc
        answer = json.loads(reply.body)
        return answer.get("asset") if answer.get("found") else None
