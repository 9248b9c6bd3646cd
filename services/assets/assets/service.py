"""Assets use cases: the register (types, tags, lifecycle, versions) and repairs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pydantic import ValidationError

from opsdesk_shared.contracts import Envelope, EventData
from opsdesk_shared.contracts.cmdb import CiChange
from opsdesk_shared.contracts.repairs import RepairStage

from . import domain
from .domain import Asset, CiType, CiVersion, Repair
from .ports import AssetRegister, ConcurrentUpdate, Doc, Docs, DuplicateKey, EventOutbox, RepairStore
from .texts import Said

PRODUCER = "assets"


@dataclass(frozen=True)
class Ctx:
    """Who acts, when, in which flow: every use case that writes takes one."""

    by: str
    now: datetime
    correlation_id: str
    causation_id: str | None = None
    # The verified caller's role, when a person acts (the agency's oversight names it in a violation).
    role: str = ""

    def wrap(self, event: EventData, subject_id: str) -> Envelope:
        return Envelope.wrap(event, producer=PRODUCER, correlation_id=self.correlation_id, subject_id=subject_id,
                             causation_id=self.causation_id, occurred_at=self.now)


class UnknownAsset(LookupError):
    pass


class UnknownType(ValueError):
    pass


class InvalidAsset(ValueError):
    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))
        self.errors = errors


class NodeSink(Protocol):
    """Told about every item's type and department, for the relation graph's classification."""

    async def note(self, asset: Asset, category: str) -> None: ...


async def modify(docs: Docs, key: str, change: Callable[[Doc | None], Doc | None], *, attempts: int = 5) -> Doc | None:
    """Optimistic read-modify-write of one keyed document (field `_v`); `change` returns the new doc or None."""
    for _ in range(attempts):
        current = await docs.get(key)
        new = change(current)
        if new is None:
            return current
        if current is None:
            try:
                await docs.create(key, {**new, "_v": 1})
                return new
            except DuplicateKey:
                continue
        elif await docs.replace_if(key, {**new, "_v": int(current.get("_v", 0)) + 1}, expect={"_v": current.get("_v")}):
            return new
    raise ConcurrentUpdate(key)


# --- types ---------------------------------------------------------------------------------------------------


async def ci_types(types: Docs) -> dict[str, CiType]:
    """The built-in types, overlaid by any stored (added or changed) ones."""
    found = {t.code: t for t in domain.BUILTIN_TYPES}
    async for doc in types.scan():
        ci_type = CiType.model_validate({k: v for k, v in doc.items() if not k.startswith("_")})
        found[ci_type.code] = ci_type
    return found


async def put_ci_type(ci_type: CiType, *, types: Docs) -> CiType:
    await types.put(ci_type.code, ci_type.model_dump(mode="json"))
    return ci_type


# --- register ------------------------------------------------------------------------------------------------


async def lookup_asset(tag: str, *, register: AssetRegister) -> Asset | None:
    return await register.get(tag)


async def allocate_tags(
    count: int, *, register: AssetRegister, pattern: str, prefix: str, year: int, taken: set[str] | frozenset[str] = frozenset(),
    registered: set[str] | None = None,
) -> list[str]:
    """`count` free tags in the configured format. The counter only reserves numbers: tags registered by hand, by
    an import or by the demo seed may already hold some of them, so a number whose tag is registered (or in
    `taken`, e.g. given in the same import file) is skipped and another reserved in its place. `registered`, when
    the caller has read every tag already (a large import), answers "is it registered" without a read per tag."""
    key = f"tag:{prefix}:{year}"
    tags: list[str] = []
    while len(tags) < count:
        need = count - len(tags)
        first = await register.next_numbers(key, need)
        for seq in range(first, first + need):
            tag = domain.format_tag(pattern, prefix=prefix, year=year, seq=seq)
            if tag in taken:
                continue
            if (tag not in registered) if registered is not None else (await register.get(tag) is None):
                tags.append(tag)
    return tags


class TagTaken(DuplicateKey):
    """The tag is registered already."""

    def __init__(self, tag: str) -> None:
        super().__init__(Said("err.tag_taken", tag=tag))
        self.tag = tag


def _checked(asset: Asset, types: dict[str, CiType]) -> Asset:
    ci_type = types.get(asset.type)
    if ci_type is None:
        raise InvalidAsset([("type", Said("err.unknown_type_known", type=asset.type, known=", ".join(sorted(types))))])
    attributes, errors = domain.validate_attributes(ci_type, asset.attributes)
    if errors:
        raise InvalidAsset([(f"attributes.{name}", message) for name, message in errors])
    return asset.model_copy(update={"attributes": attributes})


async def register_asset(
    draft: Asset, *, register: AssetRegister, types: Docs, ctx: Ctx, tag_pattern: str, tag_prefix: str,
    nodes: NodeSink | None = None,
) -> Asset:
    """A new item; its tag is allocated in the configured format unless one is given."""
    known = await ci_types(types)
    asset = _checked(draft, known)
    allocate = not asset.tag
    if not allocate and not domain.valid_tag(asset.tag):
        raise InvalidAsset([("tag", Said("err.tag_format"))])
    for _ in range(5):
        if allocate:
            (tag,) = await allocate_tags(1, register=register, pattern=tag_pattern, prefix=tag_prefix, year=ctx.now.year)
            asset = asset.model_copy(update={"tag": tag})
        stored, record, event = domain.new_version(None, asset, by=ctx.by, at=ctx.now)
        try:
            await register.add(stored, record, [ctx.wrap(event, stored.tag)])
            break
        except DuplicateKey:
            if not allocate:
                raise TagTaken(asset.tag) from None
            # registered by someone else between the check and the write: take the next number
    else:
        raise ConcurrentUpdate(f"tag:{tag_prefix}:{ctx.now.year}")
    if nodes is not None:
        await nodes.note(stored, known[stored.type].category)
    return stored


async def _save(old: Asset, new: Asset, *, register: AssetRegister, ctx: Ctx, change: CiChange | None = None) -> Asset:
    stored, record, event = domain.new_version(old, new, by=ctx.by, at=ctx.now, change=change)
    if not record.changes:
        return old
    await register.save(stored, record, [ctx.wrap(event, stored.tag)])
    return stored


UPDATABLE = frozenset({"type", "name", "model", "serial", "location", "owner", "department", "vendor",
                       "purchase_date", "warranty_end", "attributes"})


async def update_asset(
    tag: str, fields: dict[str, Any], *, register: AssetRegister, types: Docs, ctx: Ctx, nodes: NodeSink | None = None,
    change: CiChange | None = None,
) -> Asset:
    """Change fields other than the status (which follows the lifecycle) and the tag; attributes are merged."""
    current = await register.get(tag)
    if current is None:
        raise UnknownAsset(tag)
    unknown = set(fields) - UPDATABLE
    if unknown:
        raise InvalidAsset([(f, Said("err.fixed_field")) for f in sorted(unknown)])
    merged = dict(fields)
    if "attributes" in fields:
        if not isinstance(fields["attributes"], dict):
            raise InvalidAsset([("attributes", Said("err.attributes_object"))])
        merged["attributes"] = {k: v for k, v in {**current.attributes, **fields["attributes"]}.items() if v is not None}
    try:
        candidate = Asset.model_validate({**current.model_dump(), **merged})
    except ValidationError as exc:
        # e.g. `"location": null`: a field the item must keep; answered like any other invalid field
        raise InvalidAsset([(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]) from None
    known = await ci_types(types)
    new = _checked(candidate, known)
    saved = await _save(current, new, register=register, ctx=ctx, change=change)
    if nodes is not None:
        await nodes.note(saved, known[saved.type].category)
    return saved


async def change_asset_status(tag: str, status: str, *, register: AssetRegister, ctx: Ctx) -> Asset:
    current = await register.get(tag)
    if current is None:
        raise UnknownAsset(tag)
    domain.check_status_change(current.status, status)
    return await _save(current, current.model_copy(update={"status": status}), register=register, ctx=ctx)


async def _move_status(asset: Asset, status: str | None, *, register: AssetRegister, ctx: Ctx) -> None:
    if status is None or status == asset.status:
        return
    domain.check_status_change(asset.status, status)
    await _save(asset, asset.model_copy(update={"status": status}), register=register, ctx=ctx)


async def asset_history(tag: str, *, register: AssetRegister) -> list[CiVersion]:
    return await register.history(tag)


async def asset_as_of(tag: str, when: datetime, *, register: AssetRegister) -> Asset | None:
    return domain.as_of(await register.history(tag), when)


# --- repairs -------------------------------------------------------------------------------------------------


def _system(now: datetime, correlation_id: str, by: str | None) -> Ctx:
    return Ctx(by=by or "system", now=now, correlation_id=correlation_id)


async def _link_repair(links: Docs | None, tag: str, repair_id: str) -> None:
    if links is None:
        return

    def add(doc: Doc | None) -> Doc | None:
        doc = doc or {"tickets": {}, "repairs": []}
        if repair_id in doc["repairs"]:
            return None
        return {**doc, "repairs": [*doc["repairs"], repair_id]}

    await modify(links, tag, add)


async def open_repair(
    *, asset_tag: str, vendor: str | None, ticket_id: str | None, note: str | None,
    register: AssetRegister, repairs: RepairStore, outbox: EventOutbox, now: datetime, correlation_id: str,
    kind: domain.RepairKind | None = None, billing: domain.Billing | None = None, transport_arranged: bool = False,
    fault: str | None = None, by: str | None = None, links: Docs | None = None,
) -> Repair:
    asset = await register.get(asset_tag)
    if asset is None:
        raise UnknownAsset(asset_tag)
    if asset.status != "in_repair":
        domain.check_status_change(asset.status, "in_repair")
    repair, event = domain.open_repair(
        asset=asset, vendor=vendor, ticket_id=ticket_id, note=note, now=now, kind=kind, billing=billing,
        transport_arranged=transport_arranged, fault=fault, by=by,
    )
    envelope = Envelope.wrap(event, producer=PRODUCER, correlation_id=correlation_id, subject_id=asset_tag, occurred_at=now)
    await repairs.add(repair, [envelope])
    await _move_status(asset, "in_repair", register=register, ctx=_system(now, correlation_id, by))
    await _link_repair(links, asset_tag, repair.id)
    await outbox.deliver(repair.id, [envelope])
    return repair


async def update_repair(
    repair_id: str, *, status: RepairStage, note: str | None,
    repairs: RepairStore, register: AssetRegister, outbox: EventOutbox, now: datetime, correlation_id: str,
    by: str | None = None, transport_arranged: bool | None = None, loaner_tag: str | None = None,
) -> Repair:
    repair = await repairs.get(repair_id)
    if repair is None:
        raise LookupError(repair_id)
    updated, event = domain.change_status(
        repair, status=status, note=note, now=now, by=by, transport_arranged=transport_arranged, loaner_tag=loaner_tag
    )
    envelope = Envelope.wrap(event, producer=PRODUCER, correlation_id=correlation_id, subject_id=repair.asset_tag, occurred_at=now)
    updated = await repairs.save(updated, [envelope])
    asset = await register.get(repair.asset_tag)
    if asset is not None and asset.status == "in_repair":
        await _move_status(asset, domain.asset_status_after(updated), register=register, ctx=_system(now, correlation_id, by))
    await outbox.deliver(repair.id, [envelope])
    return updated


async def report_repair_progress(
    repair_id: str, *, note: str, repairs: RepairStore, outbox: EventOutbox, now: datetime, correlation_id: str,
    by: str | None = None,
) -> Repair:
    repair = await repairs.get(repair_id)
    if repair is None:
        raise LookupError(repair_id)
    updated, event = domain.report_progress(repair, note=note, now=now, by=by)
    envelope = Envelope.wrap(event, producer=PRODUCER, correlation_id=correlation_id, subject_id=repair.asset_tag, occurred_at=now)
    updated = await repairs.save(updated, [envelope])
    await outbox.deliver(repair.id, [envelope])
    return updated


async def repairs_of(tag: str, *, links: Docs, repairs: RepairStore) -> list[Repair]:
    doc = await links.get(tag)
    found = [await repairs.get(rid) for rid in (doc or {}).get("repairs", [])]
    return [r for r in found if r is not None]


