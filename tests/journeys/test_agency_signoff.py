"""Report sign-off and the maintenance manual through the gateway on the real stack (issue 16): the manager submits the
monthly service summary to the agency, the agency returns it with comments, the manager resubmits it as version 2 and
the agency acknowledges it; the manual (《维护手册》) is published from knowledge articles (reporting asks knowledge
over the bus), submitted and acknowledged, and its PDF carries the contents and the chapters."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from opsdesk_devstack.stack import Stack

from .people import in_language, sign_in

pytestmark = pytest.mark.e2e


def _post(stack: Stack, path: str, who: dict[str, str], body: dict[str, Any] | None = None) -> httpx.Response:
    return httpx.post(f"{stack.gateway}/api/v1{path}", headers=who, json=body if body is not None else {}, timeout=120)


def _get(stack: Stack, path: str, who: dict[str, str], **params: Any) -> httpx.Response:
    return httpx.get(f"{stack.gateway}/api/v1{path}", headers=who, params=params, timeout=60)


@pytest.fixture(scope="module")
def manager(stack: Stack) -> dict[str, str]:
    person: dict[str, str] = sign_in(stack, "manager", department="项目组", name="刘经理", prefix="pm")
    return person


@pytest.fixture(scope="module")
def agency(stack: Stack) -> dict[str, str]:
    person: dict[str, str] = sign_in(stack, "agency", department="信息中心", name="周主任", prefix="agency")
    return person


@pytest.fixture(scope="module")
def desk(stack: Stack) -> dict[str, str]:
    person: dict[str, str] = sign_in(stack, "agent", department="服务台", prefix="desk")
    return person


def test_the_agency_returns_the_monthly_summary_and_acknowledges_version_two(
    stack: Stack, manager: dict[str, str], agency: dict[str, str],
) -> None:
    period = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    generated = _post(stack, f"/reports/service-summary/{period}/generate", manager)
    assert generated.status_code == 200, generated.text
    report_id = generated.json()["report_id"]

    assert _post(stack, f"/reports/stored/{report_id}/submit", agency).status_code == 403  # the team submits
    submitted = _post(stack, f"/reports/stored/{report_id}/submit", manager)
    assert submitted.status_code == 200, submitted.text
    assert (submitted.json()["state"], submitted.json()["version"], submitted.json()["on_time"]) == ("submitted", 1, True)

    assert _post(stack, f"/reports/stored/{report_id}/acknowledge", manager).status_code == 403  # the agency decides
    no_comments = _post(stack, f"/reports/stored/{report_id}/return", in_language(agency, "zh-CN"), {"comments": " "})
    assert no_comments.status_code == 422 and no_comments.json()["detail"][0]["loc"] == ["body", "comments"]
    returned = _post(stack, f"/reports/stored/{report_id}/return", agency, {"comments": "请补充打印机故障的原因分析"})
    assert returned.status_code == 200, returned.text

    again = _post(stack, f"/reports/stored/{report_id}/submit", manager)
    assert again.status_code == 200, again.text
    v2 = again.json()
    assert (v2["_id"], v2["version"], v2["state"], v2["previous"]) == (f"{report_id}:v2", 2, "submitted", report_id)
    late_ack = _post(stack, f"/reports/stored/{report_id}/acknowledge", in_language(agency, "en"))
    assert late_ack.status_code == 409 and late_ack.json()["allowed"] == []  # the returned version is history now
    acknowledged = _post(stack, f"/reports/stored/{v2['_id']}/acknowledge", agency, {"note": "已阅，同意"})
    assert acknowledged.status_code == 200 and acknowledged.json()["state"] == "acknowledged"

    listed = {r["_id"]: r for r in _get(stack, "/reports/stored", agency, kind="service-summary").json()}
    assert (listed[report_id]["state"], listed[report_id]["comments"]) == ("returned", "请补充打印机故障的原因分析")
    assert (listed[v2["_id"]]["state"], listed[v2["_id"]]["version"], listed[v2["_id"]]["on_time"]) == ("acknowledged", 2, True)
    assert listed[v2["_id"]]["submitted_at"].endswith("+08:00") and listed[v2["_id"]]["due_at"].endswith("+08:00")
    pdf = _get(stack, f"/reports/stored/{v2['_id']}", agency, format="pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_the_maintenance_manual_is_published_from_articles_and_acknowledged(
    stack: Stack, manager: dict[str, str], agency: dict[str, str], desk: dict[str, str], tmp_path: Any,
) -> None:
    ids = []
    for title, body in (("打印机卡纸的处理方法", "1. 关闭电源。\n2. 取出卡住的纸张。"), ("VPN 无法连接", "- 检查网线\n- 重启客户端")):
        created = _post(stack, "/kb/articles", desk, {"title": title, "body": body, "category": "维护手册测试"})
        assert created.status_code == 201, created.text
        for action in ("submit", "publish"):
            assert _post(stack, f"/kb/articles/{created.json()['id']}/{action}", desk).status_code == 200
        ids.append(created.json()["id"])

    published = _post(stack, "/reports/manual", manager, {"article_ids": ids})
    assert published.status_code == 200, published.text
    manual = published.json()
    assert (manual["kind"], manual["state"]) == ("maintenance-manual", "draft")
    assert _post(stack, f"/reports/stored/{manual['_id']}/submit", manager).status_code == 200
    assert _post(stack, f"/reports/stored/{manual['_id']}/acknowledge", agency).json()["state"] == "acknowledged"

    pdf = _get(stack, f"/reports/stored/{manual['_id']}", agency, format="pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    tool = shutil.which("pdftotext")
    assert tool, "pdftotext is missing: apt-get install poppler-utils"
    (tmp_path / "manual.pdf").write_bytes(pdf.content)
    text = subprocess.run([tool, "-layout", str(tmp_path / "manual.pdf"), "-"], check=True, capture_output=True, text=True).stdout
    pages = text.split("\f")
    assert "维护手册" in pages[0] and "目录" in pages[1]
    assert "第1章 打印机卡纸的处理方法" in " ".join(pages[1].split()) and "第2章 VPN 无法连接" in " ".join(pages[1].split())
    assert "取出卡住的纸张" in text and "重启客户端" in text

    draft = _post(stack, "/reports/manual", manager, {"article_ids": [ids[0], "no-such-article"]})
    assert draft.status_code == 422 and draft.json()["detail"][0]["loc"] == ["body", "article_ids"]
