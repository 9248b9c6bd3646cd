"""Local time out and in, and the one error shape in three languages, on an app built by build_service_app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import APIRouter, HTTPException, Query
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from opsdesk_shared import localtime
from opsdesk_shared.app import build_service_app
from opsdesk_shared.errors import field_message, language_of
from opsdesk_shared.internal_auth_testing import InternalTokenAuth
from opsdesk_shared.localtime import AwareDatetime, LocalDateFrom, LocalDateTo, localize_json
from opsdesk_shared.settings import ServiceSettings

SHANGHAI = ZoneInfo("Asia/Shanghai")


# --- out ------------------------------------------------------------------------------------------------------------


def test_instants_in_json_are_shown_with_the_site_offset() -> None:
    body = b'{"at": "2026-11-30T07:00:00Z", "list": ["2026-11-30T07:00:00.250000+00:00", 3], "n": {"x":"2026-11-30T16:30:00-05:00"}}'

    assert localize_json(body) == (
        b'{"at": "2026-11-30T15:00:00+08:00", "list": ["2026-11-30T15:00:00.250000+08:00", 3], "n": {"x":"2026-12-01T05:30:00+08:00"}}'
    )


def test_text_that_merely_contains_a_time_and_dates_stay_as_they_are() -> None:
    body = b'{"title": "down since 2026-11-30T07:00:00Z", "quoted": "\\"2026-11-30T07:00:00Z\\"", "day": "2026-11-30", "naive": "2026-11-30T07:00:00"}'

    assert localize_json(body) == body


def test_the_zone_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSDESK_TIMEZONE", "Europe/Berlin")
    assert ServiceSettings(service_name="dispatch").timezone == "Europe/Berlin"
    monkeypatch.setenv("OPSDESK_TIMEZONE", "Mars/Olympus_Mons")
    with pytest.raises(ValidationError, match="unknown time zone"):
        ServiceSettings(service_name="dispatch")
    monkeypatch.delenv("OPSDESK_TIMEZONE")
    assert ServiceSettings(service_name="dispatch").timezone == "Asia/Shanghai"


def test_another_configured_zone_moves_the_offset() -> None:
    try:
        localtime.configure("Europe/Berlin")
        assert localize_json(b'["2026-11-30T07:00:00Z"]') == b'["2026-11-30T08:00:00+01:00"]'
    finally:
        localtime.configure("Asia/Shanghai")


# --- in -------------------------------------------------------------------------------------------------------------


def test_a_date_only_from_is_local_midnight_and_to_takes_the_whole_local_day() -> None:
    start = TypeAdapter(LocalDateFrom).validate_python("2026-11-30")
    end = TypeAdapter(LocalDateTo).validate_python("2026-11-30")

    assert start == datetime(2026, 11, 30, tzinfo=SHANGHAI) == datetime(2026, 11, 29, 16, tzinfo=UTC)
    # An exclusive bound: 23:59:59.999 local on the 30th is in, 00:00 local on the 1st is out.
    assert end == datetime(2026, 12, 1, tzinfo=SHANGHAI)
    assert datetime(2026, 11, 30, 23, 59, 59, 999000, tzinfo=SHANGHAI) < end
    assert end - start == timedelta(days=1)


def test_date_filters_still_take_instants_with_an_offset() -> None:
    assert TypeAdapter(LocalDateTo).validate_python("2026-11-30T15:00:00+08:00") == datetime(2026, 11, 30, 7, tzinfo=UTC)


@pytest.mark.parametrize("kind", [AwareDatetime, LocalDateFrom, LocalDateTo])
@pytest.mark.parametrize("value", ["2026-11-30 15:00", "2026-11-30T15:00:00"])
def test_a_time_without_an_offset_is_refused(kind: object, value: str) -> None:
    with pytest.raises(ValidationError) as refused:
        TypeAdapter(kind).validate_python(value)
    assert refused.value.errors()[0]["type"] == "timezone_aware"


# --- the shape, through an app every service builds the same way ----------------------------------------------------


class VisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    eta: AwareDatetime
    mode: Literal["onsite", "remote"] = "onsite"
    note: str = Field(default="", max_length=5)
    count: int = Field(default=1, ge=1)
    code: str = "ok"

    @field_validator("code")
    @classmethod
    def _known(cls, value: str) -> str:
        if value != "ok":
            raise ValueError(f"code {value} is not in the catalog")
        return value


class VisitOut(BaseModel):
    eta: datetime
    created_at: datetime


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    router = APIRouter(prefix="/api/v1")

    @router.post("/visits", response_model=VisitOut)
    async def visit(body: VisitIn) -> VisitOut:
        return VisitOut(eta=body.eta, created_at=datetime(2026, 11, 30, 7, tzinfo=UTC))

    @router.get("/visits")
    async def visits(since: Annotated[LocalDateFrom, Query()]) -> dict[str, object]:
        return {"since": since, "raw": since.astimezone(UTC)}

    @router.get("/visits/{visit_id}")
    async def one(visit_id: str) -> dict[str, str]:
        raise HTTPException(404, f"visit {visit_id} not found")

    app = build_service_app(ServiceSettings(service_name="dispatch"), title="t", description="d", registry=CollectorRegistry(),
                            routers=[router], wire=None, adapters=object())  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc.test",
                                     auth=InternalTokenAuth("dispatch")) as c:
            yield c


async def test_response_models_and_plain_dicts_render_times_with_the_site_offset(client: httpx.AsyncClient) -> None:
    made = await client.post("/api/v1/visits", json={"eta": "2026-11-30T15:00:00+08:00"})
    listed = await client.get("/api/v1/visits", params={"since": "2026-11-30"})

    assert made.status_code == 200, made.text
    assert made.json() == {"eta": "2026-11-30T15:00:00+08:00", "created_at": "2026-11-30T15:00:00+08:00"}
    assert int(made.headers["content-length"]) == len(made.content)
    assert listed.json() == {"since": "2026-11-30T00:00:00+08:00", "raw": "2026-11-30T00:00:00+08:00"}


async def test_a_naive_eta_is_a_422_naming_the_field_in_each_language(client: httpx.AsyncClient) -> None:
    answers = {
        lang: (await client.post("/api/v1/visits", json={"eta": "2026-11-30 15:00"}, headers={"Accept-Language": lang})).json()
        for lang in ("zh-CN", "zh-TW", "en")
    }

    for body in answers.values():
        assert set(body) == {"code", "message", "detail"} and body["code"] == "validation_error"
        assert body["detail"][0]["loc"] == ["body", "eta"] and body["detail"][0]["type"] == "timezone_aware"
    assert answers["zh-CN"]["message"] == "请求内容有误，请检查所列字段"
    assert answers["zh-CN"]["detail"][0]["msg"] == "时间须带时区偏移（如 2026-11-30T15:00:00+08:00）"
    assert answers["zh-TW"]["detail"][0]["msg"] == "時間須帶時區偏移（如 2026-11-30T15:00:00+08:00）"
    assert answers["en"]["detail"][0]["msg"] == "Input should have timezone info"


async def test_each_field_carries_its_real_reason_translated(client: httpx.AsyncClient) -> None:
    body = {"eta": "2026-11-30T15:00:00+08:00", "mode": "boat", "note": "too long", "count": 0, "code": "RS-X"}
    zh = (await client.post("/api/v1/visits", json=body, headers={"Accept-Language": "zh-CN,en;q=0.5"})).json()
    tw = (await client.post("/api/v1/visits", json=body, headers={"Accept-Language": "zh-TW"})).json()
    en = (await client.post("/api/v1/visits", json=body, headers={"Accept-Language": "en-GB"})).json()

    by_field = {item["loc"][-1]: item["msg"] for item in zh["detail"]}
    assert by_field == {
        "mode": "取值应为 'onsite'、'remote' 之一", "note": "最多 5 个字符", "count": "应不小于 1", "code": "code RS-X is not in the catalog",
    }
    assert {item["loc"][-1]: item["msg"] for item in tw["detail"]}["note"] == "最多 5 個字元"
    assert {item["loc"][-1]: item["msg"] for item in en["detail"]} == {
        "mode": "Input should be 'onsite' or 'remote'", "note": "String should have at most 5 characters",
        "count": "Input should be greater than or equal to 1", "code": "code RS-X is not in the catalog",
    }
    assert all(set(item) == {"loc", "msg", "type"} for item in zh["detail"])  # no undocumented side fields


async def test_missing_and_unknown_things_come_in_the_shape(client: httpx.AsyncClient) -> None:
    missing = await client.post("/api/v1/visits", json={}, headers={"Accept-Language": "zh-CN"})
    unknown = await client.get("/api/v1/visits/v-1", headers={"Accept-Language": "zh-TW"})
    no_route = await client.get("/api/v1/nothing-here")

    assert missing.json()["detail"] == [{"loc": ["body", "eta"], "msg": "缺少必填字段", "type": "missing"}]
    assert unknown.status_code == 404 and unknown.headers["content-language"] == "zh-TW"
    assert unknown.json() == {"code": "not_found", "message": "找不到該資源", "detail": "visit v-1 not found"}
    assert no_route.status_code == 404 and no_route.json()["code"] == "not_found"


async def test_a_naive_query_instant_is_a_422_naming_the_parameter(client: httpx.AsyncClient) -> None:
    refused = await client.get("/api/v1/visits", params={"since": "2026-11-30T15:00"})

    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["query", "since"]


def test_accept_language_picks_the_first_supported_by_weight() -> None:
    assert language_of("fr, zh-TW;q=0.4, zh-CN;q=0.9") == "zh-CN"
    assert language_of("zh-Hant") == "zh-TW"
    assert language_of("") == language_of("de") == "en"


def test_a_template_without_its_limit_keeps_the_english_reason() -> None:
    assert field_message({"type": "string_too_long", "msg": "String should have at most 5 characters"}, "zh-CN") == (
        "最多（String should have at most 5 characters）"
    )


def test_a_whole_float_limit_reads_as_a_person_writes_it() -> None:
    item = {"type": "greater_than", "msg": "Input should be greater than 0", "ctx": {"gt": 0.0}}
    assert field_message(item, "zh-CN") == "应大于 0" and field_message(item, "zh-TW") == "應大於 0"
    assert field_message({**item, "ctx": {"gt": 0.5}}, "zh-CN") == "应大于 0.5"
