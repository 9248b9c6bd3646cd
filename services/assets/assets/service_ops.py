"""Use cases around the register: baselines, audits, inspections, spare parts, loaners, the tickets projection,
the asset overview, and the CSV/XLSX import."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from opsdesk_shared.bus import KeyedLocks
from opsdesk_shared.contracts import (
    TicketAssignedV1,
    TicketClosedV1,
    TicketCreatedV1,
    TicketReassignedV1,
    TicketResolvedV1,
    TicketStatusChangedV1,
)
from opsdesk_shared.contracts.cmdb import InspectionFinding, InspectionKind, RegisterImportedV1

from . import domain, offloaded, register_io, stock, upkeep
from .domain import Asset, Repair
from .ports import AssetRegister, ConcurrentUpdate, Doc, Docs, DuplicateKey, RepairStore
from .service import Ctx, InvalidAsset, UnknownAsset, allocate_tags, ci_types, modify, repairs_of, update_asset
from .service_graph import RelationGraph
from .texts import Said
from .upkeep import Audit, Baseline, Scope, Sighting


class NotFound(LookupError):
    pass


async def _in_scope(register: AssetRegister, scope: Scope) -> list[Asset]:
    return [a async for a in register.scan() if scope.matches(a)]


def _plain(model: Any) -> Doc:
    return model.model_dump(mode="json")  # type: ignore[no-any-return]


# --- baselines -----------------------------------------------------------------------------------------------


async def record_baseline(
    *, name: str, scope: Scope, fields: Iterable[str], register: AssetRegister, baselines: Docs, ctx: Ctx
) -> Baseline:
    baseline = upkeep.record_baseline(name=name, scope=scope, fields=fields, assets=await _in_scope(register, scope),
                                      now=ctx.now, by=ctx.by)
    await baselines.create(baseline.id, _plain(baseline))
    return baseline


async def get_baseline(baseline_id: str, *, baselines: Docs) -> Baseline:
    doc = await baselines.get(baseline_id)
    if doc is None:
        raise NotFound(baseline_id)
    return Baseline.model_validate(doc)


async def baseline_drift(baseline_id: str, *, register: AssetRegister, baselines: Docs) -> tuple[Baseline, list[upkeep.Drift]]:
    baseline = await get_baseline(baseline_id, baselines=baselines)
    return baseline, upkeep.drift(baseline, await _in_scope(register, baseline.scope))


# --- audits --------------------------------------------------------------------------------------------------


async def get_audit(audit_id: str, *, audits: Docs) -> Audit:
    doc = await audits.get(audit_id)
    if doc is None:
        raise NotFound(audit_id)
    return Audit.model_validate(doc)


AUDIT_LISTED = ("name", "scope", "status", "opened_at", "opened_by", "closed_at", "_counts")


def _audit_doc(audit: Audit, v: int) -> Doc:
    """The stored audit with its counts beside it, so the list reads them without the tag maps."""
    counts = {"expected": len(audit.expected), "seen": len(audit.seen), "discrepancies": len(audit.discrepancies)}
    return {**_plain(audit), "_v": v, "_counts": counts}


async def open_audit(*, name: str, scope: Scope, register: AssetRegister, audits: Docs, ctx: Ctx) -> Audit:
    audit = upkeep.open_audit(name=name, scope=scope, assets=await _in_scope(register, scope), now=ctx.now, by=ctx.by)
    await audits.create(audit.id, _audit_doc(audit, 1))
    return audit


async def list_audits(
    *, audits: Docs, status: str | None = None, opened_from: datetime | None = None, opened_before: datetime | None = None,
    offset: int = 0, limit: int = 50,
) -> tuple[list[Doc], int]:
    """Audits newest opened first, filtered by state and by when they were opened ([from, before)); with the total
    matching. Audits number a few a year: the list reads every one's summary fields (never its tag maps)."""
    found: list[Doc] = []
    async for doc in audits.scan(fields=AUDIT_LISTED):
        opened = datetime.fromisoformat(str(doc["opened_at"]))
        if (status and doc.get("status") != status) or (opened_from and opened < opened_from) \
                or (opened_before and opened >= opened_before):
            continue
        counts = doc.get("_counts")
        if not isinstance(counts, dict):  # stored before the counts were: read it whole once
            whole = await audits.get(str(doc["_id"]))
            counts = _audit_doc(Audit.model_validate(whole), 0)["_counts"] if whole else {}
        scope = {k: v for k, v in (doc.get("scope") or {}).items() if v is not None}
        found.append({"id": doc["_id"], **{k: doc.get(k) for k in AUDIT_LISTED if k != "_counts"}, "scope": scope, **counts})
    found.sort(key=lambda d: (str(d["opened_at"]), str(d["id"])), reverse=True)
    return found[offset:offset + limit], len(found)


async def _change_audit(audit_id: str, audits: Docs, change: Any, events: Any = ()) -> Audit:
    for _ in range(5):
        doc = await audits.get(audit_id)
        if doc is None:
            raise NotFound(audit_id)
        updated, produced = change(Audit.model_validate(doc))
        if await audits.replace_if(audit_id, _audit_doc(updated, doc["_v"] + 1), expect={"_v": doc["_v"]},
                                   events=produced):
            return updated  # type: ignore[no-any-return]
    raise ConcurrentUpdate(audit_id)


async def record_scan(audit_id: str, sighting: Sighting, *, audits: Docs) -> Audit:
    return await _change_audit(audit_id, audits, lambda a: (upkeep.record_sighting(a, sighting), []))


async def close_audit(audit_id: str, *, register: AssetRegister, audits: Docs, ctx: Ctx) -> Audit:
    audit = await get_audit(audit_id, audits=audits)
    tags = set(audit.expected) | set(audit.seen)
    registered = {t: a for t in tags if (a := await register.get(t)) is not None}

    def close(a: Audit) -> tuple[Audit, list[Any]]:
        closed, event = upkeep.close_audit(a, registered, now=ctx.now, by=ctx.by)
        return closed, [ctx.wrap(event, a.id)]

    return await _change_audit(audit_id, audits, close)


async def apply_corrections(
    audit_id: str, corrections: list[tuple[str, str]], *, register: AssetRegister, audits: Docs, types: Docs, ctx: Ctx
) -> list[Asset]:
    """Apply the agreed corrections (tag, kind): each becomes a new version of the item, changed by the auditor."""
    audit = await get_audit(audit_id, audits=audits)
    changed = []
    for tag, kind in corrections:
        asset = await register.get(tag)
        if asset is None:
            raise UnknownAsset(tag)
        corrected = upkeep.correction(audit, asset, kind)
        fields = {"location": corrected.location.model_dump()} if kind == "wrong_location" else {"owner": corrected.owner}
        changed.append(await update_asset(tag, fields, register=register, types=types, ctx=ctx, change="corrected"))
    done = tuple(f"{t}:{k}" for t, k in corrections)
    await _change_audit(audit_id, audits, lambda a: (a.model_copy(update={"corrected": (*a.corrected, *done)}), []))
    return changed


# --- inspections ---------------------------------------------------------------------------------------------


async def record_inspection(
    *, asset_tag: str, kind: InspectionKind, findings: list[InspectionFinding], performed_at: datetime | None,
    register: AssetRegister, inspections: Docs, inspection_index: Docs, ctx: Ctx,
) -> upkeep.Inspection:
    asset = await register.get(asset_tag)
    if asset is None:
        raise UnknownAsset(asset_tag)
    inspection, event = upkeep.record_inspection(asset=asset, kind=kind, findings=findings, by=ctx.by, at=performed_at or ctx.now)
    await inspections.create(inspection.id, _plain(inspection), [ctx.wrap(event, asset_tag)])

    def index(doc: Doc | None) -> Doc:
        doc = doc or {"ids": [], "last": {}}
        last = dict(doc["last"])
        at = inspection.performed_at.isoformat()
        if last.get(kind, "") < at:
            last[kind] = at
        return {"ids": [*doc["ids"], inspection.id], "last": last}

    await modify(inspection_index, asset_tag, index)
    return inspection


async def inspections_of(tag: str, *, inspections: Docs, inspection_index: Docs) -> list[upkeep.Inspection]:
    doc = await inspection_index.get(tag) or {"ids": []}
    found = [await inspections.get(i) for i in doc["ids"]]
    return [upkeep.Inspection.model_validate(d) for d in found if d is not None]


async def inspections_due(*, kind: str, scope: Scope, register: AssetRegister, inspection_index: Docs, now: datetime) -> list[str]:
    assets = await _in_scope(register, scope)
    last: dict[str, dict[str, datetime]] = {}
    for asset in assets:
        doc = await inspection_index.get(asset.tag)
        if doc:
            last[asset.tag] = {k: datetime.fromisoformat(v) for k, v in doc["last"].items()}
    return upkeep.inspections_due(assets, last, kind=kind, now=now)


# --- spare parts ---------------------------------------------------------------------------------------------


async def get_stock(part_type: str, site: str, *, spares: Docs) -> stock.SpareStock | None:
    doc = await spares.get(stock.stock_key(part_type, site))
    return stock.SpareStock.model_validate(doc) if doc else None


async def _change_stock(part_type: str, site: str, spares: Docs, change: Any, *, create: bool = False) -> tuple[stock.SpareStock, Any]:
    key = stock.stock_key(part_type, site)
    result: dict[str, Any] = {}

    def step(doc: Doc | None) -> Doc | None:
        if doc is None and not create:
            raise NotFound(key)
        current = stock.SpareStock.model_validate(doc) if doc else stock.SpareStock(part_type=part_type, site=site)
        updated, extra = change(current)
        result["stock"], result["extra"] = updated, extra
        return _plain(updated)

    await modify(spares, key, step)
    return result["stock"], result["extra"]


async def set_stock(
    *, part_type: str, site: str, received: int, minimum: int | None, reorder_quantity: int | None, spares: Docs
) -> stock.SpareStock:
    def change(s: stock.SpareStock) -> tuple[stock.SpareStock, None]:
        s = stock.receive(s, received)
        update = {k: v for k, v in (("minimum", minimum), ("reorder_quantity", reorder_quantity)) if v is not None}
        return s.model_copy(update=update), None

    updated, _ = await _change_stock(part_type, site, spares, change, create=True)
    return updated


async def seed_stock(lines: Iterable[tuple[str, str, int, int]], *, spares: Docs) -> int:
    """Stock lines for a demonstration, each only where no line for its part and site exists yet (a restart adds
    nothing); how many were added."""
    added = 0
    for part_type, site, quantity, minimum in lines:
        if await spares.get(stock.stock_key(part_type, site)) is None:
            await set_stock(part_type=part_type, site=site, received=quantity, minimum=minimum, reorder_quantity=None,
                            spares=spares)
            added += 1
    return added


async def reserve_spare(
    *, part_type: str, site: str, quantity: int, ticket_id: str | None, spares: Docs, ctx: Ctx, links: Docs | None = None,
) -> stock.Reservation:
    if ticket_id is not None and links is not None:
        ticket_id = await known_ticket(ticket_id, links=links)
    _, res = await _change_stock(part_type, site, spares, lambda s: stock.reserve(s, quantity=quantity, ticket_id=ticket_id,
                                                                                   now=ctx.now, by=ctx.by))
    return res  # type: ignore[no-any-return]


async def issue_spare(
    *, part_type: str, site: str, quantity: int, ticket_id: str, reservation_id: str | None, asset_tag: str | None,
    spares: Docs, ctx: Ctx, links: Docs | None = None, issues: Docs | None = None, issue_id: str | None = None,
) -> tuple[stock.SpareStock, Any]:
    """The spare-part requisition: stock leaves against a ticket that exists (by id or number, from the projection
    of intake's ticket events); the event is stored with the stock document, the issue beside it for reversal.
    A given `issue_id` is issued once per stock (stock.AlreadyIssued after)."""
    if links is not None:
        ticket_id = await known_ticket(ticket_id, links=links)
    key = stock.stock_key(part_type, site)
    for _ in range(5):
        doc = await spares.get(key)
        if doc is None:
            raise NotFound(key)
        updated, event = stock.issue(stock.SpareStock.model_validate(doc), quantity=quantity, ticket_id=ticket_id,
                                     reservation_id=reservation_id, asset_tag=asset_tag, now=ctx.now, by=ctx.by,
                                     issue_id=issue_id)
        if await spares.replace_if(key, {**_plain(updated), "_v": doc.get("_v", 0) + 1}, expect={"_v": doc.get("_v")},
                                   events=[ctx.wrap(event, key)]):
            if issues is not None:
                # After the stock write: a crash in between loses the way back, never parts (no transactions).
                await issues.create(event.issue_id, {**_plain(stock.SpareIssue.of(event)), "_v": 1})
            return updated, event
    raise ConcurrentUpdate(key)


class AlreadyReversed(Exception):
    pass


async def reverse_spare_issue(
    issue_id: str, *, reason: str | None, spares: Docs, issues: Docs, ctx: Ctx
) -> tuple[stock.SpareIssue, stock.SpareStock]:
    """Take an issue back: its parts return to stock (announced as cmdb.spare_issue_reversed), the issue is marked.
    The stock remembers the issues it took back, so a retry after a crash between the two writes restores once."""
    doc = await issues.get(issue_id)
    if doc is None:
        raise NotFound(issue_id)
    issue = stock.SpareIssue.model_validate(doc)
    if issue.status == "reversed":
        raise AlreadyReversed(Said("err.issue_reversed", id=issue_id, at=str(issue.reversed_at), by=issue.reversed_by))
    key = stock.stock_key(issue.part_type, issue.site)
    for _ in range(5):
        current = await spares.get(key)
        if current is None:
            raise NotFound(key)
        restored, event = stock.reverse_issue(stock.SpareStock.model_validate(current), issue, reason=reason,
                                              now=ctx.now, by=ctx.by)
        if event is None or await spares.replace_if(
            key, {**_plain(restored), "_v": current.get("_v", 0) + 1}, expect={"_v": current.get("_v")},
            events=[ctx.wrap(event, key)],
        ):
            break
    else:
        raise ConcurrentUpdate(key)
    marked = issue.model_copy(update={"status": "reversed", "reversed_by": ctx.by, "reversed_at": ctx.now, "reason": reason})
    if not await issues.replace_if(issue_id, {**_plain(marked), "_v": doc["_v"] + 1}, expect={"_v": doc["_v"]}):
        raise ConcurrentUpdate(issue_id)
    return marked, restored


async def list_stock(
    *, spares: Docs, low_only: bool, site: str | None, part_type: str | None, after: str | None, limit: int
) -> tuple[list[stock.SpareStock], str | None]:
    """Stock lines by part type then site; `after` is the last key of the previous page. A scan: stock has a line
    per part type and site (hundreds), not per part."""
    found = []
    async for doc in spares.scan():
        line = stock.SpareStock.model_validate(doc)
        if (low_only and not stock.low_stock(line)) or (site and line.site != site) or (part_type and line.part_type != part_type):
            continue
        if after is not None and line.key <= after:
            continue
        found.append(line)
    found.sort(key=lambda line: line.key)
    page = found[:limit]
    return page, (page[-1].key if len(found) > limit else None)


async def replenishment_list(*, month: str, spares: Docs) -> list[stock.ReplenishmentLine]:
    stocks = [stock.SpareStock.model_validate(d) async for d in spares.scan()]
    return stock.replenishment(stocks, month=month)


# --- loaners -------------------------------------------------------------------------------------------------


async def lend_loaner(
    *, loaner_tag: str, borrower: str, department: str | None, for_asset_tag: str | None, repair_id: str | None,
    due_back: Any, register: AssetRegister, loans: Docs, ctx: Ctx, repairs: RepairStore | None = None,
) -> stock.Loan:
    """Lend an item in stock; lent for a repair, the repair names the loaner (and its send-out form shows it)."""
    from .service import change_asset_status

    loaner = await register.get(loaner_tag)
    if loaner is None:
        raise UnknownAsset(loaner_tag)
    repair = None
    if repair_id is not None and repairs is not None:
        repair = await repairs.get(repair_id)
        if repair is None:
            raise UnknownRepair(repair_id)
        for_asset_tag = for_asset_tag or repair.asset_tag
    loan, event = stock.lend(loaner, borrower=borrower, department=department, for_asset_tag=for_asset_tag,
                             repair_id=repair_id, due_back=due_back, now=ctx.now, by=ctx.by)
    await change_asset_status(loaner_tag, "on_loan", register=register, ctx=ctx)
    await loans.create(loan.id, {**_plain(loan), "_v": 1}, [ctx.wrap(event, loaner_tag)])
    await modify(loans, f"open:{loaner_tag}", lambda _: {"loan_id": loan.id})
    if repair is not None and repairs is not None:
        await _attach_loaner(repair, loaner_tag, repairs=repairs, ctx=ctx)
    return loan


class UnknownRepair(LookupError):
    pass


async def _attach_loaner(repair: Repair, loaner_tag: str, *, repairs: RepairStore, ctx: Ctx) -> None:
    for _ in range(5):
        try:
            await repairs.save(domain.attach_loaner(repair, loaner_tag=loaner_tag, now=ctx.now, by=ctx.by), [])
            return
        except ConcurrentUpdate:
            fresh = await repairs.get(repair.id)
            if fresh is None:
                return
            repair = fresh
    raise ConcurrentUpdate(repair.id)


async def return_loaner(loan_id: str, *, register: AssetRegister, loans: Docs, ctx: Ctx) -> stock.Loan:
    from .service import change_asset_status

    doc = await loans.get(loan_id)
    if doc is None:
        raise NotFound(loan_id)
    loan, event = stock.give_back(stock.Loan.model_validate(doc), now=ctx.now, by=ctx.by)
    if not await loans.replace_if(loan_id, {**_plain(loan), "_v": doc["_v"] + 1}, expect={"_v": doc["_v"]},
                                  events=[ctx.wrap(event, loan.loaner_tag)]):
        raise ConcurrentUpdate(loan_id)
    asset = await register.get(loan.loaner_tag)
    if asset is not None and asset.status == "on_loan":
        await change_asset_status(loan.loaner_tag, "in_stock", register=register, ctx=ctx)
    await loans.delete(f"open:{loan.loaner_tag}")
    return loan


async def open_loans(*, loans: Docs) -> list[stock.Loan]:
    found = []
    async for doc in loans.scan():
        if not doc["_id"].startswith("open:") and doc.get("status") == "lent":
            found.append(stock.Loan.model_validate(doc))
    return sorted(found, key=lambda loan: loan.lent_at)


# --- repairs: lists and the SLA monitor's breaches --------------------------------------------------------------


async def on_repair_breached(event: Any, *, clocks: Docs) -> bool:
    """Remember that the SLA monitor announced a repair clock as run out (sla.breached with a repair_id); the
    latest breach per clock counts. Idempotent: a redelivery writes the same value."""
    repair_id = getattr(event, "repair_id", None)
    if not repair_id:
        return False
    at = event.breached_at.isoformat()

    def change(doc: Doc | None) -> Doc | None:
        breaches = dict((doc or {}).get("breaches", {}))
        if breaches.get(event.timer, "") >= at:
            return None
        return {"breaches": {**breaches, event.timer: at}}

    await modify(clocks, repair_id, change)
    return True


def encode_repair_cursor(repair: Repair) -> str:
    raw = json.dumps([repair.opened_at.isoformat(), repair.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_repair_cursor(cursor: str) -> tuple[datetime, str]:
    """ValueError when the cursor is not one this service handed out."""
    try:
        opened_at, repair_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(opened_at), str(repair_id)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise ValueError(Said("err.cursor", error=str(exc))) from None


async def list_repairs(
    *, repairs: RepairStore, clocks: Docs, statuses: Iterable[str] | None, vendor: str | None, overdue: bool | None,
    asset_tag: str | None, cursor: str | None, limit: int,
) -> tuple[list[tuple[Repair, bool]], str | None]:
    """Newest opened first (then by id: a stable order, so pages never repeat or skip one), each with whether it is
    overdue. Filters combine with AND; several statuses with OR."""
    after = decode_repair_cursor(cursor) if cursor else None
    breaches = {doc["_id"]: {k: datetime.fromisoformat(v) for k, v in doc.get("breaches", {}).items()}
                async for doc in clocks.scan()}
    wanted = set(statuses) if statuses else None
    found = []
    async for repair in repairs.scan():
        late = domain.repair_overdue(repair, breaches.get(repair.id, {}))
        if (wanted is not None and repair.status not in wanted) or (vendor and repair.vendor != vendor) \
                or (overdue is not None and late != overdue) or (asset_tag and repair.asset_tag != asset_tag):
            continue
        if after is not None and (repair.opened_at, repair.id) >= after:
            continue
        found.append((repair, late))
    found.sort(key=lambda pair: (pair[0].opened_at, pair[0].id), reverse=True)
    page = found[:limit]
    return page, (encode_repair_cursor(page[-1][0]) if len(found) > limit else None)


# --- tickets per asset (projection of ticket events) ---------------------------------------------------------

CLOSED_TICKET = ("resolved", "closed", "cancelled")


def _ticket_key(ticket_id: str) -> str:
    return f"ticket:{ticket_id}"


def _number_key(number: str) -> str:
    return f"number:{number}"


class UnknownTicket(LookupError):
    pass


async def ticket_number(ticket_id: str | None, *, links: Docs) -> str | None:
    """The number people say (INC-2026-000009) for a ticket id, when intake announced the ticket."""
    if not ticket_id:
        return None
    doc = await links.get(_ticket_key(ticket_id))
    return str(doc["number"]) if doc and doc.get("number") else None


async def known_ticket(ref: str, *, links: Docs) -> str:
    """The id of the ticket `ref` names (an id or a number such as INC-2026-000009), from the tickets intake
    announced (ticket.created); UnknownTicket when intake never announced it."""
    doc = await links.get(_ticket_key(ref))
    if doc is not None and doc.get("number"):
        return ref
    by_number = await links.get(_number_key(ref))
    if by_number is not None:
        return str(by_number["ticket_id"])
    raise UnknownTicket(Said("err.unknown_ticket", ref=ref))


def _utc(at: datetime) -> str:
    """One spelling per instant (UTC, microseconds always), so the stored times compare as strings."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def _newer(current: Doc | None, at: str, field: str = "at") -> bool:
    """`at` is not older than what `current` holds; an entry stored before _utc (no fraction) compares as older."""
    return current is None or not current.get(field) or _utc(datetime.fromisoformat(current[field])) <= at


async def _set_ticket(links: Docs, tag: str, ticket_id: str, *, facts: dict[str, Any], state: dict[str, Any], at: str) -> None:
    """The ticket's entry in its asset's document: `facts` (number, title...: never change) are filled in whenever
    missing, `state` (status, priority) only from an event not older than the one the entry shows."""

    def change(doc: Doc | None) -> Doc | None:
        doc = doc or {"tickets": {}, "repairs": []}
        current = doc["tickets"].get(ticket_id, {})
        # An older event arriving late brings only what is missing.
        entry = {**current, **facts, **state, "at": at} if _newer(current, at) else {**facts, **current}
        if entry == current:
            return None
        return {**doc, "tickets": {**doc["tickets"], ticket_id: entry}}

    await modify(links, tag, change)


def _hold(engineer_id: str, at: str) -> Any:
    """The ticket's current engineer, kept on the ticket's own mapping document; a late, older event changes nothing."""

    def change(doc: Doc | None) -> Doc | None:
        if not _newer(doc, at, "assigned_at"):
            return None
        return {**(doc or {}), "engineer_id": engineer_id, "assigned_at": at}

    return change


def _state(state: dict[str, Any], at: str) -> Any:
    """The ticket's newest state, kept on its own mapping document too: an event that arrives before ticket.created
    (the subjects have a consumer each) is remembered there, and ticket.created lists the ticket with it. Once
    ticket.created is heard without an asset, the state is not kept: only that event reads it."""

    def change(doc: Doc | None) -> Doc | None:
        if not _newer(doc, at, "state_at"):
            return None
        if doc is not None and doc.get("number") and not doc.get("tag"):
            return None  # ticket.created was heard and named no asset: nobody will read this state (issue 17)
        return {**(doc or {}), "state": {**((doc or {}).get("state") or {}), **state}, "state_at": at}

    return change


async def _create_or_modify(links: Docs, key: str, change: Any) -> Doc | None:
    """`modify` for a document that usually does not exist yet (a new ticket's mappings): insert what `change`
    makes of nothing, one command instead of a read and an insert; when it exists, `modify` as always (issue 17)."""
    new = change(None)
    if new is None:
        return await modify(links, key, change)
    try:
        await links.create(key, {**new, "_v": 1})
    except DuplicateKey:
        return await modify(links, key, change)
    return dict(new)


async def on_ticket_event(event: Any, *, links: Docs, locks: KeyedLocks | None = None) -> bool:
    """Keep the per-asset list of tickets current; idempotent (a redelivery writes the same values), and the same
    whatever order the events arrive in (each entry keeps the newest state it heard, by the event's own time).

    Who holds each ticket (ticket.assigned / ticket.reassigned) is recorded whether or not its asset is known yet:
    the assignment may arrive before ticket.created, and the overview shows engineers only the tickets they hold.
    `locks` serialises this process's writes per ticket and per asset (one document holds all of an asset's
    tickets: a burst of alike tickets would otherwise lose races on it, issue 14); across replicas `modify`'s
    optimistic check still keeps the document right.
    """
    locks = locks or KeyedLocks()
    ticket_key = _ticket_key(event.ticket_id)
    if isinstance(event, TicketAssignedV1 | TicketReassignedV1):
        at = _utc(event.assigned_at if isinstance(event, TicketAssignedV1) else event.reassigned_at)
        async with locks.hold([ticket_key]):
            await modify(links, ticket_key, _hold(event.engineer_id, at))
        return True
    if isinstance(event, TicketCreatedV1):
        # Every ticket is remembered by id and number: spare issues and reservations must name one that exists.
        number, on = event.number, event.asset_tag
        await _create_or_modify(links, _number_key(number), lambda _: {"ticket_id": event.ticket_id})
        async with locks.hold([ticket_key]):
            mapping = await _create_or_modify(
                links, ticket_key, lambda doc: {**(doc or {}), "number": number, **({"tag": on} if on else {})}
            )
        if not on:
            return True
        facts = {"number": event.number, "title": event.title, "service_code": event.service_code,
                 "reported_at": event.reported_at.isoformat()}
        at, state = _utc(event.reported_at), {"status": "new", "priority": event.priority}
        heard = mapping or {}
        if heard.get("state") and heard.get("state_at", "") > at:
            at, state = heard["state_at"], {**state, **heard["state"]}  # a later state heard before this event
        async with locks.hold([f"asset:{on}"]):
            await _set_ticket(links, on, event.ticket_id, facts=facts, state=state, at=at)
        return True
    if isinstance(event, TicketStatusChangedV1):
        at, state = _utc(event.changed_at), {"status": event.new_status, "priority": event.priority}
    elif isinstance(event, TicketResolvedV1):
        at, state = _utc(event.resolved_at), {"status": "resolved"}
    elif isinstance(event, TicketClosedV1):
        at, state = _utc(event.closed_at), {"status": "closed"}
    else:
        return False
    async with locks.hold([ticket_key]):
        mapping = await modify(links, ticket_key, _state(state, at))
    tag = (mapping or {}).get("tag") or getattr(event, "asset_tag", None)
    if not tag:
        return False  # kept on the ticket's mapping: ticket.created, when it comes, lists the ticket with it
    async with locks.hold([f"asset:{tag}"]):
        await _set_ticket(links, tag, event.ticket_id, facts={}, state=state, at=at)
    return True


class TicketFilter(Protocol):
    def __call__(self, *, engineer_id: str | None) -> bool: ...


async def asset_overview(
    tag: str, *, register: AssetRegister, links: Docs, repairs: RepairStore, show_ticket: TicketFilter | None = None,
) -> dict[str, Any] | None:
    """The asset, its open tickets (with who holds each) and its repairs: what the gateway shows beside a ticket.

    `show_ticket` narrows the tickets to those the reader may see (an engineer: the ones they hold); None lists all.
    """
    asset = await register.get(tag)
    if asset is None:
        return None
    doc = await links.get(tag) or {"tickets": {}}
    open_tickets = []
    for tid, t in doc["tickets"].items():
        if t.get("status") in CLOSED_TICKET:
            continue
        holder = (await links.get(_ticket_key(tid)) or {}).get("engineer_id")
        if show_ticket is None or show_ticket(engineer_id=holder):
            open_tickets.append({"ticket_id": tid, **{k: v for k, v in t.items() if k != "at"}, "engineer_id": holder})
    found = await repairs_of(tag, links=links, repairs=repairs)
    return {
        "asset": asset.model_dump(mode="json"),
        "open_tickets": sorted(open_tickets, key=lambda t: t.get("reported_at", "")),
        "repairs": [r.model_dump(mode="json", exclude={"history"}) | {"history_entries": len(r.history)} for r in found],
    }


# --- import --------------------------------------------------------------------------------------------------


EXISTING_BY_KEY = 2_000
IMPORT_TAGS_PER_EVENT = 1_000  # 40-character tags at most: about 45 KB per event


async def import_register(
    content: bytes, *, file_name: str, dry_run: bool, register: AssetRegister, types: Docs, imports: Docs,
    graph: RelationGraph | None, ctx: Ctx, tag_pattern: str, tag_prefix: str,
) -> register_io.ImportReport:
    """Validate every row first; write nothing unless every row is valid (and not on a dry run)."""
    rows = await offloaded.read_register(content, file_name=file_name)
    known = await ci_types(types)
    given = {str(t).strip() for row in rows if (t := row.get("tag")) not in (None, "") and str(t).strip()}
    registered: set[str] | None = None
    if len(given) <= EXISTING_BY_KEY:  # a few tags: look each up by _id rather than read every key of the register
        existing = {t for t in given if register_io.TAG_RE.match(t) and await register.get(t) is not None}
    else:
        existing = registered = await register.tags()
    good, errors = await offloaded.validate_register(rows, types=known, existing=existing)
    report = register_io.ImportReport(rows=len(rows), valid=len(good), errors=errors, dry_run=dry_run)
    if dry_run or errors or not good:
        return report
    assets = [a for _, a in good if a is not None]
    missing = [i for i, a in enumerate(assets) if not a.tag]
    if missing:
        if registered is None and len(missing) > EXISTING_BY_KEY:
            registered = await register.tags()
        tags = await allocate_tags(len(missing), register=register, pattern=tag_pattern, prefix=tag_prefix, year=ctx.now.year,
                                   taken=given, registered=registered)
        for i, tag in zip(missing, tags, strict=True):
            assets[i] = assets[i].model_copy(update={"tag": tag})
    stored, records = [], []
    for asset in assets:
        s, record, _ = domain.new_version(None, asset, by=ctx.by, at=ctx.now)
        stored.append(s)
        records.append(record)
    written = await register.add_many(stored, records)
    import_id = str(uuid.uuid4())
    # Every imported tag is announced (in parts that stay far below the bus's message size), so that services
    # keeping a list of known tags (intake checks a ticket's asset tag against its own) learn imported items too.
    all_tags = [a.tag for a in stored]
    chunks = [all_tags[i:i + IMPORT_TAGS_PER_EVENT] for i in range(0, len(all_tags), IMPORT_TAGS_PER_EVENT)] or [[]]
    events = [
        ctx.wrap(RegisterImportedV1(import_id=import_id, file_name=file_name, rows=len(rows), created=written,
                                    tags_sample=all_tags[:20], by=ctx.by, imported_at=ctx.now, tags=chunk,
                                    part=n, parts=len(chunks)), import_id)
        for n, chunk in enumerate(chunks, start=1)
    ]
    await imports.create(import_id, {"file_name": file_name, "rows": len(rows), "created": written, "by": ctx.by,
                                     "at": ctx.now.isoformat(), "tags": all_tags}, events)
    if graph is not None:
        for a in stored:
            graph.index.set_node(a.tag, graph_node(a, known))
        await graph.publish_reload()
    return report.model_copy(update={"written": written, "import_id": import_id})


def graph_node(asset: Asset, known: dict[str, domain.CiType]) -> Any:
    from .relations import Node

    ci_type = known.get(asset.type)
    return Node(ci_type=asset.type, category=ci_type.category if ci_type else "hardware", department=asset.department)


__all__ = ["InvalidAsset", "NotFound"]
