"""The maintenance manual as a PDF: cover, contents with page numbers, one chapter per article (each from a new page),
and the sign-off block. Same fonts, cover, contents, page frame (header and page numbers) and sign-off as the
reports (pdf.py).

An article body is plain text with light Markdown: `#` headings, `-`/`*` bullets, numbered steps and fenced code;
every other line is a paragraph of its own, so the author's line breaks stay.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, Preformatted, SimpleDocTemplate, Spacer

from .. import periods
from ..i18n import t
from .fonts import pdf_font
from .pdf import build, contents, cover_page, sign_off, styles

CHAPTER = "chapter"
HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
BULLET = re.compile(r"^\s*[-*•]\s+(.*)$")
# Markdown's rule: digits, "." or ")", then a space. "13.A、13.B 开头的代码" is a sentence, never item 13.
NUMBERED = re.compile(r"^\s*(\d+[.)])\s+(.*)$")


def manual_styles() -> dict[str, ParagraphStyle]:
    font = pdf_font()
    s = styles()
    s[CHAPTER] = ParagraphStyle(CHAPTER, fontName=font, fontSize=16, leading=24, spaceAfter=6, keepWithNext=1)
    s["sub"] = ParagraphStyle("sub", fontName=font, fontSize=11.5, leading=16, spaceBefore=8, spaceAfter=3, keepWithNext=1)
    s["bullet"] = ParagraphStyle("bullet", parent=s["body"], leftIndent=18, bulletIndent=2, bulletFontName=font, bulletFontSize=6, bulletOffsetY=-1)
    s["code"] = ParagraphStyle("code", fontName=font, fontSize=8.5, leading=12, leftIndent=8, backColor=colors.HexColor("#f2f2f2"),
                               borderPadding=3, spaceBefore=2, spaceAfter=4)
    s["toc"] = ParagraphStyle("toc", fontName=font, fontSize=11, leading=20)
    return s


class _Manual(SimpleDocTemplate):  # type: ignore[misc]  # reportlab has no type hints
    """Each chapter heading goes into the contents; the second pass of multiBuild fills in its page."""

    def afterFlowable(self, flowable: Any) -> None:
        if isinstance(flowable, Paragraph) and flowable.style.name == CHAPTER:
            self.notify("TOCEntry", (0, flowable.getPlainText(), self.page))


def _date(value: Any) -> str:
    if not value:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return periods.local(value).strftime("%Y-%m-%d")


def cover(report: dict[str, Any], s: dict[str, ParagraphStyle]) -> list[Any]:
    lang = report["lang"]
    chapters = report.get("sections") or []
    rows = [
        [t("agency", lang), report.get("agency") or "—"],
        [t("contractor", lang), report.get("contractor") or "—"],
        [t("version", lang), report.get("version") or "1.0"],
        [t("articles_count", lang), str(len(chapters))],
        [t("report_date", lang), _date(report["generated_at"])],
    ]
    title = report["title"] if lang == "en" else f"《{report['title']}》"
    return cover_page(report, title, rows, s)


def body(text: str, s: dict[str, ParagraphStyle]) -> list[Any]:
    """An article's text as flowables: headings, bullets, numbered steps, fenced code and paragraphs."""
    out: list[Any] = []
    code: list[str] | None = None
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.rstrip()
        if line.strip().startswith("```"):
            if code is None:
                code = []
            else:
                out.append(Preformatted("\n".join(code), s["code"]))
                code = None
            continue
        if code is not None:
            code.append(line)
            continue
        if not line.strip():
            continue
        if m := HEADING.match(line):
            out.append(Paragraph(escape(m.group(2)), s["sub"]))
        elif m := BULLET.match(line):
            out.append(Paragraph(escape(m.group(1)), s["bullet"], bulletText="●"))  # WQY Zen Hei has no U+2022
        elif m := NUMBERED.match(line):
            out.append(Paragraph(escape(m.group(2)), s["bullet"], bulletText=m.group(1)))
        else:
            out.append(Paragraph(escape(line.strip()), s["body"]))
    if code is not None:  # an unclosed fence: keep what it held
        out.append(Preformatted("\n".join(code), s["code"]))
    return out


def chapter(section: dict[str, Any], lang: str, s: dict[str, ParagraphStyle]) -> list[Any]:
    heading = f"{t('chapter', lang) % section['number']}  {section['title']}" if lang != "en" else \
        f"{t('chapter', lang) % section['number']}. {section['title']}"
    meta = "  |  ".join([f"{t('category', lang)}: {section.get('category') or '—'}",
                        f"{t('article_version', lang)}: v{section.get('article_version')}",
                        f"{t('published_on', lang)}: {_date(section.get('published_at'))}"])
    out: list[Any] = [PageBreak(), Paragraph(escape(heading), s[CHAPTER]), Paragraph(escape(meta), s["note"]), Spacer(1, 3 * mm)]
    if section.get("summary"):
        out += [Paragraph(escape(f"{t('summary', lang)}: {section['summary']}"), s["note"]), Spacer(1, 2 * mm)]
    return out + body(str(section.get("body") or ""), s)


def render(report: dict[str, Any]) -> bytes:
    s = manual_styles()
    lang = report["lang"]
    story: list[Any] = [*cover(report, s), *contents(lang, s, page_break=False)]  # each chapter starts a page
    for section in report.get("sections") or []:
        story += chapter(section, lang, s)
    story += [Spacer(1, 10 * mm), *sign_off(report, s)]
    header = f"{report['title']}  v{report.get('revision') or 1}    {report.get('contractor') or ''}"
    return build(_Manual, story, report, header=header)
