"""The CMDB's refusals and the register import's row errors in the caller's language (zh-CN, zh-TW, en), in the one
error shape, naming the field and the real reason (texts.py, entrypoints/errors.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from assets.adapters.memory import MemoryAssetRegister, MemoryOutbox, MemoryRepairStore
from assets.main import Adapters, create_app
from assets.settings import AssetsSettings
from assets.texts import TEXTS
from opsdesk_shared.internal_auth_testing import InternalTokenAuth

API = "/api/v1"
ENGINEER = {"X-Opsdesk-User": "eng-7", "X-Opsdesk-Role": "engineer"}
ZH_CN, ZH_TW, EN = {"Accept-Language": "zh-CN"}, {"Accept-Language": "zh-TW"}, {"Accept-Language": "en"}
BAD_REGISTER = (
    "tag,type,building,status,purchase_date,warranty_end,attr.ram_gb\n"
    "GZ-L-1,toaster,主樓,,,,\n"
    "GZ-L-2,desktop,,broken,2026-13-01,,many\n"
    "GZ-L-2,desktop,主樓,,2026-05-01,2026-04-01,8\n"
).encode()


@pytest.fixture
async def api() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(AssetsSettings(), adapters=Adapters(register=MemoryAssetRegister(), repairs=MemoryRepairStore(), outbox=MemoryOutbox()))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://assets.test", headers=ENGINEER,
                                     auth=InternalTokenAuth("assets")) as client:
            yield client


async def dry_run(api: httpx.AsyncClient, headers: dict[str, str]) -> list[tuple[int, str, str]]:
    response = await api.post(f"{API}/register/import", files={"file": ("r.csv", BAD_REGISTER, "text/csv")}, headers=headers)
    assert response.status_code == 200, response.text
    return [(e["row"], e["column"], e["message"]) for e in response.json()["errors"]]


async def test_import_row_errors_are_said_in_the_readers_language(api: httpx.AsyncClient) -> None:
    zh_cn, zh_tw, en = await dry_run(api, ZH_CN), await dry_run(api, ZH_TW), await dry_run(api, EN)

    assert zh_cn == [
        (2, "type", "未知的资产类型「toaster」"),
        (3, "building", "必填"),
        (3, "status", "取值应为 ordered, in_stock, deployed, in_repair, on_loan, retired, disposed 之一"),
        (3, "purchase_date", "应为日期（YYYY-MM-DD）"),
        (3, "attr.ram_gb", "应为整数"),
        (4, "tag", "与第 3 行重复"),
        (4, "warranty_end", "保修截止日期早于购置日期"),
    ]
    assert zh_tw[0] == (2, "type", "未知的資產類型「toaster」") and zh_tw[-1] == (4, "warranty_end", "保修截止日期早於購置日期")
    assert en[0] == (2, "type", "unknown type 'toaster'") and en[5] == (4, "tag", "duplicate of row 3")


async def test_an_unreadable_file_is_a_422_on_the_file_field_in_chinese(api: httpx.AsyncClient) -> None:
    response = await api.post(f"{API}/register/import", files={"file": ("r.csv", b"\xff\xfe\x00bad", "text/csv")}, headers=ZH_CN)

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error" and body["message"] == "请求内容有误，请检查所列字段"
    assert body["detail"] == [{"loc": ["body", "file"], "msg": "CSV 文件须为 UTF-8 编码", "type": "value_error"}]


async def test_not_found_conflict_and_field_refusals_are_in_the_callers_language(api: httpx.AsyncClient) -> None:
    created = await api.post(f"{API}/assets", json={"type": "server", "location": {"building": "主樓"}, "status": "in_stock"})
    tag = created.json()["tag"]

    missing = await api.get(f"{API}/assets/GZ-NONE-1", headers=ZH_CN)
    step = await api.post(f"{API}/assets/{tag}/status", json={"status": "disposed"}, headers=ZH_TW)
    step_en = await api.post(f"{API}/assets/{tag}/status", json={"status": "disposed"}, headers=EN)
    wrong = await api.patch(f"{API}/assets/{tag}", json={"attributes": {"ram_gb": "lots", "colour": "red"}}, headers=ZH_CN)
    unknown_type = await api.post(f"{API}/assets", json={"type": "toaster", "location": {"building": "主樓"}}, headers=ZH_CN)
    no_audit = await api.get(f"{API}/audits/none", headers=ZH_CN)
    bad_cursor = await api.get(f"{API}/repairs", params={"cursor": "not-one"}, headers=ZH_CN)

    assert missing.status_code == 404 and missing.json()["detail"] == "没有标签为 GZ-NONE-1 的资产"
    assert missing.json()["message"] == "找不到该资源"
    assert step.status_code == 409
    assert step.json()["detail"] == {"msg": "資產不能從「在庫」改為「已處置」", "allowed": ["deployed", "in_repair", "on_loan", "retired"]}
    assert step_en.json()["detail"]["msg"] == "an asset cannot go from in_stock to disposed"
    assert wrong.status_code == 422
    assert {(tuple(d["loc"]), d["msg"]) for d in wrong.json()["detail"]} == {
        (("body", "attributes", "ram_gb"), "应为整数"), (("body", "attributes", "colour"), "类型 server 没有此属性"),
    }
    assert unknown_type.status_code == 422 and unknown_type.json()["detail"][0]["msg"].startswith("未知的资产类型「toaster」；已有：")
    assert no_audit.status_code == 404 and no_audit.json()["detail"] == "找不到盘点 none"
    assert bad_cursor.status_code == 422 and bad_cursor.json()["detail"][0]["loc"] == ["query", "cursor"]
    assert bad_cursor.json()["detail"][0]["msg"].startswith("游标不属于此列表：")


async def test_a_dependency_cycle_and_a_requester_are_refused_in_chinese(api: httpx.AsyncClient) -> None:
    a = (await api.post(f"{API}/assets", json={"type": "server", "location": {"building": "主樓"}})).json()["tag"]
    b = (await api.post(f"{API}/assets", json={"type": "application", "location": {"building": "主樓"}})).json()["tag"]
    assert (await api.post(f"{API}/relations", json={"source": b, "type": "runs_on", "target": a})).status_code == 201

    cycle = await api.post(f"{API}/relations", json={"source": a, "type": "depends_on", "target": b}, headers=ZH_CN)
    requester = await api.get(f"{API}/assets", headers={**ZH_CN, "X-Opsdesk-Role": "requester"})

    assert cycle.status_code == 409 and cycle.json()["detail"]["msg"] == f"「依赖」会形成依赖环：{a} -> {b} -> {a}"
    assert cycle.json()["detail"]["cycle"] == [a, b, a]
    assert requester.status_code == 403 and requester.json()["detail"] == "角色 requester 无权查看资产台账"


@pytest.mark.parametrize("code", sorted(TEXTS))
def test_every_text_has_three_languages_with_the_same_parameters(code: str) -> None:
    import string

    names = [{f for _, f, _, _ in string.Formatter().parse(t) if f} for t in TEXTS[code]]
    assert len(TEXTS[code]) == 3 and names[0] == names[1] == names[2], code
    assert all(t.strip() for t in TEXTS[code])

