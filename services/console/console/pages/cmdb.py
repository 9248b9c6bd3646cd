"""The CMDB for the team (staff) at `/cmdb/...`: browse and search configuration items, an item's page with a drawn
graph of its relations and of what its failure affects, the register import (a dry run's row errors shown before
anything is written), and audits with scan-by-tag (typed, or the phone camera where the browser has BarcodeDetector).

An edge: the assets API (through the gateway) answers every read and decides every write; the graph is drawn here
from `GET /impact/{tag}` (both directions) as server-rendered SVG, with no library.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile
from fastapi.responses import Response

from ..api import ApiError, Json
from ..api import _error as api_error
from ..labels import N_
from ..web import Ctx, checked, signed_in

router = APIRouter(prefix="/cmdb")
STATUSES = ("ordered", "in_stock", "deployed", "in_repair", "on_loan", "retired", "disposed")
PAGE = 100
AUDIT_PAGE = 50
KEEP_UPLOAD = 2_000_000  # a dry-run file kept in the page (base64) for "import now", up to this many bytes
# Values the assets API sends that a person reads (templates translate them with `_(prefix ~ value)`).
VALUES = (
    N_("ci.ordered"), N_("ci.in_stock"), N_("ci.deployed"), N_("ci.in_repair"), N_("ci.on_loan"), N_("ci.retired"), N_("ci.disposed"),
    N_("audit.open"), N_("audit.closed"),
    N_("rel.runs_on"), N_("rel.depends_on"), N_("rel.connected_to"), N_("rel.installed_on"), N_("rel.used_by"), N_("department"),
    N_("finding.missing"), N_("finding.unregistered"), N_("finding.wrong_location"), N_("finding.wrong_owner"),
)
DONE = {"scanned": N_("Scan recorded."), "closed": N_("Audit closed with its discrepancy report.")}


def said(exc: ApiError) -> str:
    return "; ".join(exc.field_messages())


async def get(ctx: Ctx, path: str, params: Any = None) -> Any:
    return (await ctx.api.call("GET", path, token=ctx.token, lang=ctx.lang, params=params)).body


def page_render(ctx: Ctx, template: str, section: str, error: str | None = None, status_code: int = 200, **values: Any) -> Response:
    done = DONE.get(ctx.request.query_params.get("done", ""))
    return ctx.render(template, status_code=status_code, section=section, error=error,
                      notice=ctx.gettext(done) if done and error is None else None, **values)


# --- browse and search ----------------------------------------------------------------------------------------------


async def asset_types(ctx: Ctx) -> list[Json]:
    try:
        return localised_types(ctx, list(await get(ctx, "/asset-types")))
    except ApiError:
        return []


def localised_types(ctx: Ctx, kinds: list[Json]) -> list[Json]:
    """The assets API names its types in simplified Chinese whatever the reader's language: a built-in type is named
    from the catalogue (`asset_type.<code>`; its zh-CN names are the API's); a type an administrator added keeps the API's."""
    out = []
    for kind in kinds:
        key = f"asset_type.{kind.get('code')}"
        said = ctx.gettext(key)
        out.append({**kind, "name": said} if said != key else kind)
    return out


def type_named(kinds: list[Json], text: str) -> str | None:
    """The code of the asset type whose name (in the reader's language) or code is exactly `text`, if one is."""
    wanted = text.strip().casefold()
    if not wanted:
        return None
    return next((str(k["code"]) for k in kinds if wanted in (str(k.get("name") or "").casefold(), str(k.get("code") or "").casefold())), None)


@router.get("")
async def browse(
    ctx: Annotated[Ctx, Depends(signed_in)], q: str = "", type: str = "", department: str = "", building: str = "",
    status: str = "", offset: int = 0,
) -> Response:
    """The assets API searches (`q`: tag, name, serial, model, location, owner, department, vendor, in either Chinese
    script or English), filters and pages; a page asks for one item more than it shows to know whether there is a next."""
    params = {k: v for k, v in (("q", q.strip()), ("type", type), ("department", department), ("building", building),
                                ("status", status)) if v}
    offset = max(offset, 0)
    errors: list[str] = []
    kinds = await asset_types(ctx)
    # "打印机" typed in the search box is the type a person sees in the list, which no item's text holds: it filters by type.
    named_type = type_named(kinds, q) if not type else None
    if named_type:
        params.pop("q", None)
        params["type"] = type = named_type

    async def items() -> list[Json]:
        try:
            return list(await get(ctx, "/assets", {**params, "limit": PAGE + 1, "offset": offset}))
        except ApiError as exc:
            errors.append(said(exc))
            return []

    found = await items()
    more, shown = len(found) > PAGE, found[:PAGE]
    exact = next((a for a in shown if str(a.get("tag", "")).lower() == q.strip().lower()), None)
    query = {"q": q, "type": type, "department": department, "building": building, "status": status}
    return page_render(ctx, "cmdb/browse.html", "browse", error="; ".join(errors) or None, items=shown, more=more,
                       offset=offset, page=PAGE, query=query, kinds=kinds, statuses=STATUSES, exact=exact)


# --- an item and its graph ------------------------------------------------------------------------------------------


@dataclass
class Node:
    tag: str
    ci_type: str
    name: str = ""  # what people call it (the impact API's `name`); the tag is shown beneath it
    x: int = 0
    y: int = 0
    depth: int = 0  # negative: what the item depends on; positive: what its failure affects
    root: bool = False
    department: bool = False


@dataclass
class Edge:
    source: Node
    target: Node
    via: str


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    width: int = 0
    height: int = 0
    hidden: int = 0  # hits not drawn (a column holds at most PER_COLUMN)


COLUMN_W, ROW_H, NODE_W, NODE_H, PER_COLUMN, MARGIN = 260, 56, 168, 38, 10, 16


def is_department(hit: Json) -> bool:
    return hit.get("ci_type") == "department" or str(hit.get("tag", "")).startswith("dept:")


def through_relation(hit: Json) -> bool:
    """A department named by a `used_by` relation: its own path ends at it (the impact API counts the relation as a
    step); a department an item merely belongs to ends its path at that item."""
    path = hit.get("path") or []
    return is_department(hit) and bool(path) and str(path[-1]) == str(hit.get("tag"))


def column_of(hit: Json) -> int:
    """How far from the item a hit is drawn: its depth, and a department one column past the item that it uses."""
    depth = int(hit.get("depth") or (0 if is_department(hit) else 1))
    if through_relation(hit):
        return max(depth, 1)  # its depth already counts the step past the item
    return depth + 1 if is_department(hit) else max(depth, 1)


def layout(root: str, root_type: str, impact: Json | None, depends: Json | None, root_name: str = "") -> Graph:
    """Columns by distance: what the item depends on to the left, what fails with it to the right, the item between.
    An edge joins each hit to the one before it on its path (the path the impact API walked)."""
    graph = Graph()
    by_key: dict[tuple[int, str], Node] = {}
    centre = Node(root, root_type, name=root_name, root=True)
    columns: dict[int, list[Node]] = {0: [centre]}
    pending: list[tuple[int, Json]] = []
    for sign, result in ((1, impact), (-1, depends)):
        seen: set[str] = set()
        for hit in [*(result or {}).get("items", []), *(result or {}).get("departments", [])]:
            tag = str(hit.get("tag"))
            if tag in seen or tag == root:
                continue
            seen.add(tag)
            depth = sign * column_of(hit)
            column = columns.setdefault(depth, [])
            if len(column) >= PER_COLUMN:
                graph.hidden += 1
                continue
            node = Node(tag, str(hit.get("ci_type") or ""), name=str(hit.get("name") or ""), depth=depth, department=is_department(hit))
            column.append(node)
            by_key[(depth, tag)] = node
            pending.append((sign, hit))
    low, high = min(columns), max(columns)
    tallest = max(len(c) for c in columns.values())
    graph.width = (high - low + 1) * COLUMN_W + 2 * MARGIN
    graph.height = max(tallest * ROW_H, ROW_H) + 2 * MARGIN
    for depth, column in columns.items():
        top = MARGIN + (graph.height - 2 * MARGIN - len(column) * ROW_H) // 2
        for i, node in enumerate(column):
            node.x = MARGIN + (depth - low) * COLUMN_W
            node.y = top + i * ROW_H + (ROW_H - NODE_H) // 2
            graph.nodes.append(node)
    for sign, hit in pending:
        path = [str(p) for p in hit.get("path") or []]
        via = [str(v) for v in hit.get("via") or []]
        depth = sign * column_of(hit)
        reached = by_key.get((depth, str(hit.get("tag"))))
        department = is_department(hit)
        # A department is reached through the item it uses (the last on its path, or the one before the department
        # when a relation names it); an item through the one before it.
        previous = path[-1] if department and not through_relation(hit) else (path[-2] if len(path) >= 2 else None)
        if reached is None or previous is None:
            continue
        before = centre if depth - sign == 0 else by_key.get((depth - sign, previous))
        if before is None:
            continue
        source, target = (before, reached) if sign > 0 else (reached, before)
        graph.edges.append(Edge(source, target, "used_by" if department else (via[-1] if via else "")))
    return graph


@router.get("/items/{tag}")
async def item(ctx: Annotated[Ctx, Depends(signed_in)], tag: str) -> Response:
    quoted = quote(tag, safe="")
    try:
        asset = await get(ctx, f"/assets/{quoted}")
    except ApiError as exc:
        raise HTTPException(exc.status, exc.message or exc.code) from None
    errors: list[str] = []

    async def guarded(path: str, params: Any) -> Any:
        try:
            return await get(ctx, path, params)
        except ApiError as exc:
            errors.append(said(exc))
            return None

    impact, depends, relations, kinds = await asyncio.gather(
        guarded(f"/impact/{quoted}", {"direction": "impact", "depth": 3, "limit": 200}),
        guarded(f"/impact/{quoted}", {"direction": "depends", "depth": 2, "limit": 100}),
        guarded("/relations", {"tag": tag}),
        guarded("/asset-types", None),
    )
    type_names = {str(k.get("code")): str(k.get("name") or k.get("code")) for k in localised_types(ctx, kinds or [])}
    graph = layout(str(asset.get("tag", tag)), str(asset.get("type", "")), impact, depends, root_name=str(asset.get("name") or ""))
    names = {n.tag: n.name for n in graph.nodes if n.name}  # the relations list says names where the graph knows them
    return page_render(ctx, "cmdb/item.html", "browse", error="; ".join(errors) or None, asset=asset, impact=impact,
                       depends=depends, relations=relations or [], graph=graph, node_w=NODE_W, node_h=NODE_H,
                       type_names=type_names, names=names)


# --- the register import --------------------------------------------------------------------------------------------


async def post_file(ctx: Ctx, path: str, name: str, content: bytes, params: Json) -> Json:
    """A multipart upload through the gateway with the person's token (the API client's `call` sends JSON)."""
    headers = {"Accept-Language": ctx.lang, "Accept": "application/json", "Authorization": f"Bearer {ctx.token}"}
    try:
        reply = await ctx.api.client.post("/api/v1" + path, params=params, files={"file": (name, content)}, headers=headers)
    except httpx.HTTPError as exc:
        raise ApiError(503, "service_unavailable", f"gateway unreachable: {type(exc).__name__}") from None
    if reply.status_code >= 400:
        raise api_error(reply)
    return reply.json()  # type: ignore[no-any-return]


def import_page(ctx: Ctx, error: str | None = None, status_code: int = 200, **values: Any) -> Response:
    return page_render(ctx, "cmdb/import.html", "import", error=error, status_code=status_code, **values)


@router.get("/import")
async def import_form(ctx: Annotated[Ctx, Depends(signed_in)]) -> Response:
    return import_page(ctx)


@router.post("/import")
async def dry_run(ctx: Annotated[Ctx, Depends(checked)], file: Annotated[UploadFile, File()]) -> Response:
    """Always a dry run first: the report's row errors are shown and nothing is written."""
    content = await file.read()
    name = file.filename or "register.csv"
    if not content:
        return import_page(ctx, error=ctx.gettext("Choose a register file (CSV or XLSX)."), status_code=422)
    try:
        report = await post_file(ctx, "/register/import", name, content, {"dry_run": "true"})
    except ApiError as exc:
        return import_page(ctx, error=said(exc), status_code=exc.status, file_name=name)
    kept = base64.b64encode(content).decode() if not report.get("errors") and len(content) <= KEEP_UPLOAD else None
    return import_page(ctx, report=report, file_name=name, kept=kept)


@router.post("/import/write")
async def write(ctx: Annotated[Ctx, Depends(checked)], content: Annotated[str, Form()], file_name: Annotated[str, Form()]) -> Response:
    """The file the dry run passed, imported for real (the API checks every row again and writes all or none)."""
    try:
        data = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        return import_page(ctx, error=ctx.gettext("Choose a register file (CSV or XLSX)."), status_code=422)
    try:
        report = await post_file(ctx, "/register/import", file_name, data, {"dry_run": "false"})
    except ApiError as exc:
        body = exc.detail if isinstance(exc.detail, dict) and "errors" in exc.detail else None
        return import_page(ctx, error=said(exc) if body is None else None, status_code=exc.status, report=body, file_name=file_name)
    return import_page(ctx, report=report, file_name=file_name, written=True)


# --- audits with scan-by-tag ----------------------------------------------------------------------------------------


AUDIT_STATES = ("open", "closed")


async def audits_page(ctx: Ctx, *, state: str = "", opened_from: str = "", opened_to: str = "", offset: int = 0,
                      error: str | None = None, status_code: int = 200) -> Response:
    """The audits the assets API lists (`GET /audits`: newest opened first, by state and opening day), a page at a time."""
    offset = max(offset, 0)
    params = {k: v for k, v in (("status", state if state in AUDIT_STATES else ""), ("opened_from", opened_from.strip()),
                                ("opened_to", opened_to.strip())) if v}
    listed: Json = {"items": [], "total": 0}
    try:
        listed = await get(ctx, "/audits", {**params, "limit": AUDIT_PAGE, "offset": offset})
    except ApiError as exc:
        error = error or said(exc)
    query = {"state": state, "opened_from": opened_from, "opened_to": opened_to}
    return page_render(ctx, "cmdb/audits.html", "audits", error=error, status_code=status_code, audits=listed.get("items", []),
                       total=int(listed.get("total") or 0), offset=offset, page=AUDIT_PAGE, query=query, states=AUDIT_STATES,
                       kinds=await asset_types(ctx))


@router.get("/audits")
async def audits(
    ctx: Annotated[Ctx, Depends(signed_in)], audit: str = "", state: str = "", opened_from: str = "", opened_to: str = "",
    offset: int = 0,
) -> Response:
    if audit.strip():
        return ctx.redirect(f"/cmdb/audits/{quote(audit.strip(), safe='')}")
    return await audits_page(ctx, state=state, opened_from=opened_from, opened_to=opened_to, offset=offset)


@router.post("/audits")
async def open_audit(
    ctx: Annotated[Ctx, Depends(checked)], name: Annotated[str, Form()], type: Annotated[str, Form()] = "",
    department: Annotated[str, Form()] = "", building: Annotated[str, Form()] = "",
) -> Response:
    scope = {k: v.strip() for k, v in (("type", type), ("department", department), ("building", building)) if v.strip()}
    try:
        opened = (await ctx.api.call("POST", "/audits", token=ctx.token, lang=ctx.lang, json={"name": name, "scope": scope})).body
    except ApiError as exc:
        return await audits_page(ctx, error=said(exc), status_code=exc.status)
    return ctx.redirect(f"/cmdb/audits/{quote(str(opened['id']), safe='')}")


async def audit_page(ctx: Ctx, audit_id: str, error: str | None = None, status_code: int = 200, last: Json | None = None,
                     where: Json | None = None) -> Response:
    try:
        audit = await get(ctx, f"/audits/{quote(audit_id, safe='')}")
    except ApiError as exc:
        raise HTTPException(exc.status, exc.message or exc.code) from None
    return page_render(ctx, "cmdb/audit.html", "audits", error=error, status_code=status_code, audit=audit, last=last,
                       where=where or {})


@router.get("/audits/{audit_id}")
async def audit_view(ctx: Annotated[Ctx, Depends(signed_in)], audit_id: str) -> Response:
    return await audit_page(ctx, audit_id)


@router.post("/audits/{audit_id}/scans")
async def scan(
    ctx: Annotated[Ctx, Depends(checked)], audit_id: str, tag: Annotated[str, Form()], building: Annotated[str, Form()],
    floor: Annotated[str, Form()] = "", room: Annotated[str, Form()] = "", owner: Annotated[str, Form()] = "",
) -> Response:
    """POST /audits/{id}/scans; the page comes back with the location kept for the next scan."""
    location = {"building": building.strip(), **{k: v.strip() for k, v in (("floor", floor), ("room", room)) if v.strip()}}
    body: Json = {"tag": tag.strip(), "location": location, **({"owner": owner.strip()} if owner.strip() else {})}
    where = {**location, "owner": owner.strip()}
    try:
        result = (await ctx.api.call("POST", f"/audits/{quote(audit_id, safe='')}/scans", token=ctx.token, lang=ctx.lang, json=body)).body
    except ApiError as exc:
        return await audit_page(ctx, audit_id, error=said(exc), status_code=exc.status, where=where)
    return await audit_page(ctx, audit_id, last={**result, "tag": tag.strip()}, where=where)


@router.post("/audits/{audit_id}/close")
async def close(ctx: Annotated[Ctx, Depends(checked)], audit_id: str) -> Response:
    try:
        await ctx.api.call("POST", f"/audits/{quote(audit_id, safe='')}/close", token=ctx.token, lang=ctx.lang, json={})
    except ApiError as exc:
        return await audit_page(ctx, audit_id, error=said(exc), status_code=exc.status)
    return ctx.redirect(f"/cmdb/audits/{quote(audit_id, safe='')}?done=closed")
