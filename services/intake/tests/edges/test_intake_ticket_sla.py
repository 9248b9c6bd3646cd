"""GET /api/v1/tickets/{id} shows the ticket's SLA timers, and still shows the ticket when the monitor is down."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from intake.adapters.memory import MemoryTimerDirectory
from intake.wiring import Adapters
from opsdesk_shared.contracts.calendars import TimerView


async def test_ticket_shows_its_timers(
    client: httpx.AsyncClient, auth: dict[str, str], adapters: Adapters, ticket_body: dict[str, Any]
) -> None:
    created = (await client.post("/api/v1/tickets", json=ticket_body, headers=auth)).json()
    due = datetime(2026, 11, 27, 1, 30, tzinfo=UTC)
    adapters.timers = MemoryTimerDirectory(
        {created["id"]: [TimerView(name="response", policy="response", state="running", due_at=due, calendar="office-hours")]}
    )
    shown = (await client.get(f"/api/v1/tickets/{created['id']}", headers=auth)).json()
    assert [(t["name"], t["state"], t["due_at"]) for t in shown["sla"]] == [("response", "running", "2026-11-27T09:30:00+08:00")]


async def test_ticket_is_shown_without_timers_when_the_monitor_does_not_answer(
    client: httpx.AsyncClient, auth: dict[str, str], adapters: Adapters, ticket_body: dict[str, Any]
) -> None:
    created = (await client.post("/api/v1/tickets", json=ticket_body, headers=auth)).json()
    adapters.timers = MemoryTimerDirectory(down=True)
    r = await client.get(f"/api/v1/tickets/{created['id']}", headers=auth)
    assert r.status_code == 200 and r.json()["sla"] is None and r.json()["id"] == created["id"]
