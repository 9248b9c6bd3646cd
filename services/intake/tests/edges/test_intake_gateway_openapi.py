"""One OpenAPI document at the one base URL: the gateway's own operations plus the routed ones of each service."""

from __future__ import annotations

from typing import Any

import httpx

from intake.adapters.memory import MemoryAssetDirectory, MemoryOutbox, MemoryTicketStore
from intake.catalog_cache import Catalog
from intake.identity import memory_identity
from intake.main import create_app
from intake.settings import IntakeSettings
from intake.wiring import Adapters

ASSETS_DOC: dict[str, Any] = {
    "openapi": "3.1.0",
    "paths": {
        "/api/v1/assets/{tag}": {"get": {"tags": ["assets"], "responses": {"200": {"description": "ok"}}}},
        "/api/v1/assets/{tag}/overview": {"get": {"tags": ["assets"], "responses": {"200": {"description": "ok"}}}},
        "/api/v1/relations": {"post": {"tags": ["relations"], "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/RelationIn"}}}},
                                        "responses": {"201": {"description": "ok"}}}},
        "/healthz": {"get": {"responses": {"200": {"description": "ok"}}}},
    },
    "components": {"schemas": {"RelationIn": {"type": "object", "properties": {"type": {"$ref": "#/components/schemas/RelationType"}}},
                               "RelationType": {"enum": ["runs_on"]}}},
}
KNOWLEDGE_DOC: dict[str, Any] = {"openapi": "3.1.0", "paths": {"/kb/search": {"get": {"tags": ["knowledge base"], "responses": {"200": {"description": "ok"}}}}}}


def upstream(request: httpx.Request) -> httpx.Response:
    if request.url.host == "assets.test":
        return httpx.Response(200, json=ASSETS_DOC)
    if request.url.host == "knowledge.test":
        return httpx.Response(200, json=KNOWLEDGE_DOC)
    return httpx.Response(503)


async def test_the_gateway_serves_one_document_with_every_routed_operation() -> None:
    identity = memory_identity(jwt_secret="openapi-secret-" + "z" * 40)
    adapters = Adapters(
        store=MemoryTicketStore(), outbox=MemoryOutbox(), catalog=Catalog.preloaded(), assets=MemoryAssetDirectory({}),
        authenticator=identity.authenticator, identity=identity,
        upstreams={"assets": "http://assets.test", "knowledge": "http://knowledge.test", "reporting": "http://reporting.test"},
        upstream_client=httpx.AsyncClient(transport=httpx.MockTransport(upstream)),
    )
    app = create_app(IntakeSettings(environment="test"), adapters=adapters)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as client:
            doc = (await client.get("/api/v1/openapi.json")).json()

    paths = doc["paths"]
    assert {"/api/v1/assets/{tag}/overview", "/api/v1/relations", "/api/v1/kb/search", "/api/v1/tickets"} <= set(paths)
    assert "/api/v1/healthz" not in paths and "/healthz" in paths  # only routed prefixes are merged
    assert paths["/api/v1/assets/{tag}"]["get"]["tags"] == ["assets"]  # the gateway's own compose route wins
    body = paths["/api/v1/relations"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/assets__RelationIn"}
    assert doc["components"]["schemas"]["assets__RelationIn"]["properties"]["type"] == {"$ref": "#/components/schemas/assets__RelationType"}
    assert paths["/api/v1/kb/search"]["get"]["tags"] == ["knowledge: knowledge base"]
    assert doc["x-missing"] == ["reporting"]
