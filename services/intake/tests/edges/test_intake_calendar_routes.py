"""The gateway's business-calendar routes: validate the question, forward it, map the answer."""

from __future__ import annotations

import httpx

from intake.wiring import Adapters

START = "2026-11-26T17:00:00+08:00"


async def test_deadline_is_forwarded_to_the_sla_monitor_and_its_answer_returned(
    client: httpx.AsyncClient, auth: dict[str, str], adapters: Adapters
) -> None:
    r = await client.get(
        "/api/v1/calendars/office-hours/deadline", params={"start": START, "business_minutes": 60}, headers=auth
    )
    assert r.status_code == 200
    assert r.json()["due_at"] == "2026-11-27T09:30:00+08:00"  # the site offset
    asked = adapters.calendars.asked  # type: ignore[union-attr]
    assert len(asked) == 1 and asked[0].business_minutes == 60 and asked[0].start.utcoffset().total_seconds() == 8 * 3600


async def test_unknown_calendar_is_404(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    r = await client.get("/api/v1/calendars/lunar/deadline", params={"start": START, "business_minutes": 5}, headers=auth)
    assert r.status_code == 404


async def test_bad_query_parameters_are_422_with_their_names(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    r = await client.get(
        "/api/v1/calendars/office-hours/deadline", params={"start": "yesterday", "business_minutes": -1}, headers=auth
    )
    assert r.status_code == 422
    locs = {tuple(d["loc"]) for d in r.json()["detail"]}
    assert ("query", "start") in locs and ("query", "business_minutes") in locs


async def test_start_without_offset_is_refused(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    r = await client.get(
        "/api/v1/calendars/office-hours/elapsed", params={"start": "2026-11-26T09:00:00", "end": START}, headers=auth
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "start"]


async def test_calendar_routes_need_a_token(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/calendars/office-hours/deadline", params={"start": START, "business_minutes": 5})
    assert r.status_code == 401
