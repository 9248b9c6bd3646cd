"""The project manager's day through the gateway: open escalations and acknowledging one raised to them, overdue
assignments, the monthly service summary (PDF and XLSX a client accepts), the repair summary, a major incident's
report once it is resolved, and the lists of repairs and spare stock."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from openpyxl import load_workbook

from opsdesk_devstack.stack import Stack

from .people import assigned, sign_in, wait_for, wait_for_status

# The confirmation clock runs out in 3 seconds here, so an unconfirmed assignment turns overdue while the manager looks.
pytestmark = [pytest.mark.e2e, pytest.mark.stack_env(SLA_POLICIES=json.dumps({"confirmation": {"business_minutes": 0.05}}))]

REPAIR = {"title": "打印机卡纸", "description": "三楼打印机每页都卡纸", "channel": "hotline", "service_code": "RS-REPAIR",
          "site": "主楼"}
RAW_CODE = re.compile(r"\b(?:RS|RP|MG|PS)-[A-Z]{2,}")


def _get(stack: Stack, path: str, who: dict[str, str], **params: Any) -> httpx.Response:
    return httpx.get(f"{stack.gateway}/api/v1{path}", headers=who, params=params, timeout=60)


def _post(stack: Stack, path: str, who: dict[str, str], body: dict[str, Any] | None = None, **params: Any) -> httpx.Response:
    return httpx.post(f"{stack.gateway}/api/v1{path}", headers=who, json=body if body is not None else {}, params=params,
                      timeout=120)


def _month() -> str:
    """The current month at the site (Asia/Shanghai), the period a manager reports on during it."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")


def _pdf_text(data: bytes, tmp: Any) -> str:
    tool = shutil.which("pdftotext")
    assert tool, "pdftotext is missing: apt-get install poppler-utils"
    path = tmp / "report.pdf"
    path.write_bytes(data)
    return subprocess.run([tool, "-layout", str(path), "-"], check=True, capture_output=True, text=True, timeout=60).stdout


@pytest.fixture(scope="module")
def manager(stack: Stack) -> dict[str, str]:
    person: dict[str, str] = sign_in(stack, "manager", department="项目组", name="刘经理", prefix="pm")
    return person


@pytest.fixture(scope="module")
def desk(stack: Stack) -> dict[str, str]:
    person: dict[str, str] = sign_in(stack, "agent", department="服务台", prefix="desk")
    return person


@pytest.fixture(scope="module")
def requester(stack: Stack) -> dict[str, str]:
    person: dict[str, str] = sign_in(stack, "requester", department="财务科", name="王小明")
    return person


def _assigned(stack: Stack, requester: dict[str, str], desk: dict[str, str], **overrides: Any) -> tuple[str, str]:
    created = _post(stack, "/tickets", requester, {**REPAIR, **overrides})
    assert created.status_code == 201, created.text
    tid = created.json()["id"]
    return tid, assigned(stack, tid, desk)["assignee"]["engineer_id"]


def test_manager_sees_an_open_escalation_and_acknowledges_it(
    stack: Stack, manager: dict[str, str], desk: dict[str, str], requester: dict[str, str], engineers: dict[str, dict[str, str]],
) -> None:
    tid, eid = _assigned(stack, requester, desk, title="财务系统服务器无法访问")
    raised = _post(stack, f"/assignments/{tid}/escalations", engineers[eid], {"kind": "other", "description": "现场需要更换主板,费用超出"})
    assert raised.status_code == 200, raised.text
    escalation = raised.json()["escalations"][-1]

    open_now = _get(stack, "/escalations", manager, status="open")
    assert open_now.status_code == 200, open_now.text
    mine = [e for e in open_now.json()["items"] if e["id"] == escalation["id"]]
    assert len(mine) == 1 and mine[0]["ticket_id"] == tid and mine[0]["ticket_number"].startswith("INC-")
    assert mine[0]["description"] == "现场需要更换主板,费用超出" and mine[0]["acknowledged_at"] is None
    # The desk reads why on the ticket, as a work note naming the engineer (walk 15: it saw only the clock).
    note = wait_for(lambda: [c for c in _get(stack, f"/tickets/{tid}", desk).json()["comments"]
                             if c["internal"] and "现场需要更换主板" in c["body"]])
    assert len(note) == 1 and "工程师升级" in note[0]["body"] and eid not in note[0]["body"], note

    ack = _post(stack, f"/assignments/{tid}/escalations/{escalation['id']}/acknowledge", manager)
    assert ack.status_code == 200, ack.text
    done = next(e for e in ack.json()["escalations"] if e["id"] == escalation["id"])
    assert done["acknowledged_at"] and done["acknowledged_at"].endswith("+08:00")
    assert escalation["id"] not in [e["id"] for e in _get(stack, "/escalations", manager, status="open").json()["items"]]
    acknowledged = _get(stack, "/escalations", manager, status="acknowledged").json()["items"]
    assert escalation["id"] in [e["id"] for e in acknowledged]
    again = _post(stack, f"/assignments/{tid}/escalations/{escalation['id']}/acknowledge", manager)
    assert again.status_code == 409 and {"code", "message", "detail"} <= set(again.json()), again.text


def test_manager_sees_overdue_assignments(stack: Stack, manager: dict[str, str], desk: dict[str, str], requester: dict[str, str]) -> None:
    tid, _ = _assigned(stack, requester, desk, title="扫描仪无法开机")
    # Nobody confirms: the SLA monitor announces the confirmation breach and the assignment shows as overdue.
    late = wait_for(lambda: [a for a in _get(stack, "/assignments", manager, overdue="true").json()["items"] if a["ticket_id"] == tid],
                    timeout=30)
    assert late[0]["overdue"] is True and any(b["timer"] == "confirmation" for b in late[0]["breaches"])
    on_time = _get(stack, "/assignments", manager, overdue="false").json()["items"]
    assert tid not in [a["ticket_id"] for a in on_time]


def test_manager_generates_the_monthly_service_summary_as_pdf_and_xlsx(
    stack: Stack, manager: dict[str, str], desk: dict[str, str], requester: dict[str, str], tmp_path: Any,
) -> None:
    tid, _ = _assigned(stack, requester, desk, title="显示器黑屏")
    resolved = _post(stack, f"/tickets/{tid}/resolve", desk, {"resolution": "重新插好视频线,恢复正常"})
    assert resolved.status_code == 200, resolved.text
    period = _month()
    generated = _post(stack, f"/reports/service-summary/{period}/generate", manager)
    assert generated.status_code == 200, generated.text
    report_id = generated.json()["report_id"]
    assert report_id in [r.get("_id", r.get("id")) for r in _get(stack, "/reports/stored", manager, kind="service-summary").json()]

    pdf = _get(stack, f"/reports/stored/{report_id}", manager, format="pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"].startswith("application/pdf"), pdf.text[:300]
    text = _pdf_text(pdf.content, tmp_path)
    cover = text.split("\f")[0]
    assert "月度服务总结" in cover and period in cover, cover
    for label in ("目录", "概览", "签署确认", "设备维修"):
        assert label in text, label
    assert not RAW_CODE.search(text), RAW_CODE.findall(text)
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text)  # no raw ISO times
    wire_values = {"hotline", "incident", "service_request", "in_progress", "resolved"} & set(re.findall(r"[A-Za-z_0-9]+", text))
    assert not wire_values, wire_values  # values read as Chinese labels, not as the API's enums

    xlsx = _get(stack, f"/reports/stored/{report_id}", manager, format="xlsx")
    assert xlsx.status_code == 200, xlsx.text[:300]
    wb = load_workbook(io.BytesIO(xlsx.content))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows(min_row=2) for c in row[1:] if c.value is not None]
    assert any(isinstance(c.value, int | float) for c in cells)
    # A figure is a number, never its text: no cell holds "12" or "95.0%" as a string (the document's version is a label).
    figures = [c for c in cells if c.parent.cell(row=c.row, column=1).value != "版本"]
    numeric_text = [(c.parent.title, c.coordinate, c.value) for c in figures
                    if isinstance(c.value, str) and re.fullmatch(r"-?\d+(\.\d+)?%?", c.value.strip())]
    assert not numeric_text, numeric_text


def test_manager_downloads_the_repair_summary(stack: Stack, manager: dict[str, str], tmp_path: Any) -> None:
    period = _month()
    pdf = _get(stack, f"/reports/repair-summary/{period}", manager, format="pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"].startswith("application/pdf"), pdf.text[:300]
    text = _pdf_text(pdf.content, tmp_path)
    assert "维修" in text.split("\f")[0] and not RAW_CODE.search(text)
    xlsx = _get(stack, f"/reports/repair-summary/{period}", manager, format="xlsx")
    assert xlsx.status_code == 200
    load_workbook(io.BytesIO(xlsx.content))
    bad = _get(stack, "/reports/repair-summary/2026-13", manager)
    assert bad.status_code == 422 and {"code", "message", "detail"} <= set(bad.json()), bad.text


def test_manager_reads_a_major_incidents_report_after_it_is_resolved(
    stack: Stack, manager: dict[str, str], desk: dict[str, str], tmp_path: Any,
) -> None:
    created = _post(stack, "/tickets", desk, {
        "title": "全楼网络中断", "description": "主楼所有楼层无法上网", "channel": "hotline", "service_code": "RS-REPAIR",
        "requester": {"name": "信息中心值班", "department": "信息中心"}, "major_incident": True, "priority": "P1", "priority_reason": "全楼业务中断", "site": "主楼",
    })
    assert created.status_code == 201, created.text
    tid, number = created.json()["id"], created.json()["number"]
    assigned(stack, tid, desk)
    assert _post(stack, f"/tickets/{tid}/resolve", desk, {"resolution": "核心交换机电源故障,已更换电源模块"}).status_code == 200
    wait_for_status(stack, tid, desk, "resolved")

    report = wait_for(lambda: (r := _get(stack, f"/reports/major-incident/{tid}", manager))
                      .status_code == 200 and "核心交换机电源故障" in json.dumps(r.json(), ensure_ascii=False) and r, timeout=20)
    assert number in json.dumps(report.json(), ensure_ascii=False)
    pdf = _get(stack, f"/reports/major-incident/{tid}", manager, format="pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"].startswith("application/pdf")
    text = _pdf_text(pdf.content, tmp_path)
    assert number in text and "核心交换机电源故障" in text, text[:2000]
    assert not RAW_CODE.search(text), RAW_CODE.findall(text)


def test_manager_lists_repairs_and_low_spare_stock(stack: Stack, manager: dict[str, str], desk: dict[str, str]) -> None:
    opened = _post(stack, "/repairs", desk, {"asset_tag": "GZ-2026-000001", "vendor": "惠普", "fault": "定影器异响",
                                             "kind": "vendor"})
    assert opened.status_code == 201, opened.text
    repairs = _get(stack, "/repairs", manager)
    assert repairs.status_code == 200, repairs.text
    assert opened.json()["id"] in [r["id"] for r in repairs.json()["items"]]
    by_vendor = _get(stack, "/repairs", manager, vendor="惠普").json()["items"]
    assert by_vendor and all(r["vendor"] == "惠普" for r in by_vendor)

    low = _post(stack, "/spares", desk, {"part_type": "toner-hp26a", "site": "副楼", "received": 1, "minimum": 5})
    plenty = _post(stack, "/spares", desk, {"part_type": "mouse", "site": "副楼", "received": 50, "minimum": 5})
    assert low.status_code == 200 and plenty.status_code == 200, (low.text, plenty.text)
    listed = _get(stack, "/spares", manager, low_stock="true")
    assert listed.status_code == 200, listed.text
    lines = {(s["part_type"], s["site"]): s for s in listed.json()["items"]}
    assert ("toner-hp26a", "副楼") in lines and ("mouse", "副楼") not in lines
    assert isinstance(lines[("toner-hp26a", "副楼")]["available"], int)
