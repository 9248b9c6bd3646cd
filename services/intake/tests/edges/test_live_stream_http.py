"""GET /api/v1/events/stream on the intake app (memory adapters), driven as an ASGI server would: the response is
read frame by frame while the hub is fed, then the client disconnects. httpx's ASGI transport waits for a response
to end, which a stream never does, hence the small driver here."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from intake.domain import Ticket
from intake.live import build_hub
from intake.live.hub import Arrived, LiveHub
from intake.live.settings import LiveSettings
from intake.main import create_app
from intake.settings import IntakeSettings
from intake.wiring import Adapters
from opsdesk_shared.contracts import Envelope, Requester, TicketUpdatedV1
from opsdesk_shared.contracts.tickets import TicketCreatedV1

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


@dataclass
class Stream:
    """One open response: status, headers, and the body as it arrives."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    chunks: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    buffer: str = ""
    gone: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    async def frames(self, count: int, timeout: float = 5.0) -> list[dict[str, str]]:
        """The next `count` messages (comments and retry hints skipped), each as its field lines."""
        out: list[dict[str, str]] = []
        async with asyncio.timeout(timeout):
            while len(out) < count:
                while "\n\n" not in self.buffer:
                    self.buffer += (await self.chunks.get()).decode()
                block, self.buffer = self.buffer.split("\n\n", 1)
                fields = dict(line.split(": ", 1) for line in block.split("\n") if line and not line.startswith(":") and ": " in line)
                if "event" in fields:
                    out.append(fields)
        return out

    async def close(self) -> None:
        self.gone.set()
        if self.task is not None:
            await asyncio.wait_for(self.task, 5)


async def open_stream(app: FastAPI, headers: dict[str, str], path: str = "/api/v1/events/stream") -> Stream:
    stream = Stream()
    started = asyncio.Event()
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": path.split("?")[0], "raw_path": path.split("?")[0].encode(),
             "query_string": (path.split("?", 1)[1] if "?" in path else "").encode(), "headers": raw,
             "client": ("127.0.0.1", 5555), "server": ("intake.test", 80), "root_path": ""}
    sent_request = False

    async def receive() -> dict[str, Any]:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await stream.gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            stream.status = message["status"]
            stream.headers = {k.decode(): v.decode() for k, v in message.get("headers", [])}
            started.set()
        elif message["type"] == "http.response.body" and message.get("body"):
            await stream.chunks.put(message["body"])

    stream.task = asyncio.create_task(app(scope, receive, send))  # type: ignore[arg-type]
    await asyncio.wait_for(started.wait(), 5)
    return stream


@pytest.fixture
async def live_app(adapters: Adapters) -> AsyncIterator[tuple[FastAPI, LiveHub]]:
    app = create_app(IntakeSettings(environment="test"), adapters=adapters)
    hub = build_hub(adapters.store, LiveSettings(per_user=2, total=4, heartbeat_s=0.2, ring_size=64))
    hub.begin_at(100)
    async with app.router.lifespan_context(app):
        app.state.live = hub
        yield app, hub
        await hub.stop()


async def filed(adapters: Adapters, *, requester_id: str) -> Ticket:
    ticket = Ticket(
        id=str(uuid.uuid4()), number=f"INC-2026-{uuid.uuid4().int % 1_000_000:06d}", title="打印机卡纸", description="",
        requester=Requester(name="王小明", department="辦公室"), requester_id=requester_id, channel="web",
        service_code="RS-REPAIR", priority="P3", asset_tag=None, reported_at=NOW, created_at=NOW, status="new",
    )
    await adapters.store.add(ticket, [])
    return ticket


def announce(ticket: Ticket, seq: int, hub: LiveHub) -> Arrived:
    data = TicketCreatedV1(ticket_id=ticket.id, number=ticket.number, title=ticket.title, channel="web", service_code="RS-REPAIR",
                           requester=ticket.requester, requester_id=ticket.requester_id, reported_at=NOW)
    return Arrived(seq, Envelope.wrap(data, producer="intake", correlation_id="c", subject_id=ticket.id, occurred_at=NOW), 0.0)


async def test_a_stream_answers_sse_with_ready_then_the_callers_events(
    live_app: tuple[FastAPI, LiveHub], adapters: Adapters, as_user: Callable[[str], dict[str, str]]
) -> None:
    app, hub = live_app
    desk = await open_stream(app, as_user("agent1"))
    owner = await open_stream(app, as_user("req-office"))
    assert desk.status == 200 and desk.headers["content-type"].startswith("text/event-stream")
    assert desk.headers["cache-control"] == "no-store"
    assert (await desk.frames(1))[0] == {"id": "100", "event": "ready", "data": '{"id":"100","resumed":false}'}
    await owner.frames(1)
    mine, other = await filed(adapters, requester_id="req-office"), await filed(adapters, requester_id="req-finance")
    await hub.publish_batch([announce(other, 101, hub), announce(mine, 102, hub)])
    seen = await desk.frames(2)
    assert [(f["id"], f["event"]) for f in seen] == [("101", "ticket.created"), ("102", "ticket.created")]
    assert json.loads(seen[1]["data"])["number"] == mine.number
    only = await owner.frames(1)
    assert only[0]["id"] == "102"  # never the finance requester's ticket
    # A work note on the requester's own ticket goes to the desk and not to them.
    note = TicketUpdatedV1(ticket_id=mine.id, number=mine.number, changes={"work_note": {"old": None, "new": "n1"}}, by="agent1", updated_at=NOW)
    await hub.publish_batch([Arrived(103, Envelope.wrap(note, producer="intake", correlation_id="c", subject_id=mine.id), 0.0)])
    assert (await desk.frames(1))[0]["event"] == "ticket.noted"
    with pytest.raises(TimeoutError):
        await owner.frames(1, timeout=0.5)
    await desk.close()
    await owner.close()


async def test_a_reconnect_with_last_event_id_gets_what_it_missed_and_an_old_id_a_reload(
    live_app: tuple[FastAPI, LiveHub], adapters: Adapters, as_user: Callable[[str], dict[str, str]]
) -> None:
    app, hub = live_app
    tickets = [await filed(adapters, requester_id="req-office") for _ in range(3)]
    await hub.publish_batch([announce(t, 101 + i, hub) for i, t in enumerate(tickets)])
    back = await open_stream(app, {**as_user("agent1"), "Last-Event-ID": "101"})
    frames = await back.frames(3)
    assert frames[0]["event"] == "ready" and json.loads(frames[0]["data"])["resumed"] is True
    assert [f["id"] for f in frames[1:]] == ["102", "103"]
    await back.close()
    by_query = await open_stream(app, as_user("agent1"), "/api/v1/events/stream?after=102")
    assert [f["id"] for f in (await by_query.frames(2))[1:]] == ["103"]
    await by_query.close()
    stale = await open_stream(app, {**as_user("agent1"), "Last-Event-ID": "12"})
    reload = (await stale.frames(1))[0]
    assert reload["event"] == "reload" and reload["id"] == "103" and json.loads(reload["data"])["reason"] == "too_old"
    await stale.close()


async def test_heartbeats_keep_a_quiet_stream_open(live_app: tuple[FastAPI, LiveHub], as_user: Callable[[str], dict[str, str]]) -> None:
    app, _ = live_app
    quiet = await open_stream(app, as_user("agent1"))
    await quiet.frames(1)
    async with asyncio.timeout(3):
        while ": keep-alive" not in quiet.buffer:
            quiet.buffer += (await quiet.chunks.get()).decode()
    await quiet.close()


async def test_caps_answer_429_per_user_and_503_in_total_in_the_one_error_shape_and_a_disconnect_frees_them(
    live_app: tuple[FastAPI, LiveHub], as_user: Callable[[str], dict[str, str]]
) -> None:
    app, hub = live_app
    first, second = await open_stream(app, as_user("eng1")), await open_stream(app, as_user("eng1"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake.test") as client:
        third = await client.get("/api/v1/events/stream", headers={**as_user("eng1"), "Accept-Language": "en"})
        assert third.status_code == 429 and third.headers["retry-after"] == "10"
        assert third.json()["code"] == "too_many_requests" and "2 open event streams" in str(third.json()["detail"])
        others = [await open_stream(app, as_user(u)) for u in ("agent1", "req-office")]
        full = await client.get("/api/v1/events/stream", headers=as_user("manager1"))
        assert full.status_code == 503 and full.headers["retry-after"] == "5" and "code" in full.json()
        await first.close()
        for _ in range(50):
            if hub.limiter.open_total == 3:
                break
            await asyncio.sleep(0.02)
        assert hub.limiter.open_total == 3 and len(hub.listeners) == 3
        again = await open_stream(app, as_user("manager1"))
        assert again.status == 200
        for s in (second, again, *others):
            await s.close()
        assert hub.limiter.open_total == 0 and not hub.listeners


async def test_no_stream_without_credentials_or_without_a_running_hub(adapters: Adapters, as_user: Callable[[str], dict[str, str]]) -> None:
    app = create_app(IntakeSettings(environment="test"), adapters=adapters)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake.test") as client:
            assert (await client.get("/api/v1/events/stream")).status_code == 401
            down = await client.get("/api/v1/events/stream", headers=as_user("agent1"))
    assert down.status_code == 503 and down.headers["retry-after"] == "30"


async def test_the_process_going_down_ends_every_stream(live_app: tuple[FastAPI, LiveHub], as_user: Callable[[str], dict[str, str]]) -> None:
    app, hub = live_app
    stream = await open_stream(app, as_user("agent1"))
    await stream.frames(1)
    hub.end_streams()
    assert stream.task is not None
    await asyncio.wait_for(stream.task, 2)  # the response ended by itself, no disconnect needed
    assert not hub.listeners


async def test_the_stream_is_in_the_openapi_document_with_an_example(live_app: tuple[FastAPI, LiveHub]) -> None:
    app, _ = live_app
    op = app.openapi()["paths"]["/api/v1/events/stream"]["get"]
    assert "Last-Event-ID" in op["description"]
    assert "event: ticket.created" in op["responses"]["200"]["content"]["text/event-stream"]["example"]
    assert {"429", "503"} <= set(op["responses"])


async def test_a_burst_reaches_a_client_whole_and_in_order(
    live_app: tuple[FastAPI, LiveHub], adapters: Adapters, as_user: Callable[[str], dict[str, str]]
) -> None:
    """Frames waiting together are written together; none is lost or reordered by it."""
    app, hub = live_app
    stream = await open_stream(app, as_user("agent1"))
    await stream.frames(1)
    ticket = await filed(adapters, requester_id="req-office")
    await hub.publish_batch([announce(ticket, 101 + i, hub) for i in range(40)])
    assert [int(f["id"]) for f in await stream.frames(40)] == list(range(101, 141))
    await stream.close()
