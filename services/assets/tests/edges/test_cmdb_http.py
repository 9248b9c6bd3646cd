"""The CMDB HTTP edge on memory adapters: verified callers, lifecycle 409s, relations, impact, baselines, labels,
import/export, audits, inspections, spares, loaners and the asset overview."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from assets import service_ops
from assets.adapters.memory import MemoryAssetRegister, MemoryOutbox, MemoryRepairStore
from assets.main import Adapters, create_app
from assets.settings import AssetsSettings
from opsdesk_shared.contracts import TicketCreatedV1
from opsdesk_shared.contracts.tickets import Requester
from opsdesk_shared.internal_auth_testing import InternalTokenAuth

API = "/api/v1"
ENGINEER = {"X-Opsdesk-User": "eng-7", "X-Opsdesk-Role": "engineer"}


@pytest.fixture
def cmdb() -> Adapters:
    return Adapters(register=MemoryAssetRegister(), repairs=MemoryRepairStore(), outbox=MemoryOutbox())


@pytest.fixture
async def api(cmdb: Adapters) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(AssetsSettings(tag_prefix="HQ"), adapters=cmdb)
    async with app.router.lifespan_context(app):
        # The test auth turns ENGINEER's headers into a signed token's claims and strips them, as the gateway would.
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://assets.test", headers=ENGINEER,
                                     auth=InternalTokenAuth("assets")) as client:
            yield client


async def new_asset(api: httpx.AsyncClient, **kw: Any) -> dict[str, Any]:
    body = {"type": "server", "location": {"building": "主樓", "floor": "1", "room": "機房"}, "department": "信息中心", "status": "in_stock", **kw}
    response = await api.post(f"{API}/assets", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_created_asset_gets_a_tag_in_the_configured_format(api: httpx.AsyncClient) -> None:
    asset = await new_asset(api)

    assert asset["tag"].startswith("HQ-") and asset["tag"].endswith("-000001") and asset["version"] == 1


@pytest.mark.parametrize("role", ["auditor", "requester", "Auditor"])
async def test_read_only_roles_cannot_write(api: httpx.AsyncClient, cmdb: Adapters, role: str) -> None:
    response = await api.post(f"{API}/assets", json={"type": "server", "location": {"building": "主樓"}},
                              headers={"X-Opsdesk-Role": role})

    assert response.status_code == 403
    assert await cmdb.register.tags() == set()


async def test_read_only_roles_can_still_read(api: httpx.AsyncClient) -> None:
    asset = await new_asset(api)
    response = await api.get(f"{API}/assets/{asset['tag']}", headers={"X-Opsdesk-Role": "auditor"})
    assert response.status_code == 200


async def test_history_records_the_verified_caller_as_author(api: httpx.AsyncClient) -> None:
    asset = await new_asset(api)
    await api.patch(f"{API}/assets/{asset['tag']}", json={"owner": "李華"}, headers={"X-Opsdesk-User": "desk.zhou", "X-Opsdesk-Role": "agent"})

    history = (await api.get(f"{API}/assets/{asset['tag']}/history")).json()

    assert [(v["version"], v["by"]) for v in history] == [(1, "eng-7"), (2, "desk.zhou")]


async def test_illegal_lifecycle_step_is_409_listing_allowed(api: httpx.AsyncClient) -> None:
    asset = await new_asset(api)

    response = await api.post(f"{API}/assets/{asset['tag']}/status", json={"status": "disposed"})

    assert response.status_code == 409
    assert response.json()["detail"]["allowed"] == ["deployed", "in_repair", "on_loan", "retired"]


async def test_as_of_returns_the_past_configuration(api: httpx.AsyncClient) -> None:
    asset = await new_asset(api)
    history = (await api.get(f"{API}/assets/{asset['tag']}/history")).json()
    await api.post(f"{API}/assets/{asset['tag']}/status", json={"status": "deployed"})

    past = await api.get(f"{API}/assets/{asset['tag']}", params={"as_of": history[0]["at"]})
    before = await api.get(f"{API}/assets/{asset['tag']}", params={"as_of": "2000-01-01T00:00:00Z"})

    assert past.json()["status"] == "in_stock"
    assert before.status_code == 404


async def test_invalid_attribute_is_422_on_its_field(api: httpx.AsyncClient) -> None:
    response = await api.post(f"{API}/assets", json={"type": "server", "location": {"building": "主樓"}, "attributes": {"ram_gb": "x"}})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "attributes", "ram_gb"]


async def test_new_type_via_put_then_used(api: httpx.AsyncClient) -> None:
    put = await api.put(f"{API}/asset-types/ups", json={"code": "ups", "name": "UPS", "attributes": [{"name": "kva", "kind": "number"}]})
    assert put.status_code == 200
    asset = await new_asset(api, type="ups", attributes={"kva": "6"})
    assert asset["attributes"] == {"kva": 6.0}
    assert "ups" in [t["code"] for t in (await api.get(f"{API}/asset-types")).json()]
    one = await api.get(f"{API}/asset-types/ups")
    assert one.status_code == 200 and one.json()["name"] == "UPS" and one.json()["attributes"][0]["name"] == "kva"
    assert (await api.get(f"{API}/asset-types/ups", headers={"Accept-Language": "zh-TW"})).json()["name"] == "UPS"
    missing = await api.get(f"{API}/asset-types/nope", headers={"Accept-Language": "zh-CN"})
    assert missing.status_code == 404 and "nope" in missing.json()["detail"] and "未知" in missing.json()["detail"]


async def test_relations_refuse_a_dependency_cycle_and_impact_follows_them(api: httpx.AsyncClient) -> None:
    server = await new_asset(api)
    app = await new_asset(api, type="application", department="財務科")
    svc = await new_asset(api, type="business_service", department="財務科")
    for source, type_, target in ((app["tag"], "runs_on", server["tag"]), (svc["tag"], "depends_on", app["tag"]),
                                  (svc["tag"], "used_by", "dept:人事科")):
        assert (await api.post(f"{API}/relations", json={"source": source, "type": type_, "target": target})).status_code == 201

    cycle = await api.post(f"{API}/relations", json={"source": server["tag"], "type": "depends_on", "target": svc["tag"]})
    impact = (await api.get(f"{API}/impact/{server['tag']}", params={"depth": 3})).json()
    depends = (await api.get(f"{API}/impact/{svc['tag']}", params={"direction": "depends"})).json()

    assert cycle.status_code == 409 and cycle.json()["detail"]["cycle"][0] == server["tag"]
    assert [h["tag"] for h in impact["business_services"]] == [svc["tag"]]
    assert impact["business_services"][0]["path"] == [server["tag"], app["tag"], svc["tag"]]
    assert {d["tag"] for d in impact["departments"]} == {"dept:人事科", "dept:財務科"}
    assert [h["tag"] for h in depends["items"]] == [app["tag"], server["tag"]]
    assert len((await api.get(f"{API}/relations", params={"tag": app["tag"]})).json()) == 2


async def test_relation_to_an_unknown_asset_is_422_and_delete_is_204_then_404(api: httpx.AsyncClient) -> None:
    a, b = await new_asset(api), await new_asset(api)
    unknown = await api.post(f"{API}/relations", json={"source": a["tag"], "type": "runs_on", "target": "NOPE-1"})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "target"]
    await api.post(f"{API}/relations", json={"source": a["tag"], "type": "connected_to", "target": b["tag"]})

    assert (await api.delete(f"{API}/relations/{b['tag']}/connected_to/{a['tag']}")).status_code == 204  # either end
    assert (await api.delete(f"{API}/relations/{b['tag']}/connected_to/{a['tag']}")).status_code == 404


async def test_impact_of_unknown_asset_is_404(api: httpx.AsyncClient) -> None:
    assert (await api.get(f"{API}/impact/NOPE-9")).status_code == 404


async def test_baseline_and_drift_over_http(api: httpx.AsyncClient) -> None:
    pc = await new_asset(api, type="desktop", department="財務科", attributes={"image_version": "W11-03"})
    created = await api.post(f"{API}/baselines", json={"name": "img", "scope": {"department": "財務科", "type": "desktop"},
                                                      "fields": ["attributes.image_version"]})
    await api.patch(f"{API}/assets/{pc['tag']}", json={"attributes": {"image_version": "W10"}})

    report = (await api.get(f"{API}/baselines/{created.json()['id']}/drift")).json()

    assert report["items"] == 1
    assert [(d["tag"], d["kind"], d["baseline"], d["current"]) for d in report["drift"]] == [(pc["tag"], "changed", "W11-03", "W10")]


async def test_labels_pdf_for_chosen_tags(api: httpx.AsyncClient) -> None:
    tags = [(await new_asset(api))["tag"] for _ in range(3)]

    response = await api.post(f"{API}/labels", json={"tags": tags})
    missing = await api.post(f"{API}/labels", json={"tags": ["NOPE-1"]})

    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert all(t in text for t in tags)
    assert missing.status_code == 422


async def test_import_dry_run_then_write_then_export(api: httpx.AsyncClient) -> None:
    csv_body = "tag,type,building,department\nGZ-H-1,desktop,主樓,財務科\nGZ-H-2,printer,副樓,檔案室\n".encode()
    files = {"file": ("register.csv", csv_body, "text/csv")}

    dry = await api.post(f"{API}/register/import", files=files)
    assert dry.status_code == 200 and dry.json()["valid"] == 2 and dry.json()["written"] == 0
    assert (await api.get(f"{API}/assets/GZ-H-1")).status_code == 404
    real = await api.post(f"{API}/register/import", params={"dry_run": "false"}, files=files)
    assert real.json()["written"] == 2

    exported = await api.get(f"{API}/register/export", params={"format": "csv", "department": "財務科"})
    lines = exported.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("tag,type") and len(lines) == 2 and lines[1].startswith("GZ-H-1,desktop")
    xlsx = await api.get(f"{API}/register/export", params={"format": "xlsx"})
    assert xlsx.content[:2] == b"PK"


async def test_import_with_errors_is_422_with_the_report_and_writes_nothing(api: httpx.AsyncClient) -> None:
    files = {"file": ("r.csv", "tag,type,building\nGZ-H-9,toaster,主樓\n".encode(), "text/csv")}

    response = await api.post(f"{API}/register/import", params={"dry_run": "false"}, files=files)

    assert response.status_code == 422
    assert response.json()["detail"]["errors"] == [
        {"row": 2, "column": "type", "message": "unknown type 'toaster'", "code": "err.unknown_type", "params": {"type": "toaster"}}
    ]
    assert (await api.get(f"{API}/assets/GZ-H-9")).status_code == 404


async def test_import_accepts_files_over_the_usual_body_limit(api: httpx.AsyncClient) -> None:
    rows = "".join(f"GZ-B-{i},desktop,主樓,財務科\n" for i in range(4000))
    files = {"file": ("big.csv", ("tag,type,building,department\n" + rows).encode(), "text/csv")}

    response = await api.post(f"{API}/register/import", files=files)

    assert response.status_code == 200 and response.json()["valid"] == 4000


async def test_audit_over_http(api: httpx.AsyncClient) -> None:
    a = await new_asset(api, department="檔案室")
    audit = (await api.post(f"{API}/audits", json={"name": "H2", "scope": {"department": "檔案室"}})).json()
    scan = await api.post(f"{API}/audits/{audit['id']}/scans", json={"tag": "GZ-UNKNOWN-1", "location": {"building": "副樓"}})
    closed = (await api.post(f"{API}/audits/{audit['id']}/close")).json()

    assert scan.json()["known"] is False
    assert {(d["tag"], d["kind"]) for d in closed["discrepancies"]} == {(a["tag"], "missing"), ("GZ-UNKNOWN-1", "unregistered")}
    again = await api.post(f"{API}/audits/{audit['id']}/scans", json={"tag": a["tag"], "location": {"building": "主樓"}})
    assert again.status_code == 409


async def test_inspection_spares_and_loaners_over_http(api: httpx.AsyncClient, cmdb: Adapters) -> None:
    printer = await new_asset(api, type="printer")
    inspected = await api.post(f"{API}/inspections", json={"asset_tag": printer["tag"], "kind": "disinfection",
                                                          "findings": [{"text": "外殼破損", "severity": "needs_work"}]})
    assert inspected.status_code == 201 and inspected.json()["needs_work"] is True
    assert cmdb.inspections.outbox.published[0].data["ticket"]["service_code"] == "PS-INSPECT"  # type: ignore[attr-defined]

    await api.post(f"{API}/spares", json={"part_type": "fuser", "site": "主樓", "received": 1, "minimum": 1})
    for n in (5, 6):  # issues name tickets intake announced
        await service_ops.on_ticket_event(TicketCreatedV1(
            ticket_id=f"tkt-{n}", number=f"INC-2026-00000{n}", title="卡纸", channel="hotline", service_code="RS-ONSITE",
            requester=Requester(name="王小明"), reported_at=datetime.now(UTC),
        ), links=cmdb.links)
    issued = await api.post(f"{API}/spares/issues", json={"part_type": "fuser", "site": "主樓", "quantity": 1, "ticket_id": "tkt-5"})
    too_many = await api.post(f"{API}/spares/issues", json={"part_type": "fuser", "site": "主樓", "quantity": 1, "ticket_id": "tkt-6"})
    plan = (await api.get(f"{API}/spares/replenishment")).json()
    assert issued.status_code == 201 and issued.json()["issue"]["below_minimum"] is True
    assert too_many.status_code == 409
    assert [(line["part_type"], line["order"]) for line in plan["lines"]] == [("fuser", 1)]

    loaner = await new_asset(api, type="laptop")
    lent = await api.post(f"{API}/loaners", json={"loaner_tag": loaner["tag"], "borrower": "王小明"})
    twice = await api.post(f"{API}/loaners", json={"loaner_tag": loaner["tag"], "borrower": "李華"})
    back = await api.post(f"{API}/loaners/{lent.json()['id']}/return")
    assert (lent.status_code, twice.status_code, back.status_code) == (201, 409, 200)


async def test_overview_and_repair_extras_over_http(api: httpx.AsyncClient) -> None:
    laptop = await new_asset(api, type="laptop", vendor="聯想")
    await api.post(f"{API}/assets/{laptop['tag']}/status", json={"status": "deployed"})
    repair = (await api.post(f"{API}/repairs", json={"asset_tag": laptop["tag"], "kind": "vendor", "billing": "warranty",
                                                     "transport_arranged": True, "fault": "黑屏"})).json()
    await api.patch(f"{API}/repairs/{repair['id']}", json={"status": "sent_to_vendor", "loaner_tag": "GZ-L-1"})
    at_vendor = await api.patch(f"{API}/repairs/{repair['id']}", json={"status": "at_vendor"})
    form = await api.get(f"{API}/repairs/{repair['id']}/send-out-form")
    overview = (await api.get(f"{API}/assets/{laptop['tag']}/overview")).json()

    assert at_vendor.json()["status"] == "at_vendor" and at_vendor.json()["loaner_tag"] == "GZ-L-1"
    assert form.headers["content-type"] == "application/pdf" and laptop["tag"] in PdfReader(io.BytesIO(form.content)).pages[0].extract_text()
    assert overview["asset"]["status"] == "in_repair" and [r["id"] for r in overview["repairs"]] == [repair["id"]]
    assert overview["open_tickets"] == []


async def test_list_filters_by_type_department_and_status(api: httpx.AsyncClient) -> None:
    a = await new_asset(api, department="財務科")
    await new_asset(api, department="人事科")
    await new_asset(api, type="printer", department="財務科")

    found = (await api.get(f"{API}/assets", params={"type": "server", "department": "財務科", "status": "in_stock"})).json()

    assert [x["tag"] for x in found] == [a["tag"]]
    assert len((await api.get(f"{API}/assets", params={"limit": 2})).json()) == 2


async def test_relations_read_as_of_a_past_moment(api: httpx.AsyncClient) -> None:
    import asyncio
    from datetime import UTC, datetime

    server, old_server, app = await new_asset(api), await new_asset(api), await new_asset(api, type="application")
    assert (await api.post(f"{API}/relations", json={"source": app["tag"], "type": "runs_on", "target": old_server["tag"]})).status_code == 201
    await asyncio.sleep(0.01)
    before_move = datetime.now(UTC)
    await asyncio.sleep(0.01)
    assert (await api.delete(f"{API}/relations/{app['tag']}/runs_on/{old_server['tag']}")).status_code == 204
    assert (await api.post(f"{API}/relations", json={"source": app["tag"], "type": "runs_on", "target": server["tag"]})).status_code == 201

    then = (await api.get(f"{API}/relations", params={"tag": app["tag"], "as_of": before_move.isoformat()})).json()
    now = (await api.get(f"{API}/relations", params={"tag": app["tag"]})).json()
    assert [r["target"] for r in then] == [old_server["tag"]]
    assert [r["target"] for r in now] == [server["tag"]]
    from_server_side = (await api.get(f"{API}/relations", params={"tag": old_server["tag"], "as_of": before_move.isoformat()})).json()
    assert [r["source"] for r in from_server_side] == [app["tag"]]


async def test_patch_with_null_for_a_required_field_is_a_field_error(api: httpx.AsyncClient) -> None:
    asset = await new_asset(api)
    for body, field in (({"location": None}, "location"), ({"attributes": None}, "attributes")):
        refused = await api.patch(f"{API}/assets/{asset['tag']}", json=body)
        assert refused.status_code == 422, body
        assert field in str(refused.json()["detail"]), refused.json()
    assert (await api.get(f"{API}/assets/{asset['tag']}")).json()["location"] == asset["location"]


async def test_type_names_are_read_in_the_readers_language_and_put_back_unchanged(api: httpx.AsyncClient) -> None:
    """Built-in names in zh-CN, zh-TW and en; an English reader putting a type back does not rename it for others;
    an administrator's own name is kept (in traditional script for zh-TW)."""
    names = {lang: (await api.get(f"{API}/asset-types/printer", headers={"Accept-Language": lang})).json()["name"]
             for lang in ("zh-CN", "zh-TW", "en")}
    assert names == {"zh-CN": "打印机", "zh-TW": "印表機", "en": "Printer"}
    listed = {t["code"]: t["name"] for t in (await api.get(f"{API}/asset-types", headers={"Accept-Language": "en"})).json()}
    assert listed["desktop"] == "Desktop" and listed["server"] == "Server"

    english = (await api.get(f"{API}/asset-types/printer", headers={"Accept-Language": "en"})).json()
    put = await api.put(f"{API}/asset-types/printer", json={**english, "requires_authorization": True}, headers={"Accept-Language": "en"})
    assert put.status_code == 200 and put.json()["name"] == "Printer"
    assert (await api.get(f"{API}/asset-types/printer", headers={"Accept-Language": "zh-CN"})).json()["name"] == "打印机"

    renamed = await api.put(f"{API}/asset-types/printer", json={**english, "name": "激光打印机"})
    assert renamed.status_code == 200
    assert (await api.get(f"{API}/asset-types/printer", headers={"Accept-Language": "zh-TW"})).json()["name"] == "激光打印機"
    assert (await api.get(f"{API}/asset-types/printer", headers={"Accept-Language": "en"})).json()["name"] == "激光打印机"
