"""A report as a PDF (reportlab platypus): CJK text in the embedded WQY font, charts as PNG images."""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .. import periods
from ..i18n import t
from . import charts
from .fonts import pdf_font

MAX_ROWS = 200


def styles() -> dict[str, ParagraphStyle]:
    font = pdf_font()
    return {
        "title": ParagraphStyle("title", fontName=font, fontSize=16, leading=22, spaceAfter=6),
        "h2": ParagraphStyle("h2", fontName=font, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4),
        "body": ParagraphStyle("body", fontName=font, fontSize=9, leading=12),
        "cell": ParagraphStyle("cell", fontName=font, fontSize=8, leading=10),
    }


def stamp(value: Any) -> str:
    return periods.local(value).strftime("%Y-%m-%d %H:%M") if hasattr(value, "astimezone") else str(value)


def _text(value: Any) -> str:
    return "-" if value is None else str(value)


def table(rows: list[list[Any]], *, header: list[str] | None, style: ParagraphStyle, widths: list[float] | None = None) -> Table:
    data = ([[Paragraph(escape(h), style) for h in header]] if header else []) + [
        [Paragraph(escape(_text(v)), style) for v in row] for row in rows
    ]
    tbl = Table(data, colWidths=widths, repeatRows=1 if header else 0)
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONTNAME", (0, 0), (-1, -1), style.fontName),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde6f0")))
    tbl.setStyle(TableStyle(commands))
    return tbl


def render(report: dict[str, Any]) -> bytes:
    s = styles()
    lang = report["lang"]
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm,
                            title=report["title"], author="Opsdesk", initialFontName=pdf_font())
    story: list[Any] = [
        Paragraph(escape(report["title"]), s["title"]),
        Paragraph(escape(f"{t('period', lang)}: {report['period']}    {t('generated_at', lang)}: {stamp(report['generated_at'])}"), s["body"]),
        Spacer(1, 4 * mm),
    ]
    for section in report["sections"]:
        story.append(Paragraph(escape(section["title"]), s["h2"]))
        rows = section["rows"]
        if not rows:
            story.append(Paragraph(escape(t("no_data", lang)), s["body"]))
            continue
        story.append(table(rows[:MAX_ROWS], header=section["columns"], style=s["cell"]))
        if len(rows) > MAX_ROWS:
            story.append(Paragraph(escape(f"… {len(rows) - MAX_ROWS} more"), s["body"]))
        chart = section.get("chart")
        if chart and chart.get("labels"):
            png = charts.render(chart)
            story.append(Spacer(1, 2 * mm))
            story.append(Image(io.BytesIO(png), width=170 * mm, height=170 * mm * 2.8 / 6.5))

    def footer(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(pdf_font(), 8)
        canvas.drawRightString(A4[0] - 15 * mm, 8 * mm, t("page", lang) % document.page)
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
