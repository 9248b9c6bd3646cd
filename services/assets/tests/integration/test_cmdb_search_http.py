"""Finding configuration items and listing audits through the HTTP edge, on the memory stores and on the real
database (FerretDB locally, MongoDB 7 where Docker is): the same test body on both, as the stores must agree."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from assets.adapters.memory import MemoryAssetRegister, MemoryOutbox, MemoryRepairStore
from assets.adapters.mongo import MongoAssetRegister, MongoDocs, MongoRepairStore
from assets.domain import Asset, Location
from assets.main import Adapters, create_app
from assets.search import SEARCH_FIELD, VERSION_FIELD
from assets.settings import AssetsSettings
from opsdesk_shared.internal_auth_testing import InternalTokenAuth

pytestmark = pytest.mark.integration
API = "/api/v1"
STAFF = {"X-Opsdesk-User": "eng-1", "X-Opsdesk-Role": "engineer"}

ITEMS = [
    Asset(tag="GZ-S-0001", type="laptop", name="財務科 手提電腦", model="Lenovo ThinkPad T14", serial="PF3XYZ12",
          location=Location(building="主樓", floor="4", room="402"), owner="李華", department="財務科"),
    Asset(tag="GZ-S-0002", type="printer", name="三樓印表機", model="HP LaserJet M404", serial="VNB3K01234",
          location=Location(building="主楼", floor="3", room="305"), owner="王芳", department="人事科"),
    Asset(tag="GZ-S-0003", type="desktop", name="收发室台式机", model="Dell OptiPlex 7090", serial="CN0ABC77",
          location=Location(building="附楼", floor="1", room="101"), owner="张伟", department="财务科", status="in_stock"),
    *(Asset(tag=f"GZ-P-{n:04d}", type="desktop", name=f"办公电脑 {n}", model="Dell OptiPlex 3080", serial=f"SN{n:05d}",
            location=Location(building="附楼", floor="2"), department="档案室") for n in range(1, 8)),
]


@pytest.fixture
async def mongo_wired(mongo_db: Any) -> Adapters:
    register = MongoAssetRegister(mongo_db)
    await register.docs.create_many([(a.tag, {**a.model_dump(mode="json", exclude={"tag"})}) for a in ITEMS])  # as stored before
    fixed = await register.ensure_search_keys()  # what start-up does for items stored before the search keys
    assert fixed == len(ITEMS)
    assert await register.ensure_search_keys() == 0
    return Adapters(register=register, repairs=MongoRepairStore(mongo_db), outbox=MemoryOutbox(), audits=MongoDocs(mongo_db["audits"]))


@pytest.fixture(params=["memory", "mongo"])
def wired(request: pytest.FixtureRequest) -> Adapters:
    # A plain fixture: only it may pull the async Mongo fixture in lazily, so the memory case starts no server.
    if request.param == "memory":
        return Adapters(register=MemoryAssetRegister(ITEMS), repairs=MemoryRepairStore(), outbox=MemoryOutbox())
    return request.getfixturevalue("mongo_wired")  # type: ignore[no-any-return]


@pytest.fixture
async def api(wired: Adapters) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(AssetsSettings(), adapters=wired)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://assets.test", headers=STAFF,
                                     auth=InternalTokenAuth("assets")) as client:
            yield client


async def tags_for(api: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await api.get(f"{API}/assets", params=params)
    assert response.status_code == 200, response.text
    return [a["tag"] for a in response.json()]


async def test_search_finds_by_tag_serial_model_owner_and_location_in_either_script(api: httpx.AsyncClient) -> None:
    assert await tags_for(api, q="gz-s-0002") == ["GZ-S-0002"]
    assert await tags_for(api, q="vnb3k") == ["GZ-S-0002"]
    assert await tags_for(api, q="ThinkPad t14") == ["GZ-S-0001"]
    assert await tags_for(api, q="王芳") == ["GZ-S-0002"]
    assert await tags_for(api, q="402") == ["GZ-S-0001"]
    # Traditional and simplified are one: 財務科 finds 财务科 and the other way round, 主樓 is 主楼.
    assert await tags_for(api, q="财务科") == ["GZ-S-0001", "GZ-S-0003"]
    assert await tags_for(api, q="財務科 台式機") == ["GZ-S-0003"]
    assert await tags_for(api, q="主楼") == ["GZ-S-0001", "GZ-S-0002"]
    # Taiwan's word is the mainland's: 印表機 is 打印机.
    assert await tags_for(api, q="打印机") == ["GZ-S-0002"]
    assert await tags_for(api, q="no-such-thing") == []


async def test_search_words_combine_with_the_filters_and_regex_characters_are_plain_text(api: httpx.AsyncClient) -> None:
    assert await tags_for(api, q="财务科", status="in_stock") == ["GZ-S-0003"]
    assert await tags_for(api, q="dell", type="desktop", department="檔案室") == [f"GZ-P-{n:04d}" for n in range(1, 8)]
    assert await tags_for(api, building="主樓") == ["GZ-S-0001", "GZ-S-0002"]
    assert await tags_for(api, q=".*") == []
    assert await tags_for(api, q="(") == []


async def test_search_pages_by_offset_and_after_a_tag(api: httpx.AsyncClient) -> None:
    first = await tags_for(api, q="optiplex 3080", limit=3)
    second = await tags_for(api, q="optiplex 3080", limit=3, after=first[-1])
    by_offset = await tags_for(api, q="optiplex 3080", limit=3, offset=3)
    rest = await tags_for(api, q="optiplex 3080", limit=10, after=second[-1])

    assert first == ["GZ-P-0001", "GZ-P-0002", "GZ-P-0003"]
    assert second == by_offset == ["GZ-P-0004", "GZ-P-0005", "GZ-P-0006"]
    assert rest == ["GZ-P-0007"]
    too_long = await api.get(f"{API}/assets", params={"q": "x" * 201}, headers={"Accept-Language": "zh-CN"})
    assert too_long.status_code == 422 and too_long.json()["detail"][0]["loc"] == ["query", "q"]
    assert "200" in too_long.json()["detail"][0]["msg"]


async def test_an_item_changed_through_the_api_is_found_by_its_new_words(api: httpx.AsyncClient) -> None:
    moved = await api.patch(f"{API}/assets/GZ-S-0003", json={"owner": "陳大文", "location": {"building": "新大樓", "room": "909"}})
    assert moved.status_code == 200, moved.text

    assert await tags_for(api, q="陈大文") == ["GZ-S-0003"]
    assert await tags_for(api, q="新大楼 909") == ["GZ-S-0003"]
    assert await tags_for(api, q="张伟") == []
    created = await api.post(f"{API}/assets", json={"type": "network_device", "name": "核心交換機", "location": {"building": "機房"}})
    assert created.status_code == 201, created.text
    assert await tags_for(api, q="核心交换机") == [created.json()["tag"]]


async def test_audits_are_listed_newest_first_with_state_and_date_filters(api: httpx.AsyncClient, wired: Adapters) -> None:
    ids = []
    for name, building in (("主楼盘点", "主楼"), ("附楼盘点", "附楼")):
        opened = await api.post(f"{API}/audits", json={"name": name, "scope": {"building": building}})
        assert opened.status_code == 201, opened.text
        ids.append(opened.json()["id"])
    scanned = await api.post(f"{API}/audits/{ids[0]}/scans", json={"tag": "GZ-S-0001", "location": {"building": "主樓", "floor": "4", "room": "402"}})
    assert scanned.status_code == 200, scanned.text
    closed = await api.post(f"{API}/audits/{ids[0]}/close")
    assert closed.status_code == 200, closed.text

    listed = (await api.get(f"{API}/audits")).json()
    open_only = (await api.get(f"{API}/audits", params={"status": "open"})).json()
    closed_only = (await api.get(f"{API}/audits", params={"status": "closed"})).json()
    today = (await api.get(f"{API}/audits", params={"opened_from": "2020-01-01", "opened_to": "2099-12-31"})).json()
    long_ago = (await api.get(f"{API}/audits", params={"opened_to": "2020-01-01"})).json()
    paged = (await api.get(f"{API}/audits", params={"limit": 1, "offset": 1})).json()

    assert listed["total"] == 2 and {a["id"] for a in listed["items"]} == set(ids)
    first_closed = next(a for a in listed["items"] if a["id"] == ids[0])
    assert first_closed["status"] == "closed" and first_closed["name"] == "主楼盘点"
    assert (first_closed["expected"], first_closed["seen"], first_closed["discrepancies"]) == (2, 1, 1)
    assert first_closed["scope"] == {"building": "主楼"} and first_closed["opened_by"] == "eng-1"
    assert [a["id"] for a in open_only["items"]] == [ids[1]] and open_only["total"] == 1
    assert [a["id"] for a in closed_only["items"]] == [ids[0]]
    assert today["total"] == 2 and long_ago == {"items": [], "total": 0}
    assert paged["total"] == 2 and len(paged["items"]) == 1
    assert [a["opened_at"] for a in listed["items"]] == sorted((a["opened_at"] for a in listed["items"]), reverse=True)
    backwards = await api.get(f"{API}/audits", params={"opened_from": "2026-05-02", "opened_to": "2026-05-01"},
                              headers={"Accept-Language": "zh-CN"})
    assert backwards.status_code == 422
    assert backwards.json()["detail"] == [{"loc": ["query", "opened_to"], "msg": "结束日期 2026-05-01 早于开始日期 2026-05-02",
                                           "type": "value_error"}]
    # Scan-by-tag on a listed audit still answers as before.
    again = await api.post(f"{API}/audits/{ids[1]}/scans", json={"tag": "GZ-S-0003", "location": {"building": "附楼"}})
    assert again.status_code == 200 and again.json()["known"] is True


async def test_impact_names_each_item_beside_its_tag(api: httpx.AsyncClient) -> None:
    related = await api.post(f"{API}/relations", json={"source": "GZ-S-0001", "type": "depends_on", "target": "GZ-S-0003"})
    assert related.status_code == 201, related.text

    impact = (await api.get(f"{API}/impact/GZ-S-0003")).json()

    assert impact["root_name"] == "收发室台式机"
    assert [(h["tag"], h["name"]) for h in impact["items"]] == [("GZ-S-0001", "財務科 手提電腦")]


async def test_stored_search_keys_are_folded_and_beside_the_item(wired: Adapters) -> None:
    register: Any = wired.register
    doc = await register.assets.get("GZ-S-0001")
    assert "财务科" in doc[SEARCH_FIELD] and "thinkpad t14" in doc[SEARCH_FIELD] and doc[VERSION_FIELD] == 1
    assert (await register.get("GZ-S-0001")).owner == "李華"  # the keys never leak into the item
    assert await register.names(["GZ-S-0002", "GZ-NONE"]) == {"GZ-S-0002": "三樓印表機"}



async def test_later_starts_skip_the_scan_for_stale_search_keys_until_the_recipe_changes(
    mongo_db: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The scan for items without this recipe's keys read every item at every start (11-15 s at 50,000 on FerretDB);
    a mark written after a whole pass lets later starts skip it, and a new recipe scans again."""
    from assets.adapters import mongo as adapter

    register = MongoAssetRegister(mongo_db)
    await register.docs.create_many([(a.tag, {**a.model_dump(mode="json", exclude={"tag"})}) for a in ITEMS])
    assert await register.ensure_search_keys() == len(ITEMS)
    mark = await mongo_db["meta"].find_one({"_id": adapter.SEARCH_KEYS_MARK})
    assert mark is not None and mark["version"] == adapter.SEARCH_VERSION

    scans: list[Any] = []
    real_find = type(register.collection).find

    def counting_find(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self.name == register.collection.name:  # the items (the mark's own read is in `meta`)
            scans.append(args[:1])
        return real_find(self, *args, **kwargs)

    monkeypatch.setattr(type(register.collection), "find", counting_find)
    assert await register.ensure_search_keys() == 0 and scans == []  # the mark: no item read
    monkeypatch.setattr(adapter, "SEARCH_VERSION", "next-recipe")
    assert await register.ensure_search_keys() == len(ITEMS)  # a new recipe: every item again
    assert scans[0] == ({VERSION_FIELD: {"$ne": "next-recipe"}},)
