"""Asset labels as a PDF sheet: a QR code of the tag beside the tag, the type and the department."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

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


REPAIR_STAGE_LABELS: dict[str, str] = {
    "open": "已登记", "in_progress": "维修中", "sent_to_vendor": "已送修", "at_vendor": "厂商维修中",
    "repaired": "厂商已修复", "returned": "已返回", "written_off": "已报废", "closed": "已关闭",
}
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")  # the agency's local time: the form is signed on paper there


def _local(when: datetime | None) -> str:
    return when.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M") if when is not None else ""


def send_out_form(
    repair: Repair, asset: Asset, *, now: datetime, type_name: str | None = None, ticket_number: str | None = None
) -> bytes:
    """The send-out form (设备送修单) for a repair: what goes, why, on what terms, with the loaner lent meanwhile.

    The one send-out form of Opsdesk (assets owns repairs; reporting's route redirects here), in simplified Chinese
    for a mainland agency, with Chinese labels for every value and local times."""
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    name = font()
    pdf.setTitle(f"设备送修单 {repair.id}")
    pdf.setFont(name, 18)
    pdf.drawCentredString(A4[0] / 2, 275 * mm, "设备送修单")
    lines = [
        ("维修单号", repair.id), ("工单", ticket_number or repair.ticket_id or ""), ("资产标签", asset.tag),
        ("设备类型", type_name or asset.type), ("型号", asset.model), ("序列号", asset.serial or ""),
        ("使用部门", asset.department or ""), ("使用人", asset.owner or ""), ("位置", asset.location.label()),
        ("维修厂商", repair.vendor or ""), ("维修方式", "外修（送厂商）" if repair.kind == "vendor" else "自修"),
        ("费用", "保修期内免费" if repair.billing == "warranty" else "付费维修"),
        ("运输", "已安排" if repair.transport_arranged else "未安排"),
        ("备用机", repair.loaner_tag or "未借出"), ("故障描述", repair.fault or ""),
        ("当前状态", REPAIR_STAGE_LABELS.get(repair.status, repair.status)),
        ("登记时间", _local(repair.opened_at)), ("送出时间", _local(repair.sent_at)), ("打印时间", _local(now)),
    ]
    y = 258 * mm
    for label, value in lines:
        pdf.setFont(name, 11)
        pdf.drawString(22 * mm, y, label)
        pdf.line(20 * mm, y - 2.5 * mm, 190 * mm, y - 2.5 * mm)
        text = str(value)
        pdf.drawString(60 * mm, y, text[:48] + ("…" if len(text) > 48 else ""))
        y -= 9 * mm
    y -= 8 * mm
    pdf.drawString(22 * mm, y, "送修人签字：________________    日期：____________")
    pdf.drawString(22 * mm, y - 12 * mm, "厂商签收：________________    日期：____________")
    pdf.showPage()
    pdf.save()
    return out.getvalue()
