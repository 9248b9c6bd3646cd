"""The catalog's paper forms as one-page PDFs, filled from reporting's own ticket, repair and inspection documents."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import KeepInFrame, Paragraph, SimpleDocTemplate, Spacer

from .. import periods
from ..i18n import t
from .fonts import pdf_font
from .pdf import styles, table

# form -> the read model it is filled from
FORMS: dict[str, str] = {
    "daily-maintenance": "tickets",
    "equipment-repair": "repairs",
    "spare-part": "tickets",
    "support-record": "tickets",
    "inspection-record": "inspections",
}
SIGNATURES: dict[str, tuple[str, ...]] = {
    "daily-maintenance": ("signature_engineer", "signature_user"),
    "equipment-repair": ("signature_engineer", "signature_user"),
    "spare-part": ("signature_engineer", "signature_keeper"),
    "support-record": ("signature_engineer", "signature_user"),
    "inspection-record": ("signature_engineer", "signature_user"),
}
TEXT_LIMIT = 700


def _v(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, datetime):
        return periods.local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list):
        return "; ".join(_v(v) for v in value)
    text = str(value)
    return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT] + "…"


def _fields(form: str, doc: dict[str, Any], ticket: dict[str, Any] | None) -> list[tuple[str, Any]]:
    if FORMS[form] == "tickets":
        base = [("number", doc.get("number")), ("reported_at", doc.get("reported_at")), ("requester", doc.get("requester")),
                ("phone", doc.get("phone")), ("department", doc.get("department")), ("site", doc.get("site")),
                ("service", doc.get("service_code")), ("priority", doc.get("priority")), ("asset_tag", doc.get("asset_tag")),
                ("engineer", doc.get("engineer_name")), ("title", doc.get("title")), ("description", doc.get("description")),
                ("record", doc.get("record")), ("resolution_text", doc.get("resolution")), ("resolved", doc.get("resolved_at"))]
        if form == "spare-part":
            spares = doc.get("spares") or [{}]
            base = base[:10] + [item for spare in spares for item in (("part", spare.get("part")), ("quantity", spare.get("quantity")))]
            base.append(("note", None))
        return base
    if FORMS[form] == "repairs":
        t_ = ticket or {}
        history = [f"{_v(h.get('at'))} {h.get('status')} {h.get('note') or ''}".strip() for h in doc.get("history", [])]
        return [("repair_id", doc.get("_id")), ("number", t_.get("number")), ("asset_tag", doc.get("asset_tag")),
                ("vendor", doc.get("vendor")), ("status", doc.get("status")), ("sent", doc.get("sent_at")),
                ("returned", doc.get("returned_at")), ("requester", t_.get("requester")), ("department", t_.get("department")),
                ("description", t_.get("description") or t_.get("title")), ("history", history)]
    return [("number", doc.get("inspection_id") or doc.get("_id")), ("inspected_at", doc.get("inspected_at")),
            ("asset_tag", doc.get("asset_tag")), ("kind", doc.get("kind")), ("site", doc.get("site")), ("inspector", doc.get("inspector")),
            ("result", doc.get("result")), ("findings", doc.get("findings")), ("note", doc.get("note"))]


def render(form: str, doc: dict[str, Any], *, lang: str = "zh-CN", ticket: dict[str, Any] | None = None) -> bytes:
    s = styles()
    out = io.BytesIO()
    page = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm, bottomMargin=18 * mm,
                             title=t(form, lang), author="Opsdesk", initialFontName=pdf_font())
    fields = _fields(form, doc, ticket)
    rows = [[t(k, lang), _v(v)] for k, v in fields]
    body = table(rows, header=None, style=s["body"], widths=[35 * mm, 139 * mm])
    signatures = table([[f"{t(sig, lang)}:", "", f"{t('date', lang)}:", ""] for sig in SIGNATURES[form]], header=None,
                       style=s["body"], widths=[35 * mm, 60 * mm, 20 * mm, 59 * mm])
    story = [
        Paragraph(escape(t(form, lang)), s["title"]),
        Spacer(1, 3 * mm),
        # KeepInFrame shrinks an unusually long record so the form always stays on one page.
        KeepInFrame(174 * mm, 200 * mm, [body], mode="shrink"),
        Spacer(1, 10 * mm),
        signatures,
    ]
    page.build(story)
    return out.getvalue()
