"""Issue 13 at the assets edge: the tag counter skips taken tags, spare issues name a known ticket and can be
reversed, repairs and spare stock are listed, and a loaner lent for a repair appears on it and on its form."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from assets import service_ops
from assets.adapters.memory import MemoryAssetRegister, MemoryOutbox, MemoryRepairStore
from assets.domain import Asset, Location
from assets.main import Adapters, create_app
from assets.settings import AssetsSettings
from opsdesk_shared.contracts import TicketCreatedV1, subjects
from opsdesk_shared.contracts.tickets import Requester
from opsdesk_shared.internal_auth_testing import InternalTokenAuth

YEAR = datetime.now(UTC).year


def _asset(tag: str, *, status: str = "deployed") -> Asset:
    return Asset(tag=tag, type="laptop", model="ThinkPad T14", location=Location(building="主楼", floor="4"),
                 department="人事科", vendor="联想", status=status)  # type: ignore[arg-type]


@pytest.fixture
def seeded() -> Adapters:
    taken = [_asset(f"GZ-{YEAR}-{n:06d}") for n in (1, 2, 3, 5)]
    return Adapters(register=MemoryAssetRegister([*taken, _asset("LOAN-1", status="in_stock")]),
                    repairs=MemoryRepairStore(), outbox=MemoryOutbox())


@pytest.fixture
async def api(seeded: Adapters) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(AssetsSettings(), adapters=seeded)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://assets.test",
                                     auth=InternalTokenAuth("assets")) as client:
            yield client


def _new_asset() -> dict[str, Any]:
    return {"type": "laptop", "location": {"building": "主楼"}}


# --- item 8: the tag counter -----------------------------------------------------------------------------------


async def test_allocated_tags_skip_the_seeded_ones(api: httpx.AsyncClient) -> None:
    tags = []
    for _ in range(3):
        response = await api.post("/api/v1/assets", json=_new_asset())
        assert response.status_code == 201, response.text
        tags.append(response.json()["tag"])

    assert tags == [f"GZ-{YEAR}-000004", f"GZ-{YEAR}-000006", f"GZ-{YEAR}-000007"]


async def test_a_taken_given_tag_is_409_naming_the_tag_never_none(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/v1/assets", json={**_new_asset(), "tag": f"GZ-{YEAR}-000001"})

    assert response.status_code == 409
    assert f"GZ-{YEAR}-000001" in response.text and "None" not in response.text


# --- item 9: spare issues against known tickets, reversible ----------------------------------------------------


async def _ticket(adapters: Adapters, ticket_id: str, number: str) -> None:
    event = TicketCreatedV1(
        ticket_id=ticket_id, number=number, title="打印机卡纸", description="三楼打印机卡纸", channel="hotline",
        service_code="RS-ONSITE", requester=Requester(name="王小明"), reported_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
    )
    assert await service_ops.on_ticket_event(event, links=adapters.links)


async def _stock(api: httpx.AsyncClient, received: int = 5) -> None:
    response = await api.post("/api/v1/spares", json={"part_type": "toner", "site": "主楼", "received": received, "minimum": 2})
    assert response.status_code == 200, response.text


async def test_issue_against_an_unknown_ticket_is_422_and_the_stock_stays(api: httpx.AsyncClient) -> None:
    await _stock(api)

    response = await api.post("/api/v1/spares/issues", json={"part_type": "toner", "site": "主楼", "quantity": 2,
                                                              "ticket_id": "no-such-ticket"})

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "ticket_id"] and "no-such-ticket" in error["msg"]
    assert (await api.get("/api/v1/spares/toner/主楼")).json()["on_hand"] == 5


async def test_issue_by_ticket_number_then_reverse_restores_the_stock_and_is_announced(
    api: httpx.AsyncClient, seeded: Adapters
) -> None:
    await _stock(api)
    await _ticket(seeded, "t-spare-1", "INC-2026-000041")

    issued = await api.post("/api/v1/spares/issues", json={"part_type": "toner", "site": "主楼", "quantity": 2,
                                                            "ticket_id": "INC-2026-000041"})
    assert issued.status_code == 201, issued.text
    issue = issued.json()["issue"]
    assert issue["ticket_id"] == "t-spare-1"  # the number is resolved to the ticket's id
    assert issued.json()["stock"]["on_hand"] == 3

    reversed_ = await api.post(f"/api/v1/spares/issues/{issue['issue_id']}/reverse")
    assert reversed_.status_code == 200, reversed_.text
    assert reversed_.json()["stock"]["on_hand"] == 5
    again = await api.post(f"/api/v1/spares/issues/{issue['issue_id']}/reverse")
    assert again.status_code == 409
    assert (await api.post("/api/v1/spares/issues/nope/reverse")).status_code == 404
    published = [e.type for e in seeded.spares.outbox.published]  # type: ignore[attr-defined]
    assert published == [subjects.CMDB_SPARE_ISSUED, subjects.CMDB_SPARE_ISSUE_REVERSED]
    stock = (await api.get("/api/v1/spares/toner/主楼")).json()
    assert sum(stock["issued_by_month"].values()) == 0  # a reversed issue is no consumption


# --- item 7: lists ---------------------------------------------------------------------------------------------


async def test_repairs_are_listed_with_filters_and_cursor_pages(api: httpx.AsyncClient) -> None:
    ids = []
    for n, vendor in ((1, "联想"), (2, "惠普"), (3, "联想")):
        response = await api.post("/api/v1/repairs", json={"asset_tag": f"GZ-{YEAR}-{n:06d}", "vendor": vendor})
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    await api.patch(f"/api/v1/repairs/{ids[0]}", json={"status": "sent_to_vendor"})

    first = (await api.get("/api/v1/repairs", params={"limit": 2})).json()
    second = (await api.get("/api/v1/repairs", params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert len(first["items"]) == 2 and len(second["items"]) == 1 and second["next_cursor"] is None
    assert {r["id"] for r in first["items"] + second["items"]} == set(ids)
    lenovo = (await api.get("/api/v1/repairs", params={"vendor": "联想"})).json()["items"]
    assert {r["id"] for r in lenovo} == {ids[0], ids[2]}
    away = (await api.get("/api/v1/repairs", params={"status": "sent_to_vendor"})).json()["items"]
    assert [r["id"] for r in away] == [ids[0]]
    assert (await api.get("/api/v1/repairs", params={"cursor": "garbage"})).status_code == 422


async def test_overdue_repairs_are_those_the_sla_monitor_announced(api: httpx.AsyncClient, seeded: Adapters) -> None:
    from opsdesk_shared.contracts import SlaBreachedV1

    opened = (await api.post("/api/v1/repairs", json={"asset_tag": f"GZ-{YEAR}-000002", "vendor": "惠普"})).json()
    other = (await api.post("/api/v1/repairs", json={"asset_tag": f"GZ-{YEAR}-000003"})).json()
    at = datetime.now(UTC)
    breach = SlaBreachedV1(ticket_id="", timer="repair_return", started_at=at, due_at=at, breached_at=at,
                           repair_id=opened["id"])
    assert await service_ops.on_repair_breached(breach, clocks=seeded.repair_clocks)

    overdue = (await api.get("/api/v1/repairs", params={"overdue": "true"})).json()["items"]
    on_time = (await api.get("/api/v1/repairs", params={"overdue": "false"})).json()["items"]
    assert [r["id"] for r in overdue] == [opened["id"]] and overdue[0]["overdue"] is True
    assert [r["id"] for r in on_time] == [other["id"]]


async def test_spare_stock_is_listed_with_a_low_stock_filter(api: httpx.AsyncClient) -> None:
    await _stock(api, received=1)
    assert (await api.post("/api/v1/spares", json={"part_type": "fuser", "site": "主楼", "received": 9,
                                                   "minimum": 1})).status_code == 200

    everything = (await api.get("/api/v1/spares", params={"limit": 1})).json()
    rest = (await api.get("/api/v1/spares", params={"limit": 1, "cursor": everything["next_cursor"]})).json()
    low = (await api.get("/api/v1/spares", params={"low_stock": "true"})).json()
    assert [s["part_type"] for s in everything["items"] + rest["items"]] == ["fuser", "toner"]
    assert rest["next_cursor"] is None
    assert [(s["part_type"], s["available"], s["minimum"]) for s in low["items"]] == [("toner", 1, 2)]


# --- item 16: loaners on repairs, one send-out form ------------------------------------------------------------


async def test_a_loaner_lent_for_a_repair_appears_on_it(api: httpx.AsyncClient) -> None:
    repair = (await api.post("/api/v1/repairs", json={"asset_tag": f"GZ-{YEAR}-000001"})).json()

    lent = await api.post("/api/v1/loaners", json={"loaner_tag": "LOAN-1", "borrower": "李华", "repair_id": repair["id"]})
    assert lent.status_code == 201, lent.text

    assert (await api.get(f"/api/v1/repairs/{repair['id']}")).json()["loaner_tag"] == "LOAN-1"


async def test_a_loan_for_an_unknown_repair_is_422_and_lends_nothing(api: httpx.AsyncClient, seeded: Adapters) -> None:
    response = await api.post("/api/v1/loaners", json={"loaner_tag": "LOAN-1", "borrower": "李华", "repair_id": "nope"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "repair_id"]
    assert (await seeded.register.get("LOAN-1")).status == "in_stock"  # type: ignore[union-attr]


# --- intake learns every tag: registration, import and the demo seed are announced -----------------------------


async def test_an_import_announces_every_tag_in_parts(seeded: Adapters, monkeypatch: pytest.MonkeyPatch) -> None:
    from assets.service import Ctx
    from opsdesk_shared.contracts.cmdb import RegisterImportedV1

    monkeypatch.setattr(service_ops, "IMPORT_TAGS_PER_EVENT", 2)
    rows = "".join(f"IMP-{n},laptop,T14,主楼,4,402\n" for n in range(3)) + ",laptop,T14,主楼,4,402\n"
    content = ("tag,type,model,building,floor,room\n" + rows).encode()

    report = await service_ops.import_register(
        content, file_name="r.csv", dry_run=False, register=seeded.register, types=seeded.types, imports=seeded.imports,
        graph=None, ctx=Ctx(by="importer", now=datetime.now(UTC), correlation_id="c"), tag_pattern=seeded.tag_pattern,
        tag_prefix="GZ",
    )

    assert report.written == 4
    events = [RegisterImportedV1.model_validate(e.data) for e in seeded.imports.outbox.published]  # type: ignore[attr-defined]
    assert [(e.part, e.parts) for e in events] == [(1, 2), (2, 2)]
    assert sorted(t for e in events for t in e.tags) == sorted(["IMP-0", "IMP-1", "IMP-2", f"GZ-{YEAR}-000004"])


async def test_the_demo_seed_announces_its_items() -> None:
    from assets.domain import DEMO_REGISTER

    register = MemoryAssetRegister()
    await register.seed(DEMO_REGISTER)
    await register.seed(DEMO_REGISTER)  # a restart announces nothing twice

    announced = [e.subject_id for e in register.outbox.published]
    assert announced == [a.tag for a in DEMO_REGISTER]
    assert {e.type for e in register.outbox.published} == {subjects.CMDB_CI_CHANGED}


async def test_the_send_out_form_is_simplified_chinese_with_the_loaner_line_filled(api: httpx.AsyncClient) -> None:
    import io

    from pypdf import PdfReader

    repair = (await api.post("/api/v1/repairs", json={"asset_tag": f"GZ-{YEAR}-000005", "vendor": "联想服务站",
                                                       "fault": "开机黑屏"})).json()
    await api.patch(f"/api/v1/repairs/{repair['id']}", json={"status": "sent_to_vendor"})
    await api.post("/api/v1/loaners", json={"loaner_tag": "LOAN-1", "borrower": "李华", "repair_id": repair["id"]})

    response = await api.get(f"/api/v1/repairs/{repair['id']}/send-out-form")

    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "设备送修单" in text and "LOAN-1" in text and "已送修" in text and "笔记本" in text
    assert "sent_to_vendor" not in text and "Repair send-out form" not in text and "設備" not in text
