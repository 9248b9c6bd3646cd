"""Label sheets, forms and register files are drawn off the event loop within a budget, and an upload over the row
cap is a 422: /healthz answers while a render runs (issue 12, finding 7)."""

from __future__ import annotations

import asyncio
import csv
import io
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from assets import labels, offloaded, register_io
from assets.adapters.memory import MemoryAssetRegister, MemoryOutbox, MemoryRepairStore
from assets.main import Adapters, create_app
from assets.settings import AssetsSettings
from opsdesk_shared.internal_auth_testing import InternalTokenAuth

API = "/api/v1"


@pytest.fixture
async def api() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(AssetsSettings(tag_prefix="HQ"),
                     adapters=Adapters(register=MemoryAssetRegister(), repairs=MemoryRepairStore(), outbox=MemoryOutbox()))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://assets.test",
                                     auth=InternalTokenAuth("assets")) as client:
            yield client


class SlowRender:
    """Stands in for a big label sheet: blocks its thread until released (or 5 s)."""

    def __init__(self) -> None:
        self.started, self.release, self.finished = threading.Event(), threading.Event(), threading.Event()

    def __call__(self, *_: Any, **__: Any) -> bytes:
        self.started.set()
        self.release.wait(5)
        self.finished.set()
        return b"%PDF-1.4 slow"


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowRender]:
    render = SlowRender()
    monkeypatch.setattr(labels, "label_sheet", render)
    yield render
    render.release.set()


async def new_asset(api: httpx.AsyncClient, **kw: Any) -> dict[str, Any]:
    body = {"type": "server", "location": {"building": "主樓"}, "department": "信息中心", "status": "in_stock", **kw}
    response = await api.post(f"{API}/assets", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_healthz_answers_while_a_label_sheet_is_drawn(api: httpx.AsyncClient, slow: SlowRender) -> None:
    tag = (await new_asset(api))["tag"]
    sheet = asyncio.create_task(api.post(f"{API}/labels", json={"tags": [tag]}))
    for _ in range(500):  # at most 5 s for the request to reach the renderer
        if slow.started.is_set() or sheet.done():
            break
        await asyncio.sleep(0.01)
    assert slow.started.is_set(), sheet.result().text if sheet.done() else "the render never started"

    began = time.perf_counter()
    health = await api.get("/healthz")

    assert health.status_code == 200 and time.perf_counter() - began < 1.0
    assert not slow.finished.is_set()
    slow.release.set()
    assert (await sheet).content == b"%PDF-1.4 slow"


async def test_a_label_sheet_over_budget_is_a_503_that_says_so(
    api: httpx.AsyncClient, slow: SlowRender, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(offloaded, "REQUEST_BUDGET_SECONDS", 0.2)
    tag = (await new_asset(api))["tag"]

    response = await api.post(f"{API}/labels", json={"tags": [tag]})

    assert response.status_code == 503 and "drawing 1 labels did not finish within 0.2 s" in response.json()["detail"]


async def test_an_upload_just_over_the_row_cap_is_a_422(api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(register_io, "MAX_ROWS", 50)
    rows = "".join(f"HQ-C-{i},server,主樓\n" for i in range(51))
    files = {"file": ("register.csv", ("tag,type,building\n" + rows).encode(), "text/csv")}

    response = await api.post(f"{API}/register/import", files=files)

    assert response.status_code == 422
    assert "more than 50 rows" in str(response.json()["detail"]) and "file" in str(response.json()["detail"])


async def test_an_asset_named_like_a_formula_is_exported_as_text(api: httpx.AsyncClient) -> None:
    await new_asset(api, name="=HYPERLINK(\"http://x.test\",\"open\")", owner="@SUM(A1)")

    exported = await api.get(f"{API}/register/export", params={"format": "csv"})
    (row,) = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"), newline="")))

    assert row["name"] == "'=HYPERLINK(\"http://x.test\",\"open\")" and row["owner"] == "'@SUM(A1)"
