"""Calendars over HTTP: deadline and elapsed answers, uploads of a year's schedule, calendar definitions."""

from __future__ import annotations

import httpx

from opsdesk_shared.contracts.calendars import DeadlineQuery, ElapsedQuery
from sla_monitor import calendar_service
from sla_monitor.main import Adapters


async def test_deadline_across_the_weekend_in_office_hours(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/api/v1/calendars/office-hours/deadline", params={"start": "2026-11-27T17:00:00+08:00", "business_minutes": 60}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["due_at"] == "2026-11-30T09:00:00+08:00"  # Monday 09:00 in Shanghai, shown with the site offset
    assert body["due_at_local"] == "2026-11-30T09:00:00+08:00"
    assert body["approximate"] is False


async def test_elapsed_counts_only_service_time(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/api/v1/calendars/office-hours/elapsed",
        params={"start": "2026-11-26T11:00:00+08:00", "end": "2026-11-26T15:00:00+08:00"},
    )
    assert r.status_code == 200
    assert r.json()["business_minutes"] == 120  # 11:00-12:00 and 14:00-15:00


async def test_a_year_without_holiday_data_is_flagged_approximate_and_counted(
    client: httpx.AsyncClient, scrape: dict[str, str]
) -> None:
    r = await client.get(
        "/api/v1/calendars/office-hours/deadline", params={"start": "2027-03-01T09:00:00+08:00", "business_minutes": 30}
    )
    assert r.status_code == 200 and r.json()["approximate"] is True
    metrics = (await client.get("/metrics", headers=scrape, auth=None)).text
    assert 'sla_approximate_results_total{calendar="office-hours",op="deadline"}' in metrics


async def test_uploading_a_year_makes_its_answers_exact_and_honours_its_holidays(
    client: httpx.AsyncClient, adapters: Adapters
) -> None:
    upload = {"year": 2027, "holidays": ["2027-01-01"], "workdays": ["2027-01-02"]}
    r = await client.put("/api/v1/holidays/2027", json=upload)
    assert r.status_code == 200, r.text
    # 2026-12-31 17:00 + 60 min: Friday 2027-01-01 is a holiday, Saturday 01-02 a make-up working day.
    reply = calendar_service.answer(
        DeadlineQuery(calendar="office-hours", start="2026-12-31T17:00:00+08:00", business_minutes=60), adapters.book.book
    )
    assert reply.result is not None
    assert reply.result["due_at_local"] == "2027-01-02T09:00:00+08:00"
    assert reply.result["approximate"] is False


async def test_a_years_schedule_reads_back_its_days_and_an_unknown_year_is_404(client: httpx.AsyncClient) -> None:
    upload = {"year": 2031, "holidays": ["2031-10-01", "2031-10-02"], "workdays": ["2031-09-27"]}
    assert (await client.put("/api/v1/holidays/2031", json=upload)).status_code == 200
    r = await client.get("/api/v1/holidays/2031")
    assert r.status_code == 200, r.text
    assert r.json() == {"year": 2031, "holidays": ["2031-10-01", "2031-10-02"], "workdays": ["2031-09-27"], "source": "upload"}
    assert (await client.get("/api/v1/holidays/1890")).status_code == 404


async def test_csv_upload_with_a_bad_row_is_422_naming_the_row(client: httpx.AsyncClient) -> None:
    csv = "date,kind\n2027-01-01,holiday\n2027-13-01,holiday\n"
    r = await client.put("/api/v1/holidays/2027", content=csv, headers={"content-type": "text/csv"})
    assert r.status_code == 422
    assert any("row" in d["loc"] for d in r.json()["detail"])


async def test_an_uploads_row_errors_are_said_in_the_callers_language(client: httpx.AsyncClient) -> None:
    """The administrator's console showed "row.2.date: '2028-13-01' is not a calendar date" to a Chinese reader."""
    csv = "date,kind\n2027-13-01,holiday\n2027-01-02,foo\n2027-01-04,workday\n"
    said = {}
    for lang in ("zh-CN", "zh-TW", "en"):
        r = await client.put("/api/v1/holidays/2027", content=csv, headers={"content-type": "text/csv", "accept-language": lang})
        assert r.status_code == 422
        said[lang] = {tuple(d["loc"]): d["msg"] for d in r.json()["detail"]}
    assert said["zh-CN"][("row", 2, "date")] == "'2027-13-01' 不是有效的日期"
    assert said["zh-CN"][("row", 3, "kind")] == "'foo' 不是 holiday（节假日）或 workday（调休上班）"
    assert said["zh-CN"][("row", 4, "date")] == "调休上班日 2027-01-04 是周一，不是周六或周日"
    assert said["zh-TW"][("row", 4, "date")] == "調休上班日 2027-01-04 是週一，不是週六或週日"
    assert said["en"][("row", 2, "date")] == "'2027-13-01' is not a calendar date"
    assert said["en"][("row", 4, "date")] == "make-up workday 2027-01-04 is a Monday, not a Saturday or a Sunday"
    other = await client.put("/api/v1/holidays/2028", json={"year": 2027, "holidays": [], "workdays": []}, headers={"accept-language": "zh-CN"})
    assert other.json()["detail"][0]["msg"] == "这份安排是 2027 年的，与所选年份 2028 不符"


async def test_upload_for_another_year_than_the_path_is_refused(client: httpx.AsyncClient) -> None:
    r = await client.put("/api/v1/holidays/2028", json={"year": 2027, "holidays": [], "workdays": []})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "year"]


async def test_unknown_calendar_is_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/calendars/lunar/elapsed", params={"start": "2026-11-26T09:00:00Z", "end": "2026-11-26T10:00:00Z"})
    assert r.status_code == 404


async def test_an_admin_defined_calendar_answers_like_the_built_ins(client: httpx.AsyncClient, adapters: Adapters) -> None:
    r = await client.put(
        "/api/v1/calendars/night-shift",
        json={"timezone": "Asia/Shanghai", "working_day_windows": ["20:00-24:00"], "non_working_day_windows": []},
    )
    assert r.status_code == 200, r.text
    reply = calendar_service.answer(
        ElapsedQuery(calendar="night-shift", start="2026-11-26T19:00:00+08:00", end="2026-11-26T21:00:00+08:00"),
        adapters.book.book,
    )
    assert reply.result is not None and reply.result["business_minutes"] == 60
    listed = (await client.get("/api/v1/calendars")).json()
    assert {"office-hours", "24x7", "phone-support", "night-shift"} <= {c["name"] for c in listed["calendars"]}
    assert listed["holiday_years"]["2026"].startswith("chinese-calendar")


async def test_a_calendar_definition_that_cannot_work_is_422(client: httpx.AsyncClient) -> None:
    r = await client.put("/api/v1/calendars/broken", json={"timezone": "Mars/Olympus", "working_day_windows": []})
    assert r.status_code == 422
