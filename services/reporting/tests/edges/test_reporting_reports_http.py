"""/api/v1/reports and /api/v1/forms on memory adapters: formats, languages, roles and errors, as the gateway calls them
(every request signed with an internal token; an admin unless the test names another caller)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from openpyxl import load_workbook
from prometheus_client.parser import text_string_to_metric_families
from pypdf import PdfReader

from opsdesk_shared.contracts import subjects
from opsdesk_shared.internal_auth_testing import InternalTokenAuth
from reporting import service
from reporting.adapters.memory import MemoryEventSource, MemoryPublisher
from reporting.main import Adapters, create_app, memory_adapters
from reporting.sample_month import Month, generate
from reporting.settings import ReportingSettings

ADMIN = {"X-Opsdesk-User": "boss", "X-Opsdesk-Role": "admin"}
MANAGER = {"X-Opsdesk-User": "pm", "X-Opsdesk-Role": "manager"}
SCRAPE_TOKEN = "reporting-reports-scrape-token"


@pytest.fixture(scope="module")
def month() -> Month:
    return generate(tickets=60)


@pytest.fixture
async def wired(month: Month) -> Adapters:
    source = MemoryEventSource()
    adapters = memory_adapters(ReportingSettings(), source=source, publisher=MemoryPublisher(),
                               clock=lambda: datetime(2026, 12, 2, tzinfo=UTC))
    for envelope in month.events:
        source.events.append(envelope)
        await service.project(envelope, models=adapters.holder.models, live=adapters.holder.live)
    return adapters


@pytest.fixture
async def client(wired: Adapters) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ReportingSettings.model_validate({"OPSDESK_METRICS_TOKEN": SCRAPE_TOKEN}), adapters=wired)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting.test",
                                     auth=InternalTokenAuth("reporting")) as c:
            yield c


async def test_monthly_summary_as_json_by_default(client: httpx.AsyncClient, month: Month) -> None:
    response = await client.get("/api/v1/reports/service-summary/2026-11")
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "月度服务总结 2026-11"
    assert body["figures"]["volumes"]["total"] == month.expected["total"]
    assert body["due_at"] == "2026-12-05T00:00:00+08:00"  # the 5th, 00:00 in Guangzhou, shown with the site offset


async def test_pdf_and_xlsx_on_request_in_english(client: httpx.AsyncClient) -> None:
    pdf = await client.get("/api/v1/reports/repair-summary/2026-11", params={"format": "pdf", "lang": "en"})
    assert pdf.headers["content-type"] == "application/pdf"
    assert 'filename="repair-summary-2026-11.pdf"' in pdf.headers["content-disposition"]
    assert "Monthly repair summary" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    xlsx = await client.get("/api/v1/reports/om-quarterly/2026-Q4", params={"format": "xlsx"})
    assert load_workbook(io.BytesIO(xlsx.content))["概览"]["A1"].value == "运维季度报告 2026-Q4"


@pytest.mark.parametrize(("path", "status"), [
    ("/api/v1/reports/no-such-report/2026-11", 404),
    ("/api/v1/reports/service-summary/2026-13", 422),
    ("/api/v1/reports/service-summary/2026-Q4", 422),  # a monthly report asked for a quarter
    ("/api/v1/reports/service-summary/2026-11?lang=fr", 422),
    ("/api/v1/reports/service-summary/2026-11?format=doc", 422),
    ("/api/v1/forms/no-such-form/x", 404),
    ("/api/v1/forms/daily-maintenance/unknown-ticket", 404),
    ("/api/v1/reports/stored/nothing:2026-11:zh-CN", 404),
])
async def test_bad_requests_are_refused_with_a_reason(client: httpx.AsyncClient, path: str, status: int) -> None:
    response = await client.get(path)
    assert response.status_code == status
    assert response.json()["detail"]


async def test_forms_render_from_the_projection(client: httpx.AsyncClient, month: Month) -> None:
    ticket_id = month.events[0].subject_id
    response = await client.get(f"/api/v1/forms/daily-maintenance/{ticket_id}")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "日常维护单" in text and "INC-2026-000001" in text
    repair = await client.get("/api/v1/forms/equipment-repair/R-1")
    assert "设备维修单" in PdfReader(io.BytesIO(repair.content)).pages[0].extract_text()
    # One send-out form, assets' (it owns repairs and loaners): reporting's is gone and says where the form is.
    send_out = await client.get("/api/v1/forms/send-out/R-1")
    assert send_out.status_code == 404 and "/api/v1/repairs/{repair_id}/send-out-form" in send_out.text


async def test_major_incident_report_by_ticket(client: httpx.AsyncClient, month: Month) -> None:
    major = next(e for e in month.events if e.type == "ticket.created" and e.data["major_incident"])
    body = (await client.get(f"/api/v1/reports/major-incident/{major.subject_id}")).json()
    assert body["kind"] == "major-incident" and body["figures"]["number"] == major.data["number"]


async def test_generate_needs_a_manager_then_stores_and_announces(client: httpx.AsyncClient, wired: Adapters) -> None:
    for role in ("requester", "engineer", "agent", "auditor", "service"):
        refused = await client.post("/api/v1/reports/service-summary/2026-11/generate", headers={"X-Opsdesk-Role": role})
        assert refused.status_code == 403, role

    created = await client.post("/api/v1/reports/service-summary/2026-11/generate", headers=MANAGER)
    assert created.status_code == 200
    report_id = created.json()["report_id"]
    listed = (await client.get("/api/v1/reports/stored")).json()
    assert [r["_id"] for r in listed] == [report_id]
    pdf = await client.get(f"/api/v1/reports/stored/{report_id}", params={"format": "pdf"})
    assert pdf.content.startswith(b"%PDF")
    assert isinstance(wired.publisher, MemoryPublisher)
    assert [e.type for e in wired.publisher.published] == [subjects.REPORT_GENERATED]


async def test_rebuild_switches_generation_and_keeps_the_figures(client: httpx.AsyncClient, wired: Adapters) -> None:
    before = (await client.get("/api/v1/reports/om-monthly/2026-11")).json()["figures"]
    assert (await client.post("/api/v1/reports/admin/rebuild", params={"wait": True}, headers={"X-Opsdesk-Role": "agent"})).status_code == 403

    response = await client.post("/api/v1/reports/admin/rebuild", params={"wait": True}, headers=ADMIN)

    assert response.status_code == 202
    assert response.json()["generation"] == 2
    assert (await client.get("/api/v1/reports/admin/projection")).json() == {"generation": 2, "rebuilding": None}
    assert (await client.get("/api/v1/reports/om-monthly/2026-11")).json()["figures"] == before


async def test_metrics_export_live_gauges(client: httpx.AsyncClient, wired: Adapters) -> None:
    text = (await client.get("/metrics", auth=None, headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"})).text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    at_vendor = {s.labels["vendor"]: s.value for s in families["reporting_repairs_at_vendor"].samples}
    assert at_vendor == {"惠普": 0.0, "联想": 0.0}  # every repair in the month came back
    statuses = {s.labels["status"]: s.value for s in families["reporting_open_tickets"].samples}
    assert statuses == {"new": 60.0}  # no status changes in the sample month: all still 'new' as far as events tell


async def test_kinds_lists_every_report(client: httpx.AsyncClient) -> None:
    kinds = {k["kind"]: k for k in (await client.get("/api/v1/reports/kinds")).json()}
    assert kinds["service-summary"]["due_day"] == 5 and kinds["repair-summary"]["due_day"] == 10
    assert "major-incident" in kinds




async def test_http_requests_are_timed_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/api/v1/reports/service-summary/2026-11")
    text = (await client.get("/metrics", auth=None, headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"})).text
    samples = [s for f in text_string_to_metric_families(text) if f.name == "http_request_duration_seconds" for s in f.samples
               if s.name.endswith("_count") and s.labels.get("service") == "reporting"]
    routes = {(s.labels["route"], s.labels["status"]) for s in samples}
    assert ("/api/v1/reports/{kind}/{period}", "200") in routes
    assert not any("2026-11" in route for route, _ in routes)
