"""A report as a PDF deliverable (reportlab platypus): cover, contents, sections with their charts, sign-off block.

CJK text is in the embedded WQY font; charts are PNG images. Every table repeats its header row on each page it
spans, and a heading never ends a page alone. Cells are shown through `reports.show`, so the PDF, the commentary and
the XLSX agree on what a value looks like.
"""

from __future__ import annotations

import io
import re
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.tableofcontents import TableOfContents

from .. import periods
from ..i18n import t
from ..reports import show
from . import charts
from .fonts import pdf_font

MAX_ROWS = 200
MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN
NUMERIC = ("pct", "pp", "delta", "min", "days", "num")


def styles() -> dict[str, ParagraphStyle]:
    font = pdf_font()
    return {
        "cover": ParagraphStyle("cover", fontName=font, fontSize=24, leading=34, alignment=TA_CENTER, spaceAfter=10),
        "cover_sub": ParagraphStyle("cover_sub", fontName=font, fontSize=14, leading=20, alignment=TA_CENTER),
        "title": ParagraphStyle("title", fontName=font, fontSize=16, leading=22, spaceAfter=6),
        "h2": ParagraphStyle("h2", fontName=font, fontSize=12, leading=16, spaceBefore=10, spaceAfter=4, keepWithNext=1),
        "body": ParagraphStyle("body", fontName=font, fontSize=9.5, leading=14, spaceAfter=2),
        "note": ParagraphStyle("note", fontName=font, fontSize=8, leading=11, textColor=colors.HexColor("#555555")),
        "cell": ParagraphStyle("cell", fontName=font, fontSize=8, leading=10),
        "cell_num": ParagraphStyle("cell_num", fontName=font, fontSize=8, leading=10, alignment=TA_RIGHT),
        "toc": ParagraphStyle("toc", fontName=font, fontSize=11, leading=18),
    }


def stamp(value: Any) -> str:
    return periods.local(value).strftime("%Y-%m-%d %H:%M") if hasattr(value, "astimezone") else str(value)


def period_label(period: str, lang: str) -> str:
    """2026-11 -> 2026年11月; 2026-Q4 -> 2026年第4季度; 2026 -> 2026年度 (as written on a Chinese cover)."""
    if lang == "en":
        return period
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", period):
        return f"{m.group(1)}年第{m.group(2)}季度"
    if m := re.fullmatch(r"(\d{4})-(\d{2})", period):
        return f"{m.group(1)}年{int(m.group(2))}月"
    return f"{period}年度" if re.fullmatch(r"\d{4}", period) else period


def _numeric(value: Any) -> bool:
    if isinstance(value, dict):
        return value.get("f") in NUMERIC
    return isinstance(value, int | float) and not isinstance(value, bool)


def _display_width(text: str) -> int:
    """A CJK character is as wide as two Latin ones."""
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def _widths(header: list[str], rows: list[list[Any]], lang: str) -> list[float]:
    """Column widths from how much each column holds (a reason column gets room, a count column little)."""
    weights = []
    for i, h in enumerate(header):
        longest = max([_display_width(show(r[i], lang)) for r in rows[:60] if i < len(r)] + [_display_width(h)])
        weights.append(min(max(longest, 8), 40) + 2)  # + padding
    total = sum(weights)
    return [WIDTH * w / total for w in weights]


def table(rows: list[list[Any]], *, header: list[str] | None, style: ParagraphStyle, widths: list[float] | None = None,
          lang: str = "zh-CN", num_style: ParagraphStyle | None = None) -> Table:
    num = num_style or style

    def para(value: Any) -> Paragraph:
        return Paragraph(escape(show(value, lang)), num if _numeric(value) else style)

    data = ([[Paragraph(escape(h), style) for h in header]] if header else []) + [[para(v) for v in row] for row in rows]
    if widths is None and header:
        widths = _widths(header, rows, lang)
    # repeatRows: a table running onto the next page shows its header again there.
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


class _Document(SimpleDocTemplate):  # type: ignore[misc]  # reportlab has no type hints
    """Feeds each section heading to the contents list (a second pass fills in the page numbers)."""

    def afterFlowable(self, flowable: Any) -> None:
        if isinstance(flowable, Paragraph) and flowable.style.name == "h2":
            self.notify("TOCEntry", (0, flowable.getPlainText(), self.page))


def cover(report: dict[str, Any], s: dict[str, ParagraphStyle]) -> list[Any]:
    lang = report["lang"]
    title = report["title"]
    rows = [
        [t("agency", lang), report.get("agency") or "—"],
        [t("contractor", lang), report.get("contractor") or "—"],
        [t("number", lang), (report.get("figures") or {}).get("number") or report["period"]] if report["kind"] == "major-incident"
        else [t("period", lang), period_label(report["period"], lang)],
        [t("version", lang), report.get("version") or "1.0"],
        [t("report_date", lang), periods.local(report["generated_at"]).strftime("%Y-%m-%d")
         if hasattr(report["generated_at"], "astimezone") else str(report["generated_at"])],
    ]
    return cover_page(report, title, rows, s)


def cover_page(report: dict[str, Any], title: str, rows: list[list[Any]], s: dict[str, ParagraphStyle]) -> list[Any]:
    """The agency, the title and a table of what the deliverable is (label, value), then a new page."""
    info = Table([[Paragraph(escape(k), s["cover_sub"]), Paragraph(escape(str(v)), s["cover_sub"])] for k, v in rows],
                 colWidths=[45 * mm, 95 * mm])
    info.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), pdf_font()), ("LINEBELOW", (1, 0), (1, -1), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                              ("BOTTOMPADDING", (0, 0), (-1, -1), 8)]))
    return [Spacer(1, 50 * mm), Paragraph(escape(report.get("agency") or ""), s["cover_sub"]), Spacer(1, 6 * mm),
            Paragraph(escape(title), s["cover"]), Spacer(1, 35 * mm), info, PageBreak()]


def contents(lang: str, s: dict[str, ParagraphStyle], *, page_break: bool = True) -> list[Any]:
    """The contents heading and list (the document class feeds it); a new page after it unless the caller's next
    flowable starts one."""
    toc = TableOfContents()
    toc.levelStyles = [s["toc"]]
    toc.dotsMinLevel = 0
    toc.tableStyle = TableStyle([("FONTNAME", (0, 0), (-1, -1), pdf_font())])
    return [Paragraph(escape(t("contents", lang)), s["title"]), toc, *([PageBreak()] if page_break else [])]


def sign_off(report: dict[str, Any], s: dict[str, ParagraphStyle]) -> list[Any]:
    """Prepared by (the contractor), reviewed by, and the agency's acceptance, each with a signature and a date line."""
    lang = report["lang"]
    line = "_" * 18
    date = "____年____月____日" if lang != "en" else "____-____-____"
    rows = [
        [f"{t('prepared_by', lang)}（{report.get('contractor') or ''}）" if lang != "en" else f"{t('prepared_by', lang)} ({report.get('contractor') or ''})",
         f"{t('signature', lang)}: {line}", f"{t('date', lang)}: {date}"],
        [t("reviewed_by", lang), f"{t('signature', lang)}: {line}", f"{t('date', lang)}: {date}"],
        [f"{t('accepted_by', lang)}（{report.get('agency') or ''}）" if lang != "en" else f"{t('accepted_by', lang)} ({report.get('agency') or ''})",
         f"{t('signature', lang)}: {line}", f"{t('date', lang)}: {date}"],
    ]
    tbl = Table([[Paragraph(escape(c), s["body"]) for c in r] for r in rows], colWidths=[WIDTH * 0.4, WIDTH * 0.32, WIDTH * 0.28])
    tbl.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), pdf_font()), ("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("TOPPADDING", (0, 0), (-1, -1), 16)]))
    return [KeepTogether([Paragraph(escape(t("sign_off", lang)), s["h2"]), tbl])]


def _section(section: dict[str, Any], lang: str, s: dict[str, ParagraphStyle]) -> list[Any]:
    out: list[Any] = [Paragraph(escape(section["title"]), s["h2"])]
    if section.get("type") == "text":
        out += [Paragraph(escape(p), s["body"]) for p in section.get("paragraphs") or []]
        return out
    rows = section["rows"]
    if not rows:
        out.append(Paragraph(escape(t("no_data", lang)), s["body"]))
        return out
    out.append(table(rows[:MAX_ROWS], header=section["columns"], style=s["cell"], lang=lang, num_style=s["cell_num"]))
    if len(rows) > MAX_ROWS:
        more = len(rows) - MAX_ROWS
        out.append(Paragraph(escape(f"… {more} more" if lang == "en" else f"…… 另有 {more} 行见 XLSX"), s["note"]))
    if section.get("note"):
        out.append(Paragraph(escape(section["note"]), s["note"]))
    chart = section.get("chart")
    if chart and chart.get("labels"):
        png = charts.render(chart)
        out.append(Spacer(1, 2 * mm))
        out.append(Image(io.BytesIO(png), width=170 * mm, height=170 * mm * 2.8 / 6.5))
    return out


def render(report: dict[str, Any]) -> bytes:
    s = styles()
    lang = report["lang"]
    story: list[Any] = [*cover(report, s), *contents(lang, s), Paragraph(escape(report["title"]), s["title"])]
    for section in report["sections"]:
        story += _section(section, lang, s)
    story += [Spacer(1, 8 * mm), *sign_off(report, s)]
    return build(_Document, story, report, header=f"{report['title']}    {report.get('contractor') or ''}")


def build(document_class: type[SimpleDocTemplate], story: list[Any], report: dict[str, Any], *, header: str) -> bytes:
    """The PDF of `story` on A4 in the report frame: the cover page bare, every later page with `header` on top and
    its page number at the foot (reports and the manual alike). multiBuild: a second pass fills in the contents."""
    out = io.BytesIO()
    doc = document_class(out, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=20 * mm, bottomMargin=18 * mm,
                         title=report["title"], author=report.get("contractor") or "Opsdesk", initialFontName=pdf_font())
    page = t("page", report["lang"])

    def first(canvas: Any, document: Any) -> None:
        """The cover carries no running header or page number."""

    def later(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(pdf_font(), 8)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(MARGIN, A4[1] - 12 * mm, header)
        canvas.drawRightString(A4[0] - MARGIN, 10 * mm, page % document.page)
        canvas.restoreState()

    doc.multiBuild(story, onFirstPage=first, onLaterPages=later)
    return out.getvalue()
