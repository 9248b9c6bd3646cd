"""`GET /api/v1/audit/verify` of one service (issue 16): its chains checked, read-only, for those who oversee the work.

The gateway asks every service with its internal token (naming the caller) and combines the answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from .audit_chain import Verdict
from .audit_store import Verifies, combined
from .internal_auth import require_roles
from .roles import AGENCY_ROLE, AUDITOR_ROLE

# Who may ask: the desk's manager and administrators, auditors and the agency (who oversees the team's work).
AUDIT_READERS: frozenset[str] = frozenset({"admin", "manager", AUDITOR_ROLE, AGENCY_ROLE})


class AuditVerdict(BaseModel):
    """Whether every chained history record still holds its seal."""

    ok: bool = Field(description="True when every chain verified")
    checked: int = Field(description="How many records were checked (up to and including a break)")
    first_broken: str | None = Field(
        default=None, description="The first record whose seal does not hold: `<chain>#<index>: why` (the gateway adds `<service>:`)",
    )


async def _verdict_of(store: Any) -> Verdict:
    """A store wired without a seal (a plain test adapter, a misconfigured deployment) cannot vouch for its records:
    that is a failed verification naming it, not a 500."""
    if not hasattr(store, "audit_verify"):
        return Verdict(ok=False, checked=0, first_broken=f"{type(store).__name__}: keeps no sealed trail")
    verdict: Verdict = await store.audit_verify()
    return verdict


def audit_router(stores: Callable[[Any], Sequence[Verifies | object]]) -> APIRouter:
    """The route over the stores `stores(app.state.adapters)` names (each store's `audit_verify`)."""
    router = APIRouter(prefix="/api/v1/audit", tags=["audit"])

    @router.get(
        "/verify", response_model=AuditVerdict, summary="Verify this service's tamper-evident trail",
        dependencies=[Depends(require_roles(*AUDIT_READERS))],
    )
    async def verify(request: Request) -> AuditVerdict:
        verdict = combined([await _verdict_of(store) for store in stores(request.app.state.adapters)])
        return AuditVerdict(ok=verdict.ok, checked=verdict.checked, first_broken=verdict.first_broken)

    return router
