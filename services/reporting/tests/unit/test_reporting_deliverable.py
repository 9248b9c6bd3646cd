"""The monthly service summary is a deliverable the agency signs: every page drawn (pdftoppm), its text (pdftotext)
carries the cover, contents, comparison, commentary and sign-off in Chinese, and no wire value leaks into it."""

from __future__ import annotations

import asyncio
import io
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from opsdesk_shared.contracts import Envelope
from reporting import figures, reports, service
from reporting.adapters.memory import MemoryReadModels
from reporting.i18n import SERVICE_NAMES
from reporting.render import charts, pdf, xlsx
from reporting.sample_month import generate

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
# The sample month names services the catalog does not have; the agency's report must show catalog names, so the
# month is replayed with real catalog codes.
REAL = {"RS-PRINT": "RS-ONSITE", "RS-PC": "RS-INTAKE", "RS-NET": "RS-OTHER", "SEC-AV": "RS-SPARE"}
PARTIES = reports.Parties(agency="广州市工商行政管理局", contractor="越维科技", version="1.2")
WIRE_VALUES = ("hotline", "walk_in", "email", "web", "incident", "service_request", "sent_to_vendor", "technical", "needs_work")


def _real_codes(envelope: Envelope) -> Envelope:
    data = envelope.data
    if isinstance(data, dict) and data.get("service_code") in REAL:
        return envelope.model_copy(update={"data": {**data, "service_code": REAL[data["service_code"]]}})
    return envelope


@pytest.fixture(scope="module")
def summary() -> dict[str, Any]:
    models = MemoryReadModels()

    async def build() -> dict[str, Any]:
        for year, month, n in ((2026, 10, 90), (2026, 11, 200)):
            for envelope in generate(tickets=n, year=year, month=month, seed_text=f"d{month}").events:
                await service.project(_real_codes(envelope), models=models)
        now = figures.compute(await figures.gather(models, "2026-11"))
        before = figures.compute(await figures.gather(models, reports.previous_period("2026-11")))
        return reports.build(reports.KINDS["service-summary"], now, lang="zh-CN", generated_at=NOW, previous=before,
                             parties=PARTIES)

    return asyncio.run(build())


def _tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is missing: apt-get install poppler-utils"
    return found


def test_every_page_of_the_monthly_summary_is_drawn_and_reads_as_a_chinese_deliverable(summary: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "summary.pdf"
    path.write_bytes(pdf.render(summary))

    subprocess.run([_tool("pdftoppm"), "-png", "-r", "40", str(path), str(tmp_path / "page")], check=True, timeout=120)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert 6 <= len(pages) <= 12, len(pages)
    assert all(p.stat().st_size > 3000 for p in pages)  # none blank
    text = subprocess.run([_tool("pdftotext"), "-layout", str(path), "-"], check=True, capture_output=True, text=True,
                          timeout=60).stdout
    per_page = text.split("\f")
    cover = per_page[0]
    for expected in ("广州市工商行政管理局", "越维科技", "月度服务总结 2026-11", "2026年11月", "1.2", "2026-12-01"):
        assert expected in cover, expected
    assert "目录" in per_page[1] and "签署确认" in per_page[1]
    for expected in ("概览", "本期分析", "上期", "变化", "现场维护", "客户服务申请受理", "热线电话", "现场报障", "P1 紧急", "故障",
                     "编制人", "审核人", "采购人验收", "签字", "日期", "逐项说明"):
        assert expected in text, expected
    assert "签署确认" in per_page[-1] or "签署确认" in per_page[-2]
    # No catalog code, wire enum value or raw ISO time reaches the reader.
    assert not re.search(r"\b(RS|RP|MG|PS)-[A-Z]", text), re.findall(r"\b(?:RS|RP|MG|PS)-[A-Z-]+", text)
    words = set(re.findall(r"[a-z_]+", text))
    assert not words & set(WIRE_VALUES), words & set(WIRE_VALUES)
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text) and "+08:00" not in text
    assert re.search(r"2026-11-\d{2} \d{2}:\d{2}", text)  # breach times in local wall-clock form
    assert "‑" not in text and " - " not in text.replace("30%-50%", "")


def test_each_breach_is_explained_in_the_commentary(summary: dict[str, Any]) -> None:
    commentary = next(s for s in summary["sections"] if s["id"] == "commentary")["paragraphs"]
    breaches = summary["figures"]["breaches"]
    assert breaches
    for b in breaches:
        assert any(str(b["number"]) in p and "时限 60 分钟" in p for p in commentary), b["number"]


def test_a_long_table_repeats_its_header_on_the_next_page(summary: dict[str, Any], tmp_path: Path) -> None:
    long = {**summary, "sections": [reports._table("breaches", "zh-CN", ["ticket", "timer", "due_at", "breached_at", "reason"],
                                                   [[f"INC-2026-{i:06d}", "响应", None, None, "原因"] for i in range(150)])]}
    path = tmp_path / "long.pdf"
    path.write_bytes(pdf.render(long))
    text = subprocess.run([_tool("pdftotext"), str(path), "-"], check=True, capture_output=True, text=True, timeout=60).stdout
    table_pages = [p for p in text.split("\f") if "INC-2026-" in p]
    assert len(table_pages) >= 3
    assert all("到期时间" in p and "违约时间" in p for p in table_pages)
    assert "—" in text  # an empty cell is the dash


def test_xlsx_holds_numbers_percentages_and_dates_with_formats(summary: dict[str, Any]) -> None:
    wb = load_workbook(io.BytesIO(xlsx.render(summary)))

    sla = list(wb["SLA 达成率"].iter_rows(min_row=2))
    response = next(r for r in sla if r[0].value == "响应")
    assert isinstance(response[4].value, float) and response[4].number_format == "0.0%"
    assert 0 < response[4].value <= 1
    breaches = list(wb["SLA 违约明细"].iter_rows(min_row=2))
    assert isinstance(breaches[0][2].value, datetime) and breaches[0][2].number_format == "yyyy-mm-dd hh:mm"
    times = {r[0].value: r for r in wb["处理时长"].iter_rows(min_row=2)}
    assert isinstance(times["解决"][2].value, float) and times["解决"][2].number_format == "#,##0.0"
    overview = {r[0].value: r for r in wb["概览"].iter_rows()}
    assert overview["采购人"][1].value == "广州市工商行政管理局"


def test_an_outlier_cuts_the_axis_instead_of_flattening_the_chart() -> None:
    values = [8.0, 20.2, 10.1, 19.0, 26.1, 37.3, 181.8, 4586.0]

    limit = charts.clip_limit(values)

    assert limit is not None and 37.3 < limit < 181.8
    assert charts.clip_limit([8.0, 10.0, 12.0, 14.0]) is None  # nothing to cut
    assert charts.render({"type": "bar", "labels": list("abcd"), "values": values[:4], "values2": values[4:], "clip": True,
                          "note": "%s %s"}).startswith(b"\x89PNG")


def test_identical_compliance_bars_become_a_sentence(summary: dict[str, Any]) -> None:
    same = {**summary["figures"], "sla": [{"timer": n, "started": 3, "warned": 0, "breached": 0, "compliance": 1.0}
                                          for n in ("response", "dispatch", "confirmation", "redispatch", "escalation", "repair_return")]}
    sla = next(s for s in reports.sections(reports.KINDS["service-summary"], same, "zh-CN") if s["id"] == "sla")
    assert sla["chart"] is None and "100.0%" in sla["note"]


def test_service_names_match_the_catalog_seed() -> None:
    """The names are a copy of intake's seed (ticket.created carries only the code): they must not drift."""
    from intake import catalog  # installed beside reporting in the dev venv; a missing intake is a failure
    assert {s.code: (s.name.zh_cn, s.name.en) for s in catalog.SEED} == SERVICE_NAMES
