"""`GET /api/v1/audit/verify` at the gateway (issue 16): the tamper-evident trail of every service, verified as one.

The desk's own chains (tickets) are checked here; every other service that keeps chained records (those in
`opsdesk_shared.audit_store.TRAILS`) is asked for its own `GET /api/v1/audit/verify` with a token signed for it naming
the caller, as every forwarded request is. A service that does not answer cannot be vouched for: the answer is then
not ok, and names it.
"""

from __future__ import annotations

import asyncio

import httpx
from fastapi import APIRouter, HTTPException, status

from opsdesk_shared.audit_chain import Verdict, combine
from opsdesk_shared.audit_http import AUDIT_READERS, AuditVerdict
from opsdesk_shared.audit_store import TRAILS

from ..domain import Actor
from ..entrypoints.deps import Caller, Wired
from ..wiring import Adapters
from .tokens import authorization, caller_of

SELF = "intake"
PATH = "/api/v1/audit/verify"
# A service checks every record it holds (minutes of CPU at 100,000 tickets): far longer than a routed request.
VERIFY_TIMEOUT_S = 900.0

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


async def _ask(wired: Adapters, actor: Actor, upstream: str) -> Verdict:
    """One service's verdict; one that is not configured or does not answer is a verdict of its own (not ok)."""
    base = wired.upstreams.get(upstream)
    if not base or wired.upstream_client is None or wired.minter is None:
        return Verdict(ok=False, checked=0, first_broken="not configured at the gateway")
    headers = authorization(wired.minter, caller_of(actor), audience=upstream)
    try:
        reply = await wired.upstream_client.get(base.rstrip("/") + PATH, headers=headers, timeout=VERIFY_TIMEOUT_S)
    except httpx.HTTPError as exc:
        return Verdict(ok=False, checked=0, first_broken=f"did not answer ({type(exc).__name__})")
    if reply.status_code != status.HTTP_200_OK:
        return Verdict(ok=False, checked=0, first_broken=f"answered {reply.status_code}")
    try:
        found = AuditVerdict.model_validate(reply.json())
    except ValueError:
        return Verdict(ok=False, checked=0, first_broken="answered something other than a verdict")
    return Verdict(ok=found.ok, checked=found.checked, first_broken=found.first_broken)


@router.get("/verify", response_model=AuditVerdict, summary="Verify every service's tamper-evident trail")
async def verify(wired: Wired, actor: Caller) -> AuditVerdict:
    """`{"ok", "checked", "first_broken": "<service>:<chain>#<i>: why"}` over every service (read-only; the desk's
    managers and administrators, auditors and the agency)."""
    if actor.role not in AUDIT_READERS:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{actor.role} may not verify the audit trail")
    others = [name for name in TRAILS if name != SELF]
    own, *theirs = await asyncio.gather(wired.store.audit_verify(), *(_ask(wired, actor, name) for name in others))
    verdict = combine({SELF: own, **dict(zip(others, theirs, strict=True))})
    return AuditVerdict(ok=verdict.ok, checked=verdict.checked, first_broken=verdict.first_broken)
