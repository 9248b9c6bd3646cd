"""asset.lookup as core NATS request/reply on a real server, answered from the real database."""

from __future__ import annotations

import json
from typing import Any

import pytest

from assets.adapters.mongo import MongoAssetRegister
from assets.domain import Asset
from assets.entrypoints import bus
from opsdesk_shared.contracts import subjects

pytestmark = pytest.mark.integration


@pytest.fixture
async def lookup_broker(broker: Any, mongo_register: MongoAssetRegister, asset: Asset) -> Any:
    await mongo_register.seed([asset])
    bus.register(broker, assets=mongo_register)
    await broker.start()
    return broker


async def ask(broker: Any, payload: bytes) -> dict[str, Any]:
    reply = await broker.request(payload, subjects.ASSET_LOOKUP, timeout=2)
    return json.loads(reply.body)  # type: ignore[no-any-return]


async def test_lookup_of_a_known_tag_answers_found(lookup_broker: Any, asset: Asset) -> None:
    body = await ask(lookup_broker, json.dumps({"tag": asset.tag}).encode())

    assert body["found"] is True
    assert Asset.model_validate(body["asset"]) == asset


async def test_lookup_of_an_unknown_tag_answers_not_found(lookup_broker: Any) -> None:
    assert await ask(lookup_broker, json.dumps({"tag": "GZ-NOPE"}).encode()) == {"found": False}


@pytest.mark.parametrize("payload", [b"{not json", b'{"serial": "PF3XYZ12"}', b'["GZ-2026-000001"]'])
async def test_malformed_lookup_answers_an_error_instead_of_hanging(lookup_broker: Any, payload: bytes) -> None:
    body = await ask(lookup_broker, payload)

    assert body["found"] is False
    assert body["error"].startswith("bad request")


async def test_lookup_is_not_persisted_in_any_stream(lookup_broker: Any, asset: Asset) -> None:
    await ask(lookup_broker, json.dumps({"tag": asset.tag}).encode())

    js = lookup_broker.config.connection_state.stream
    for name in ("OPSDESK_EVENTS", "OPSDESK_DEADLETTER"):
        assert (await js.stream_info(name)).state.messages == 0
