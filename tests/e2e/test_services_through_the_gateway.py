"""The knowledge base and the CMDB worked through the gateway on the real database: the paths most likely to meet
a FerretDB limit (documents rewritten whole, chunked files, bulk imports) exercised as a user would."""

from __future__ import annotations

import uuid

import httpx
import pytest

from opsdesk_devstack.people import engineer, sign_in, wait_for
from opsdesk_devstack.stack import Stack

pytestmark = pytest.mark.e2e


def test_an_article_from_draft_to_search_with_an_attachment(stack: Stack) -> None:
    gw = stack.gateway
    author = engineer(stack, "eng-senior-1")
    agent, requester = sign_in(stack, "agent", prefix="desk.kb"), sign_in(stack, "requester", department="辦公室", prefix="req.kb")
    draft = httpx.post(f"{gw}/api/v1/kb/articles", headers=author, timeout=15, json={
        "title": "掃描儀驅動丟失後重新安裝", "body": "開啟設備管理員,卸載掃描儀,從共享盤安裝驅動程序,然後重新啟動電腦。",
        "category": "終端", "tags": ["掃描儀", "驅動"], "audience": "all", "source": "submission",
    })
    assert draft.status_code == 201, draft.text
    article = draft.json()["id"]
    assert httpx.post(f"{gw}/api/v1/kb/articles/{article}/submit", json={}, headers=author).status_code == 200
    # A requester cannot even see an article in review, so cannot publish it either.
    assert httpx.post(f"{gw}/api/v1/kb/articles/{article}/publish", json={}, headers=requester).status_code == 404
    assert httpx.post(f"{gw}/api/v1/kb/articles/{article}/publish", json={}, headers=agent).status_code == 200

    data = ("驅動程序安裝步驟\n" * 20000).encode()  # ~480 KB: more than one chunk
    upload = httpx.post(f"{gw}/api/v1/kb/articles/{article}/attachments", params={"filename": "步驟.txt"}, content=data,
                        headers={**agent, "Content-Type": "application/octet-stream"}, timeout=30)
    assert upload.status_code == 201, upload.text
    name = upload.json().get("file_id") or upload.json().get("id") or upload.json().get("name")
    download = httpx.get(f"{gw}/api/v1/kb/articles/{article}/attachments/{name}", headers=requester, timeout=30)
    assert download.status_code == 200 and download.content == data

    found = wait_for(lambda: (r := httpx.get(f"{gw}/api/v1/kb/search", params={"q": "扫描仪 驱动"}, headers=requester).json())["total"] and r)
    assert found["results"][0]["article_id"] == article and "<em>" in found["results"][0]["title_html"]


def test_the_register_imported_audited_and_exported_through_the_gateway(stack: Stack) -> None:
    gw = stack.gateway
    agent = sign_in(stack, "agent", prefix="desk.cmdb")
    rows = ["tag,type,model,building,floor,room,department,owner"]
    rows += [f"GZ-2026-9{n:05d},desktop,ThinkCentre M70t,主樓,{n % 5 + 1},{200 + n % 30},財務科,用戶{n}" for n in range(300)]
    csv = ("\n".join(rows) + "\n").encode()
    dry = httpx.post(f"{gw}/api/v1/register/import", params={"dry_run": "true"}, files={"file": ("register.csv", csv, "text/csv")},
                     headers=agent, timeout=60)
    assert dry.status_code == 200, dry.text
    assert dry.json()["valid"] == 300 and dry.json()["errors"] == [] and not dry.json()["written"]
    real = httpx.post(f"{gw}/api/v1/register/import", params={"dry_run": "false"}, files={"file": ("register.csv", csv, "text/csv")},
                      headers=agent, timeout=120)
    assert real.status_code == 200 and real.json()["written"] == 300, real.text

    audit = httpx.post(f"{gw}/api/v1/audits", json={"name": "2026 下半年盤點", "scope": {"department": "財務科", "type": "desktop"}},
                       headers=agent, timeout=30).json()
    seen = {"tag": "GZ-2026-900001", "location": {"building": "主樓", "floor": "9", "room": "901"}}
    assert httpx.post(f"{gw}/api/v1/audits/{audit['id']}/scans", json=seen, headers=agent, timeout=15).status_code in (200, 201)
    closed = httpx.post(f"{gw}/api/v1/audits/{audit['id']}/close", json={}, headers=agent, timeout=60)
    assert closed.status_code == 200, closed.text
    kinds = {(d["tag"], d["kind"]) for d in closed.json()["discrepancies"]}
    assert ("GZ-2026-900001", "wrong_location") in kinds and ("GZ-2026-900002", "missing") in kinds

    export = httpx.get(f"{gw}/api/v1/register/export", params={"format": "xlsx", "department": "財務科"}, headers=agent, timeout=60)
    assert export.status_code == 200 and export.content[:2] == b"PK"


def test_recurring_incidents_become_a_problem_and_the_next_one_counts_as_a_recurrence(stack: Stack) -> None:
    gw = stack.gateway
    agent = sign_in(stack, "agent", prefix="desk.pm")
    ticket = {"requester": {"name": "王小明", "department": "財務科"}, "channel": "hotline", "service_code": "RS-REPAIR",
              "asset_tag": "GZ-2026-000002", "description": "打印時卡紙,紙張卡在定影器"}
    for n in range(3):
        created = httpx.post(f"{gw}/api/v1/tickets", json={**ticket, "title": f"財務科打印機卡紙 第{n + 1}次"}, headers=agent, timeout=15)
        assert created.status_code == 201, created.text
    candidates = wait_for(lambda: [c for c in httpx.get(f"{gw}/api/v1/problems/candidates", headers=agent).json()
                                   if c["asset_tag"] == "GZ-2026-000002" and len(c["incident_ids"]) >= 3])
    confirmed = httpx.post(f"{gw}/api/v1/problems/candidates/{candidates[0]['id']}/confirm", json={}, headers=agent, timeout=15)
    assert confirmed.status_code in (200, 201), confirmed.text

    httpx.post(f"{gw}/api/v1/tickets", json={**ticket, "title": "財務科打印機又卡紙"}, headers=agent, timeout=15)
    stats = wait_for(lambda: (s := httpx.get(f"{gw}/api/v1/problems/stats", headers=agent).json())["recurrences"] >= 1 and s)
    assert stats["problems"] >= 1 and stats["incidents_linked"] >= 3


def test_a_spare_part_issued_against_a_ticket_prints_on_its_requisition_form(stack: Stack) -> None:
    gw = stack.gateway
    agent = sign_in(stack, "agent", prefix="desk.spare")
    part = f"HP 26A 硒鼓 {uuid.uuid4().hex[:6]}"  # a part type of its own: the stack is shared
    tid = httpx.post(f"{gw}/api/v1/tickets", headers=agent, timeout=15, json={
        "title": "硒鼓用完", "requester": {"name": "李華", "department": "人事科"}, "channel": "walk_in", "service_code": "RS-SPARE",
    }).json()["id"]
    stock = httpx.post(f"{gw}/api/v1/spares", json={"part_type": part, "site": "主樓", "received": 5, "minimum": 4},
                       headers=agent, timeout=15)
    assert stock.status_code in (200, 201), stock.text
    # Assets learns of the ticket from ticket.created: until it has, the issue is refused (422, nothing issued) and
    # the agent tries again, as a person would (a CI run met the refusal right after filing).
    def issue() -> httpx.Response | None:
        r = httpx.post(f"{gw}/api/v1/spares/issues", json={"part_type": part, "site": "主樓", "quantity": 2, "ticket_id": tid},
                       headers=agent, timeout=15)
        return None if r.status_code == 422 and "is known" in r.text else r

    issued = wait_for(issue)
    assert issued.status_code in (200, 201), issued.text
    left = httpx.get(f"{gw}/api/v1/spares/{part}/主樓", headers=agent, timeout=15).json()
    assert left["on_hand"] == 3, left
    replenish = httpx.get(f"{gw}/api/v1/spares/replenishment", headers=agent, timeout=15)
    assert replenish.status_code == 200 and "HP 26A" in replenish.text  # 3 on hand is under the minimum of 4

    form = wait_for(lambda: (f := httpx.get(f"{gw}/api/v1/forms/spare-part/{tid}", headers=agent, timeout=60)).status_code == 200 and f)
    assert form.content.startswith(b"%PDF")
