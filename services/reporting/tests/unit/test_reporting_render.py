"""Reports and forms render to XLSX and PDF that open, carry the right figures and embed the CJK font."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from reporting import figures, reports, service
from reporting.adapters.memory import MemoryReadModels
from reporting.i18n import service_name
from reporting.render import forms, pdf, xlsx
from reporting.sample_month import generate

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def models() -> MemoryReadModels:
    m = MemoryReadModels()

    async def fill() -> None:
        for envelope in generate(tickets=120).events:
            await service.project(envelope, models=m)

    asyncio.run(fill())
    return m


async def build(models: MemoryReadModels, kind: str, lang: str = "zh-CN", period: str = "2026-11") -> dict[str, Any]:
    data = figures.compute(await figures.gather(models, period))
    return reports.build(reports.KINDS[kind], data, lang=lang, generated_at=NOW)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def pdf_fonts(data: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"].get("/Font", {}).values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def only_wqy(fonts: set[str]) -> bool:
    return bool(fonts) and all("WenQuanYi" in name for name in fonts)


async def test_service_summary_pdf_has_chinese_headings_figures_and_only_the_embedded_wqy_font(models: MemoryReadModels) -> None:
    report = await build(models, "service-summary")
    data = pdf.render(report)

    text = pdf_text(data)
    assert "月度服务总结 2026-11" in text
    for heading in ("按服务", "处理时长", "SLA 达成率", "服务台解决率", "工程师工作量"):
        assert heading in text, heading
    assert f"{report['figures']['desk']['share'] * 100:.1f}%" in text
    assert str(report["figures"]["volumes"]["total"]) in text
    fonts = pdf_fonts(data)
    assert only_wqy(fonts), fonts
    # The font file is embedded (a FontFile2 stream), so no viewer substitutes boxes.
    reader = PdfReader(io.BytesIO(data))
    font = next(iter(reader.pages[0]["/Resources"]["/Font"].values())).get_object()
    descriptor = font["/FontDescriptor"].get_object() if "/FontDescriptor" in font else font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
    assert "/FontFile2" in descriptor


async def test_english_pdf_on_request(models: MemoryReadModels) -> None:
    text = pdf_text(pdf.render(await build(models, "repair-summary", lang="en")))
    assert "Monthly repair summary 2026-11" in text and "By vendor" in text


async def test_xlsx_opens_and_carries_the_figures(models: MemoryReadModels) -> None:
    report = await build(models, "om-monthly")
    wb = load_workbook(io.BytesIO(xlsx.render(report)))

    assert wb.sheetnames[0] == "概览"
    assert wb["概览"]["A1"].value == "运维月报告 2026-11"
    by_service = {row[0]: row[1] for row in wb["按服务"].iter_rows(min_row=2, values_only=True)}
    # Catalog services by name (设备维修, not RS-REPAIR); a code the catalog seed does not know stays a code.
    assert by_service == {service_name(r["key"], "zh-CN"): r["count"] for r in report["figures"]["volumes"]["by_service"]}
    assert "设备维修" in by_service and "RS-REPAIR" not in by_service
    engineers = list(wb["工程师工作量"].iter_rows(min_row=2, values_only=True))
    assert [row[1] for row in engineers] == [e["assigned"] for e in report["figures"]["engineers"]]


@pytest.mark.parametrize("kind", sorted(reports.KINDS))
async def test_every_report_kind_renders_in_both_languages(models: MemoryReadModels, kind: str) -> None:
    period = {"month": "2026-11", "quarter": "2026-Q4", "year": "2026"}[reports.KINDS[kind].cadence]
    for lang in ("zh-CN", "en"):
        report = await build(models, kind, lang, period)
        assert pdf_text(pdf.render(report)).strip()
        assert load_workbook(io.BytesIO(xlsx.render(report))).sheetnames


async def test_quality_self_check_marks_each_check_pass_or_fail(models: MemoryReadModels) -> None:
    report = await build(models, "quality-self-check")
    checks = report["sections"][0]
    assert checks["id"] == "checks"
    outcomes = {row[0]: row[2] for row in checks["rows"]}
    assert outcomes["服务台解决率"] == "通过"  # 40% is inside 30-50%
    response = next(r for r in report["figures"]["sla"] if r["timer"] == "response")
    assert response["breached"] == 5  # tickets 0, 25, 50, 75 and 100 of 120: 95.8% kept
    assert outcomes["响应"] == "通过"
    satisfaction = report["figures"]["satisfaction"]["mean"]
    assert outcomes["平均满意度"] == ("通过" if satisfaction >= 4.0 else "未通过")


async def test_major_incident_report_lists_the_timeline(models: MemoryReadModels) -> None:
    ticket_id = (await figures.gather(models, "2026-11"))["majors"][0]["ticket_id"]
    ticket = await models.entity("tickets", ticket_id)
    assert ticket is not None
    report = reports.major_incident(ticket, lang="zh-CN", generated_at=NOW)
    text = pdf_text(pdf.render(report))
    assert "重大事件服务报告 INC-2026-000008" in text and "时间线" in text and "2026-11" in text


@pytest.mark.parametrize("form", sorted(forms.FORMS))
async def test_each_form_is_one_chinese_page_with_a_signature_line(models: MemoryReadModels, form: str) -> None:
    collection = forms.FORMS[form]
    if collection == "tickets":
        doc = await models.entity("tickets", (await figures.gather(models, "2026-11"))["majors"][0]["ticket_id"])
    elif collection == "repairs":
        doc = await models.entity("repairs", "R-3")
    else:
        doc = {"_id": "insp-1", "inspection_id": "insp-1", "asset_tag": "GZ-1", "inspector": "李华", "result": "正常",
               "findings": ["风扇积尘", "已除尘"], "inspected_at": NOW}
    assert doc is not None
    data = forms.render(form, {**doc, "record": "很长的记录" * 400} if collection == "tickets" else doc)

    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert forms.t(form, "zh-CN") in text
    assert "签字" in text and "日期" in text
    assert only_wqy(pdf_fonts(data))
