"""One request, one 422 with every field error (issue 13, H1 item 6): the schema's and the desk's rules together, in
the one error shape, so a client fixes everything in one go."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from intake.adapters.memory import MemoryKnownTags
from intake.wiring import Adapters

Headers = Callable[[str], dict[str, str]]


def _locs(response: httpx.Response) -> list[list[Any]]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    return [d["loc"] for d in body["detail"]]


async def test_a_schema_error_an_unknown_code_and_an_unknown_tag_come_in_one_422(
    client: httpx.AsyncClient, adapters: Adapters, auth: dict[str, str], ticket_body: dict[str, Any]
) -> None:
    adapters.tags = MemoryKnownTags({"GZ-2026-000001"})  # assets announced one tag: unknown ones are refused
    bad = {**ticket_body, "title": "x" * 201, "service_code": "RS-NOPE", "asset_tag": "GZ-2099-999999"}
    locs = _locs(await client.post("/api/v1/tickets", json=bad, headers=auth))
    assert sorted(map(tuple, locs)) == [("body", "asset_tag"), ("body", "service_code"), ("body", "title")]


async def test_the_desks_rules_alone_are_reported_together_too(
    client: httpx.AsyncClient, adapters: Adapters, auth: dict[str, str], ticket_body: dict[str, Any]
) -> None:
    adapters.tags = MemoryKnownTags({"GZ-2026-000001"})
    bad = {**ticket_body, "service_code": "RS-NOPE", "asset_tag": "GZ-2099-999999", "priority": "P1"}
    locs = _locs(await client.post("/api/v1/tickets", json=bad, headers=auth))
    assert sorted(map(tuple, locs)) == [("body", "asset_tag"), ("body", "priority_reason"), ("body", "service_code")]
    assert adapters.outbox.published == []


async def test_a_requester_hears_every_field_they_may_not_set_at_once(
    client: httpx.AsyncClient, as_user: Headers, ticket_body: dict[str, Any]
) -> None:
    body = {**ticket_body, "requester": {"name": "局長"}, "priority": "P1", "priority_reason": "急", "channel": "pigeon"}
    locs = _locs(await client.post("/api/v1/tickets", json=body, headers=as_user("req-office")))
    assert sorted(map(tuple, locs)) == [
        ("body", "channel"), ("body", "priority"), ("body", "priority_reason"), ("body", "requester", "name"),
    ]
