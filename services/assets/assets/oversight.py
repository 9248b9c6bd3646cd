"""Acts beyond the agency's authorization that assets notices (issue 16): a configuration item whose type requires
authorization changed with no authorized ticket naming it, and a device with storage sent out for repair (a vendor
repair) without one. The act is not refused (the register stays true to what happened); it is announced as
`cmdb.violation_detected`, which intake records as a security incident. Assets learns which tickets the agency
authorized, and the asset each names, from `ticket.authorized` (intake's decision)."""

from __future__ import annotations

from opsdesk_shared.contracts.authorizations import TicketAuthorizedV1
from opsdesk_shared.contracts.security import CmdbViolationDetectedV1, Rule

from .domain import Asset, CiType
from .ports import Docs
from .service import Ctx


async def note_authorized(event: TicketAuthorizedV1, *, authorized: Docs) -> None:
    """Remember an authorized ticket and the asset it names (idempotent: the same document again)."""
    await authorized.put(event.ticket_id, {"asset_tag": event.asset_tag, "number": event.number,
                                           "authorized_at": event.authorized_at.isoformat()})


async def _covers(ticket_id: str | None, tag: str, authorized: Docs) -> bool:
    if not ticket_id:
        return False
    doc = await authorized.get(ticket_id)
    return doc is not None and doc.get("asset_tag") == tag


async def _announce(
    *, rule: Rule, act: str, what: str, asset: Asset, ticket_id: str | None, repair_id: str | None, ctx: Ctx,
    violations: Docs,
) -> CmdbViolationDetectedV1:
    event = CmdbViolationDetectedV1(
        rule=rule, actor=ctx.by, actor_role=ctx.role or "unknown", act=act, what=what, occurred_at=ctx.now, refused=False,
        ticket_id=ticket_id, asset_tag=asset.tag, repair_id=repair_id, detected_by="assets",
    )
    envelope = ctx.wrap(event, asset.tag)
    await violations.create(str(envelope.event_id), {"asset_tag": asset.tag, "rule": rule, "at": ctx.now.isoformat()}, [envelope])
    return event


async def check_change(
    asset: Asset, ci_type: CiType | None, *, ticket_id: str | None, ctx: Ctx, authorized: Docs, violations: Docs,
) -> CmdbViolationDetectedV1 | None:
    """A change to an item whose type requires authorization, under no authorized ticket naming it: announced."""
    if ci_type is None or not ci_type.requires_authorization or await _covers(ticket_id, asset.tag, authorized):
        return None
    under = f"（工单 {ticket_id} 未经授权或未指明此配置项）" if ticket_id else "（未指明经授权的工单）"
    return await _announce(
        rule="unauthorized_ci_change", act="cmdb.change", what=f"修改需授权的配置项 {asset.tag}（{ci_type.name}）{under}",
        asset=asset, ticket_id=ticket_id, repair_id=None, ctx=ctx, violations=violations,
    )


async def check_repair(
    asset: Asset, ci_type: CiType | None, *, kind: str, ticket_id: str | None, repair_id: str, ctx: Ctx,
    authorized: Docs, violations: Docs,
) -> CmdbViolationDetectedV1 | None:
    """A device with storage sent out (a vendor repair) under no authorized ticket naming it: announced."""
    if kind != "vendor" or ci_type is None or not ci_type.has_storage or await _covers(ticket_id, asset.tag, authorized):
        return None
    return await _announce(
        rule="unauthorized_repair", act="repair.send_out", what=f"有存储的设备 {asset.tag}（{ci_type.name}）未经授权送外修",
        asset=asset, ticket_id=ticket_id, repair_id=repair_id, ctx=ctx, violations=violations,
    )


