"""One OpenAPI document at the one base URL: the gateway's own operations plus the routed ones of each service,
for signed-in callers, read from each service as the gateway itself."""

from __future__ import annotations

from typing import Any

import httpx

from intake.adapters.memory import MemoryAssetDirectory, MemoryOutbox, MemoryTicketStore
from intake.catalog_cache import Catalog
from intake.identity import memory_identity
from intake.identity.domain import key_hash
from intake.main import create_app
from intake.settings import IntakeSettings
from intake.wiring import Adapters
from opsdesk_shared.internal_auth import Caller, TokenVerifier
from opsdesk_shared.internal_auth_testing import test_keypair as keypair

KEY = "openapi-reader-key-0123456789abcdef"
ASSETS_DOC: dict[str, Any] = {
    "openapi": "3.1.0",
    "paths": {
        "/api/v1/assets/{tag}": {"get": {"tags": ["assets"], "responses": {"200": {"description": "ok"}}}},
        "/api/v1/assets/{tag}/overview": {"get": {"tags": ["assets"], "responses": {"200": {"description": "ok"}}}},
        "/api/v1/relations": {"post": {"tags": ["relations"], "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/RelationIn"}}}},
                                        "responses": {"201": {"description": "ok"}}}},
        "/api/v1/kb/search": {"get": {"responses": {"200": {"description": "not assets' prefix"}}}},
        "/healthz": {"get": {"responses": {"200": {"description": "ok"}}}},
        "/metrics": {"get": {"responses": {"200": {"description": "ok"}}}},
    },
    "components": {"schemas": {"RelationIn": {"type": "object", "properties": {"type": {"$ref": "#/components/schemas/RelationType"}}},
                               "RelationType": {"enum": ["runs_on"]}}},
}
KNOWLEDGE_DOC: dict[str, Any] = {"openapi": "3.1.0", "paths": {"/api/v1/kb/search": {"get": {"tags": ["knowledge base"], "responses": {"200": {"description": "ok"}}}}}}


class Services:
    def __init__(self) -> None:
        self.callers: list[tuple[str, Caller]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        service = request.url.host.removesuffix(".test")
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.callers.append((service, TokenVerifier(keypair()[1], audience=service).verify(token)))
        if service == "assets":
            return httpx.Response(200, json=ASSETS_DOC)
        if service == "knowledge":
            return httpx.Response(200, json=KNOWLEDGE_DOC)
        return httpx.Response(503)


async def _merged(headers: dict[str, str]) -> tuple[httpx.Response, Services]:
    services = Services()
    identity = memory_identity(jwt_secret="openapi-secret-" + "z" * 40)
    adapters = Adapters(
        store=MemoryTicketStore(), outbox=MemoryOutbox(), catalog=Catalog.preloaded(), assets=MemoryAssetDirectory({}),
        authenticator=identity.authenticator, identity=identity,
        upstreams={"assets": "http://assets.test", "knowledge": "http://knowledge.test", "reporting": "http://reporting.test"},
        upstream_client=httpx.AsyncClient(transport=httpx.MockTransport(services)),
    )
    from datetime import UTC, datetime

    await identity.keys.ensure(key_hash(KEY), name="docs-reader", role="requester", now=datetime.now(UTC))
    app = create_app(IntakeSettings(environment="test", internal_signing_key=keypair()[0]), adapters=adapters)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as client:
            return await client.get("/api/v1/openapi.json", headers=headers), services


async def test_the_gateway_serves_one_document_with_every_routed_operation() -> None:
    response, _ = await _merged({"Authorization": f"Bearer {KEY}"})

    doc = response.json()
    paths = doc["paths"]
    assert {"/api/v1/assets/{tag}/overview", "/api/v1/relations", "/api/v1/kb/search", "/api/v1/tickets"} <= set(paths)
    assert "/api/v1/healthz" not in paths and "/healthz" in paths  # only routed prefixes are merged
    assert not [t for op in paths["/metrics"].values() for t in op.get("tags", []) if t.startswith("assets")]
    assert paths["/api/v1/assets/{tag}"]["get"]["tags"] == ["assets"]  # the gateway's own compose route wins
    body = paths["/api/v1/relations"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/assets__RelationIn"}
    assert doc["components"]["schemas"]["assets__RelationIn"]["properties"]["type"] == {"$ref": "#/components/schemas/assets__RelationType"}
    assert paths["/api/v1/kb/search"]["get"]["tags"] == ["knowledge: knowledge base"]  # knowledge's, not assets' stray copy
    assert doc["x-missing"] == ["reporting"]


async def test_the_gateway_reads_each_document_as_itself_not_as_the_person_asking() -> None:
    _, services = await _merged({"Authorization": f"Bearer {KEY}"})

    assert sorted(s for s, _ in services.callers) == ["assets", "knowledge", "reporting"]
    assert {(c.subject, c.role) for _, c in services.callers} == {("service:intake", "service")}


async def test_the_merged_document_needs_a_signed_in_caller() -> None:
    anonymous, services = await _merged({})
    forged, _ = await _merged({"X-Opsdesk-Role": "admin"})

    assert anonymous.status_code == forged.status_code == 401
    assert services.callers == []
