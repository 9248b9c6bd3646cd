"""Asset labels as a PDF sheet: a QR code of the tag beside the tag, the type and the department."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from .domain import Asset, Repair

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
COLUMNS, ROWS = 3, 8  # 24 labels of 70 x 37 mm on A4, the common label-sheet layout
LABEL_W, LABEL_H = 70 * mm, 37 * mm


@cache
def font() -> str:
    """The CJK font when installed (department names are Chinese), else Helvetica."""
    if CJK_FONT.exists():
        pdfmetrics.registerFont(TTFont("WQY", str(CJK_FONT), subfontIndex=0))
        return "WQY"
    return "Helvetica"


def _qr(tag: str) -> ImageReader:
    out = io.BytesIO()
    segno.make(tag, error="m", micro=False).save(out, kind="png", scale=4, border=1)
    out.seek(0)
    return ImageReader(out)


def label_sheet(assets: Sequence[Asset], *, type_names: dict[str, str] | None = None, title: str = "Opsdesk") -> bytes:
    """One label per asset, 24 per A4 page."""
    type_names = type_names or {}
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    pdf.setTitle(f"{title} asset labels")
    name = font()
    page_w, page_h = A4
    margin_x = (page_w - COLUMNS * LABEL_W) / 2
    margin_y = (page_h - ROWS * LABEL_H) / 2
    per_page = COLUMNS * ROWS
    for i, asset in enumerate(assets):
        if i and i % per_page == 0:
            pdf.showPage()
        slot = i % per_page
        x = margin_x + (slot % COLUMNS) * LABEL_W
        y = page_h - margin_y - (slot // COLUMNS + 1) * LABEL_H
        qr_size = LABEL_H - 8 * mm
        pdf.drawImage(_qr(asset.tag), x + 3 * mm, y + 4 * mm, qr_size, qr_size)
        text_x = x + qr_size + 6 * mm
        pdf.setFont(name, 10)
        pdf.drawString(text_x, y + LABEL_H - 10 * mm, asset.tag)
        pdf.setFont(name, 8)
        pdf.drawString(text_x, y + LABEL_H - 16 * mm, type_names.get(asset.type, asset.type))
        pdf.drawString(text_x, y + LABEL_H - 21 * mm, asset.department or "")
        pdf.drawString(text_x, y + LABEL_H - 26 * mm, title)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def send_out_form(repair: Repair, asset: Asset, *, now: datetime) -> bytes:
    """The vendor send-out form (送修單) for a repair: what goes, why, on what terms."""
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    name = font()
    pdf.setTitle(f"send-out {repair.id}")
    pdf.setFont(name, 16)
    pdf.drawString(20 * mm, 275 * mm, "設備送修單 / Repair send-out form")
    lines = [
        ("維修單號 Repair", repair.id), ("資產標籤 Asset tag", asset.tag), ("類型 Type", asset.type),
        ("型號 Model", asset.model), ("序列號 Serial", asset.serial or ""), ("部門 Department", asset.department or ""),
        ("位置 Location", asset.location.label()), ("廠商 Vendor", repair.vendor or ""),
        ("保修 Billing", "保修 warranty" if repair.billing == "warranty" else "付費 paid"),
        ("運輸 Transport", "已安排 arranged" if repair.transport_arranged else "未安排 not arranged"),
        ("備用機 Loaner", repair.loaner_tag or ""), ("故障 Fault", repair.fault or ""),
        ("工單 Ticket", repair.ticket_id or ""), ("日期 Date", now.date().isoformat()),
    ]
    pdf.setFont(name, 11)
    y = 260 * mm
    for label, value in lines:
        pdf.drawString(20 * mm, y, label)
        pdf.drawString(75 * mm, y, str(value)[:60])
        y -= 9 * mm
    pdf.drawString(20 * mm, y - 10 * mm, "送修人簽字 Sent by: ____________    廠商簽收 Received by: ____________")
    pdf.showPage()
    pdf.save()
    return out.getvalue()
