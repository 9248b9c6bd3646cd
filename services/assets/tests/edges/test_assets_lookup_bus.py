"""The asset.lookup request/reply handler on FastStream's in-memory TestNatsBroker.

Requests wait up to 10 s, not FastStream's default 0.5 s: these tests judge the answer, and inside the whole suite a
garbage collection alone once took longer than 0.5 s (a TimeoutError in CI, never the answer).
"""

from __future__ import annotations

import json

import pytest
from faststream.nats import NatsBroker, TestNatsBroker

from assets.adapters.memory import MemoryAssetRegister
from assets.domain import Asset
from assets.entrypoints import bus
from opsdesk_shared.contracts import subjects


async def test_lookup_of_a_known_tag_answers_the_asset(asset: Asset) -> None:
    broker = NatsBroker()
    bus.register(broker, assets=MemoryAssetRegister([asset]))

    async with TestNatsBroker(broker) as test_broker:
        reply = await test_broker.request(json.dumps({"tag": asset.tag}).encode(), subjects.ASSET_LOOKUP, timeout=10)

    body = json.loads(reply.body)
    assert body["found"] is True
    assert Asset.model_validate(body["asset"]) == asset


async def test_lookup_of_an_unknown_tag_answers_not_found(asset: Asset) -> None:
    broker = NatsBroker()
    bus.register(broker, assets=MemoryAssetRegister([asset]))

    async with TestNatsBroker(broker) as test_broker:
        reply = await test_broker.request(json.dumps({"tag": "GZ-NOPE"}).encode(), subjects.ASSET_LOOKUP, timeout=10)

    assert json.loads(reply.body) == {"found": False}


@pytest.mark.parametrize("payload", [b"not json", b"[]", b"{}", b'{"tag": 5}', b'{"tag": ""}', b"null"])
async def test_malformed_lookup_answers_an_error(payload: bytes, asset: Asset) -> None:
    broker = NatsBroker()
    bus.register(broker, assets=MemoryAssetRegister([asset]))

    async with TestNatsBroker(broker) as test_broker:
        reply = await test_broker.request(payload, subjects.ASSET_LOOKUP, timeout=10)

    body = json.loads(reply.body)
    assert body["found"] is False
    assert body["error"].startswith("bad request")
