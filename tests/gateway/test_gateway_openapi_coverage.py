"""Every route of the gateway is in the one OpenAPI document, and every body there has an example it accepts.

The gateway and all services run as their own apps on memory adapters, joined in-process (stack_on_memory.py): the
gateway fetches each service's /openapi.json as itself, as it does in `make run`.
"""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import pytest

from intake.gateway.examples import has_example
from intake.gateway.routing import API, ROUTES

from .stack_on_memory import gateway_client

KEY = "gateway-coverage-admin-key-0123456789"


@pytest.fixture
async def merged() -> dict[str, Any]:
    async with gateway_client(admin_key=KEY) as client:
        reply = await client.get(f"{API}/openapi.json", headers={"Authorization": f"Bearer {KEY}"})
    assert reply.status_code == 200, reply.text
    doc: dict[str, Any] = reply.json()
    assert doc["x-missing"] == []  # every service answered
    return doc


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in doc["paths"].items() for method, op in item.items() if isinstance(op, dict)]


async def test_each_routed_prefix_has_a_documented_operation(merged: dict[str, Any]) -> None:
    documented = {path.split("/")[3] for path in merged["paths"] if path.startswith(API + "/")}
    assert sorted(set(ROUTES) - documented) == []  # a routed prefix no service serves (like /duty was) is a 404


async def test_a_gateway_route_beside_a_routed_one_keeps_both(merged: dict[str, Any]) -> None:
    item = merged["paths"][f"{API}/assets/{{tag}}"]
    assert {"get", "patch"} <= set(item)  # the gateway composes GET; PATCH goes to assets
    assert item["patch"]["tags"][0].startswith("assets: ")


async def test_every_body_has_an_example_its_schema_accepts(merged: dict[str, Any]) -> None:
    without = [f"{m.upper()} {p}" for m, p, op in _operations(merged) if "requestBody" in op
               and not any(has_example(merged, media) for media in op["requestBody"].get("content", {}).values())]
    assert without == []
    refused = []
    for method, path, op in _operations(merged):
        media = (op.get("requestBody") or {}).get("content", {}).get("application/json")
        if media is None or "example" not in media:
            continue
        schema = {"$ref": "#/$defs/body", "$defs": {"body": media["schema"]}, "components": merged["components"]}
        try:
            jsonschema.validate(media["example"], schema)
        except jsonschema.ValidationError as exc:
            refused.append(f"{method.upper()} {path}: {exc.message}")
    assert refused == []


async def test_the_catalog_example_is_accepted_by_the_gateway_itself() -> None:
    """One drawn-or-written example sent for real: what the document shows is what the route takes."""
    async with gateway_client(admin_key=KEY) as client:
        auth = {"Authorization": f"Bearer {KEY}"}
        doc = (await client.get(f"{API}/openapi.json", headers=auth)).json()
        media = doc["paths"][f"{API}/catalog/{{code}}"]["put"]["requestBody"]["content"]["application/json"]
        schema = doc["components"]["schemas"][media["schema"]["$ref"].rsplit("/", 1)[1]]
        example = media.get("example", (schema.get("examples") or [None])[0])
        reply = await client.put(f"{API}/catalog/RS-VIDEO", json=example, headers=auth)
    assert reply.status_code == 200, reply.text
    assert isinstance(reply, httpx.Response)
