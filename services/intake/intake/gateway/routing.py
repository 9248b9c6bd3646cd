"""The gateway's routes to the services behind it, so clients use one base URL and one credential.

`/api/v1/<prefix>/...` goes to the service that owns the prefix, with the caller's identity in X-Opsdesk-* headers
(the services trust them because only the gateway can reach them) and the bearer token removed. Auditors only read.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse

from ..domain import Actor
from .deps import Caller, Wired

# prefix -> upstream service name (a key of Adapters.upstreams)
ROUTES: dict[str, str] = {
    **{p: "assets" for p in (
        "assets", "asset-types", "relations", "impact", "baselines", "audits", "inspections", "spares", "loaners",
        "repairs", "labels", "register",
    )},
    **{p: "knowledge" for p in ("kb", "problems")},
    **{p: "reporting" for p in ("reports", "forms")},
    **{p: "dispatch" for p in ("engineers", "assignments", "duty")},
    **{p: "sla-monitor" for p in ("timers", "calendars", "holidays")},
}
# Where each service mounts its API: the five from the foundation under /api/v1, the later ones at the root.
BASE_PATHS: dict[str, str] = {"assets": "/api/v1", "dispatch": "/api/v1", "sla-monitor": "/api/v1", "reporting": "", "knowledge": ""}
# Who may write through each service; reads are open to every signed-in role, and the services filter further.
WRITERS: dict[str, frozenset[str]] = {
    "assets": frozenset({"agent", "engineer", "manager", "admin"}),
    "knowledge": frozenset({"requester", "agent", "engineer", "manager", "admin"}),
    "reporting": frozenset({"manager", "admin"}),
    "dispatch": frozenset({"agent", "engineer", "manager", "admin"}),
    "sla-monitor": frozenset({"admin"}),
}
# Who may read through each service. Requesters work through their tickets at the desk and the knowledge base;
# the services behind do not know a requester's department, so everything else stays with the operations team.
STAFF = frozenset({"agent", "engineer", "manager", "auditor", "admin"})
READERS: dict[str, frozenset[str]] = {
    "assets": STAFF, "dispatch": STAFF, "sla-monitor": STAFF, "reporting": STAFF, "knowledge": STAFF | {"requester"},
}
FORWARDED_REQUEST = ("content-type", "accept", "accept-language", "if-match", "if-none-match", "idempotency-key", "x-correlation-id")
FORWARDED_RESPONSE = ("content-type", "content-disposition", "etag", "location", "content-language", "x-correlation-id")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

router = APIRouter(prefix="/api/v1")


def _identity(actor: Actor) -> dict[str, str]:
    headers = {"X-Opsdesk-User": actor.subject, "X-Opsdesk-Role": actor.role}
    if actor.department:
        # Header values are latin-1 on the wire; departments are Chinese, so they travel percent-encoded.
        headers["X-Opsdesk-Department"] = quote(actor.department)
    return headers


async def _forward(request: Request, wired: Any, actor: Actor, prefix: str, rest: str) -> Response:
    upstream = ROUTES[prefix]
    if actor.role not in READERS[upstream]:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{actor.role} may not use {prefix}")
    if request.method not in READ_METHODS and actor.role not in WRITERS[upstream]:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{actor.role} may not change {prefix}")
    base = wired.upstreams.get(upstream)
    client: httpx.AsyncClient | None = wired.upstream_client
    if not base or client is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"the {upstream} service is not configured at the gateway")
    headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED_REQUEST}
    headers.update(_identity(actor))
    path = BASE_PATHS[upstream] + (f"/{prefix}/{rest}" if rest else f"/{prefix}")
    try:
        reply = await client.request(
            request.method, base.rstrip("/") + path, params=list(request.query_params.multi_items()),
            content=await request.body(), headers=headers,
        )
    except httpx.HTTPError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"the {upstream} service did not answer: {type(exc).__name__}") from None
    out = {k: v for k, v in reply.headers.items() if k.lower() in FORWARDED_RESPONSE}
    return Response(content=reply.content, status_code=reply.status_code, headers=out)


def _route(prefix: str) -> None:
    async def forward_root(request: Request, wired: Wired, actor: Caller) -> Response:
        return await _forward(request, wired, actor, prefix, "")

    async def forward(rest: str, request: Request, wired: Wired, actor: Caller) -> Response:
        return await _forward(request, wired, actor, prefix, rest)

    upstream = ROUTES[prefix]
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    router.add_api_route(f"/{prefix}", forward_root, methods=methods, tags=[f"gateway: {upstream}"],
                         summary=f"Routed to {upstream} /{prefix}", include_in_schema=False)
    router.add_api_route(f"/{prefix}/{{rest:path}}", forward, methods=methods, tags=[f"gateway: {upstream}"],
                         summary=f"Routed to {upstream} /{prefix}/...", include_in_schema=False)


for _prefix in ROUTES:
    _route(_prefix)


def _rename_refs(node: Any, prefix: str) -> Any:
    """Point every schema reference of an upstream document at its prefixed copy in the merged document."""
    if isinstance(node, dict):
        return {
            k: (f"#/components/schemas/{prefix}{v.rsplit('/', 1)[1]}" if k == "$ref" and isinstance(v, str) and v.startswith("#/components/schemas/")
                else _rename_refs(v, prefix))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rename_refs(v, prefix) for v in node]
    return node


def merge_openapi(own: dict[str, Any], upstream_docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The gateway's document plus every routed operation of the services behind it, at the path clients call."""
    merged = {**own, "paths": dict(own.get("paths", {})), "components": dict(own.get("components", {}))}
    schemas = dict(merged["components"].get("schemas", {}))
    for upstream, doc in upstream_docs.items():
        prefix = upstream.replace("-", "_") + "__"
        base = BASE_PATHS[upstream]
        for path, operations in (doc.get("paths") or {}).items():
            if not path.startswith(base + "/"):
                continue
            rest = path[len(base):]
            if ROUTES.get(rest.split("/")[1]) != upstream:
                continue
            public = "/api/v1" + rest
            if public in merged["paths"]:
                continue  # the gateway answers it itself (e.g. GET /api/v1/assets/{tag})
            tagged = {
                method: {**_rename_refs(op, prefix), "tags": [f"{upstream}: {t}" for t in op.get("tags", ["api"])]}
                for method, op in operations.items() if isinstance(op, dict)
            }
            merged["paths"][public] = tagged
        for name, schema in ((doc.get("components") or {}).get("schemas") or {}).items():
            schemas[prefix + name] = _rename_refs(schema, prefix)
    merged["components"]["schemas"] = schemas
    return merged


@router.get("/openapi.json", include_in_schema=False)
async def full_openapi(request: Request, wired: Wired) -> JSONResponse:
    """One OpenAPI document for everything behind the one base URL: the gateway's own operations and, as far as the
    services answer, theirs (a service that does not answer is left out, and named in `x-missing`)."""
    docs: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    client = wired.upstream_client
    for upstream, base_url in wired.upstreams.items():
        try:
            if client is None:
                raise httpx.HTTPError("no client")
            reply = await client.get(base_url.rstrip("/") + "/openapi.json")
            reply.raise_for_status()
            docs[upstream] = reply.json()
        except (httpx.HTTPError, ValueError):
            missing.append(upstream)
    merged = merge_openapi(request.app.openapi(), docs)
    merged["x-missing"] = missing
    return JSONResponse(merged)
