"""One OpenAPI document for everything behind the one base URL, for signed-in callers.

The gateway reads each service's /openapi.json as itself (`service:intake`, a token addressed to that service),
never as the person asking, and keeps the operations under the prefixes it routes to that service.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from opsdesk_shared.internal_auth import service_caller

from ..entrypoints.deps import Caller, Wired
from .examples import fill_examples
from .routing import API, ROUTES
from .tokens import authorization

router = APIRouter(prefix=API)
GATEWAY = service_caller("intake")


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
        for path, operations in (doc.get("paths") or {}).items():
            if not path.startswith(API + "/") or ROUTES.get(path[len(API):].split("/")[1]) != upstream:
                continue  # not routed to this service (its probes, /metrics, another's prefix)
            # Per method: the gateway answers some operations itself (GET /api/v1/assets/{tag}, composed) and routes
            # the others of the same path (PATCH /api/v1/assets/{tag}); its own operation wins, the rest are kept.
            item = merged["paths"][path] = dict(merged["paths"].get(path, {}))
            for method, op in operations.items():
                if isinstance(op, dict) and method not in item:
                    item[method] = {**_rename_refs(op, prefix), "tags": [f"{upstream}: {t}" for t in op.get("tags", ["api"])]}
        for name, schema in ((doc.get("components") or {}).get("schemas") or {}).items():
            schemas[prefix + name] = _rename_refs(schema, prefix)
    merged["components"]["schemas"] = schemas
    fill_examples(merged)
    return merged


@router.get("/openapi.json", include_in_schema=False)
async def full_openapi(request: Request, wired: Wired, _caller: Caller) -> JSONResponse:
    """The gateway's own operations and, as far as the services answer, theirs (a service that does not answer is
    left out, and named in `x-missing`). Signed-in callers only: the map of every route is no business of strangers."""
    docs: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    client = wired.upstream_client
    for upstream, base_url in wired.upstreams.items():
        try:
            if client is None or wired.minter is None:
                raise httpx.HTTPError("no client")
            reply = await client.get(
                base_url.rstrip("/") + "/openapi.json", headers=authorization(wired.minter, GATEWAY, audience=upstream)
            )
            reply.raise_for_status()
            docs[upstream] = reply.json()
        except (httpx.HTTPError, ValueError):
            missing.append(upstream)
    merged = merge_openapi(request.app.openapi(), docs)
    merged["x-missing"] = missing
    return JSONResponse(merged)
