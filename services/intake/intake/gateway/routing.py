"""The gateway's routes to the services behind it, so clients use one base URL and one credential.

`/api/v1/<prefix>/...` goes to the service that owns the prefix, at the same path (every service mounts its API
under /api/v1). The caller's bearer credential stays here: the service gets a token the gateway signs for it alone,
naming the caller (see tokens.py), and verifies it; no identity travels in plain headers. Auditors only read.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
from fastapi import APIRouter, HTTPException, Request, Response, status

from opsdesk_shared.roles import AGENCY_ROLE, STAFF_ROLES

from ..domain import Actor
from ..entrypoints.deps import Caller, Wired
from ..wiring import Adapters
from .tokens import authorization, caller_of

# prefix -> upstream service name (a key of Adapters.upstreams, and the audience of its internal tokens)
ROUTES: dict[str, str] = {
    **{p: "assets" for p in (
        "assets", "asset-types", "relations", "impact", "baselines", "audits", "inspections", "spares", "loaners",
        "repairs", "labels", "register",
    )},
    **{p: "knowledge" for p in ("kb", "problems")},
    **{p: "reporting" for p in ("reports", "forms")},
    # No "duty": dispatch serves no /duty (the rota is part of each engineer, PUT /engineers/{id}); routing it gave a 404.
    **{p: "dispatch" for p in ("engineers", "assignments", "escalations", "replacement-requests")},
    # "sla": the contract clocks' policies and the escalation contacts (/sla/policies, /sla/escalation-contacts; admins write).
    **{p: "sla-monitor" for p in ("timers", "calendars", "holidays", "notifications", "sla")},
}
API = "/api/v1"
# Who may write through each service; the services check each act against the verified caller as well.
WRITERS: dict[str, frozenset[str]] = {
    "assets": frozenset({"agent", "engineer", "manager", "admin"}),
    "knowledge": frozenset({"requester", "agent", "engineer", "manager", "admin"}),
    # The agency acknowledges or returns submitted reports (issue 16); reporting checks each step's role itself.
    "reporting": frozenset({"manager", "admin", "agency"}),
    "dispatch": frozenset({"agent", "engineer", "manager", "admin"}),
    "sla-monitor": frozenset({"admin"}),
}
# Who may read through each service. Requesters work through their tickets at the desk and the knowledge base;
# everything else behind the gateway is the operations team's.
STAFF = STAFF_ROLES  # the team and the agency (opsdesk_shared.roles)
READERS: dict[str, frozenset[str]] = {
    "assets": STAFF, "dispatch": STAFF, "sla-monitor": STAFF, "reporting": STAFF, "knowledge": STAFF | {"requester"},
}
# A prefix whose writers differ from its service's: everyone behind the gateway sets their own notification
# preferences (the SLA monitor lets only admins change roles' preferences and test channels).
PREFIX_WRITERS: dict[str, frozenset[str]] = {"notifications": STAFF | {"requester"}}
# A prefix whose readers differ from its service's: requesters read their own in-app notices and preferences
# (GET /notifications/mine, /notifications/preferences); the SLA monitor keeps everything else there to the team's roles.
PREFIX_READERS: dict[str, frozenset[str]] = {"notifications": STAFF | {"requester"}}
# The agency's own decisions under another service's prefix (issue 16): asking dispatch for an engineer to be
# replaced (POST /engineers/{id}/replacement-requests). Nothing else of the team's it writes; dispatch checks the role.
AGENCY_WRITES: tuple[tuple[str, re.Pattern[str]], ...] = (("engineers", re.compile(r"[^/]+/replacement-requests/?")),)
FORWARDED_REQUEST = ("content-type", "accept", "accept-language", "if-match", "if-none-match", "idempotency-key", "x-correlation-id")
FORWARDED_RESPONSE = ("content-type", "content-disposition", "etag", "location", "content-language", "x-correlation-id", "retry-after")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

router = APIRouter(prefix=API)


def upstream_path(prefix: str, rest: str) -> str:
    """The path at the service: the same as the client's, each segment encoded again (so a `%` stays a `%`)."""
    return f"{API}/{prefix}" + (f"/{quote(rest, safe='/')}" if rest else "")


def require_staff(actor: Actor) -> None:
    """Data behind the gateway (assets, assignments, reports) is the operations team's; requesters use the desk."""
    if actor.role not in STAFF:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{actor.role} may not read this")


async def _forward(request: Request, wired: Adapters, actor: Actor, prefix: str, rest: str) -> Response:
    upstream = ROUTES[prefix]
    if actor.role not in PREFIX_READERS.get(prefix, READERS[upstream]):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{actor.role} may not use {prefix}")
    agency_own = actor.role == AGENCY_ROLE and any(p == prefix and path.fullmatch(rest) for p, path in AGENCY_WRITES)
    if request.method not in READ_METHODS and actor.role not in PREFIX_WRITERS.get(prefix, WRITERS[upstream]) and not agency_own:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{actor.role} may not change {prefix}")
    base = wired.upstreams.get(upstream)
    client = wired.upstream_client
    if not base or client is None or wired.minter is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"the {upstream} service is not configured at the gateway")
    headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED_REQUEST}
    headers.update(authorization(wired.minter, caller_of(actor), audience=upstream))
    url = httpx.URL(base.rstrip("/") + upstream_path(prefix, rest))
    if not url.path.startswith(f"{API}/{prefix}"):
        # The path guard refuses dot segments before routing; this is the last word should one slip through.
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such path")
    try:
        reply = await client.request(
            request.method, url, params=list(request.query_params.multi_items()), content=await request.body(), headers=headers,
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
