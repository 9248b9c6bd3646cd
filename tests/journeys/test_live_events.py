"""Live events through the gateway on the real stack (issue 15): GET /api/v1/events/stream fed from JetStream.

The desk's stream sees a ticket a requester files; a requester's stream sees their own tickets and not a department
colleague's; the requester never reads the desk's work notes there; a desk client that reconnects with
Last-Event-ID gets what happened while it was away, in order."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from opsdesk_devstack.stack import Stack
from opsdesk_shared.bus import JetStreamPublisher, make_broker
from opsdesk_shared.contracts import Envelope, TicketUpdatedV1

from .people import sign_in, wait_for

pytestmark = pytest.mark.e2e

REPORT = {"title": "会议室投影仪无信号", "description": "三楼会议室投影仪无信号,换线无效", "channel": "web", "service_code": "RS-ONSITE"}


class Listener:
    """One SSE client in a thread: every message (event, id, data) in arrival order."""

    def __init__(self, stack: Stack, headers: dict[str, str], last_event_id: str | None = None) -> None:
        self.url = f"{stack.gateway}/api/v1/events/stream"
        self.headers = {**headers, **({"Last-Event-ID": last_event_id} if last_event_id else {})}
        self.messages: list[dict[str, Any]] = []
        self.status = 0
        self._response: httpx.Response | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        wait_for(lambda: self.messages, timeout=15)  # the `ready` (or `reload`) message

    def _run(self) -> None:
        try:
            with httpx.Client(timeout=httpx.Timeout(5.0, read=None)) as client, client.stream("GET", self.url, headers=self.headers) as r:
                self.status = r.status_code
                self._response = r
                fields: dict[str, str] = {}
                for line in r.iter_lines():
                    if self._stop.is_set():
                        return
                    if not line:
                        if "event" in fields:
                            self.messages.append({"event": fields["event"], "id": fields.get("id"), "data": json.loads(fields["data"])})
                        fields = {}
                    elif not line.startswith(":") and ": " in line:
                        key, value = line.split(": ", 1)
                        fields[key] = value
        except (httpx.HTTPError, OSError, RuntimeError):
            return  # closed by close()

    def close(self) -> None:
        """Hang up now (the server frees the stream at once, not at the next heartbeat)."""
        self._stop.set()
        if self._response is not None:
            with contextlib.suppress(Exception):
                self._response.close()
        self._thread.join(5)

    def about(self, ticket_id: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["data"].get("ticket_id") == ticket_id]

    def wait(self, check: Callable[[list[dict[str, Any]]], bool], timeout: float = 15.0) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = wait_for(lambda: check(list(self.messages)) and list(self.messages), timeout)
        return found


def file_ticket(stack: Stack, who: dict[str, str], **extra: Any) -> dict[str, Any]:
    r = httpx.post(f"{stack.gateway}/api/v1/tickets", json={**REPORT, **extra}, headers=who, timeout=15)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.fixture(scope="module")
def people(stack: Stack) -> dict[str, dict[str, str]]:
    return {
        "desk": sign_in(stack, "agent", name="周敏", department="服务台", prefix="desk"),
        "wang": sign_in(stack, "requester", name="王小明", department="办公室", prefix="wang"),
        "li": sign_in(stack, "requester", name="李娜", department="办公室", prefix="li"),
    }


def test_each_stream_starts_ready_at_a_position(stack: Stack, people: dict[str, dict[str, str]]) -> None:
    listener = Listener(stack, people["desk"])
    try:
        first = listener.messages[0]
        assert listener.status == 200 and first["event"] == "ready" and first["id"].isdigit()
        assert first["data"] == {"id": first["id"], "resumed": False}
    finally:
        listener.close()


def test_the_desk_sees_a_requesters_ticket_and_requesters_only_their_own(stack: Stack, people: dict[str, dict[str, str]]) -> None:
    desk, wang, li = Listener(stack, people["desk"]), Listener(stack, people["wang"]), Listener(stack, people["li"])
    try:
        filed = file_ticket(stack, people["wang"])
        created = desk.wait(lambda ms: any(m["event"] == "ticket.created" and m["data"]["ticket_id"] == filed["id"] for m in ms))
        event = next(m for m in created if m["event"] == "ticket.created" and m["data"]["ticket_id"] == filed["id"])
        assert event["data"]["number"] == filed["number"] and event["data"]["version"] >= 1
        assert event["data"]["occurred_at"].endswith("+08:00") and int(event["id"]) > int(desk.messages[0]["id"])
        assert event["data"]["changed"]["title"] == REPORT["title"]
        wang.wait(lambda ms: any(m["event"] == "ticket.created" and m["data"]["ticket_id"] == filed["id"] for m in ms))
        # 李娜 of the same department files one too: once her own has reached her, 王小明's (earlier) never did.
        hers = file_ticket(stack, people["li"])
        li.wait(lambda ms: any(m["data"].get("ticket_id") == hers["id"] for m in ms))
        assert li.about(filed["id"]) == []
        wait_for(lambda: desk.about(hers["id"]))
        assert wang.about(hers["id"]) == []
        # The desk's work note on 王小明's ticket reaches the desk, never him; his public reply reaches both.
        note = httpx.post(f"{stack.gateway}/api/v1/tickets/{filed['id']}/comments", json={"body": "疑似显卡接口松动", "internal": True},
                          headers=people["desk"], timeout=15)
        assert note.status_code == 201, note.text
        reply = httpx.post(f"{stack.gateway}/api/v1/tickets/{filed['id']}/comments", json={"body": "下午两点前有会,请尽快"},
                           headers=people["wang"], timeout=15)
        assert reply.status_code == 201, reply.text
        desk.wait(lambda ms: {"ticket.noted", "ticket.commented"} <= {m["event"] for m in ms if m["data"].get("ticket_id") == filed["id"]})
        wang.wait(lambda ms: any(m["event"] == "ticket.commented" and m["data"]["ticket_id"] == filed["id"] for m in ms))
        assert "ticket.noted" not in {m["event"] for m in wang.about(filed["id"])}
        assert all("reason" not in m["data"]["changed"] for m in wang.messages[1:])  # no dispatch scoring, no desk reasons
    finally:
        for listener in (desk, wang, li):
            listener.close()


def test_a_reconnect_with_last_event_id_gets_what_was_missed(stack: Stack, people: dict[str, dict[str, str]]) -> None:
    first = Listener(stack, people["desk"])
    before = file_ticket(stack, people["wang"])
    seen = first.wait(lambda ms: any(m["data"].get("ticket_id") == before["id"] for m in ms))
    last_id = seen[-1]["id"]
    first.close()
    # While the desk is away: two tickets filed.
    missed = [file_ticket(stack, people["li"]), file_ticket(stack, people["wang"])]
    time.sleep(1.0)  # let them reach the gateway's ring before the reconnect
    back = Listener(stack, people["desk"], last_event_id=last_id)
    try:
        back.wait(lambda ms: all(any(m["data"].get("ticket_id") == t["id"] and m["event"] == "ticket.created" for m in ms) for t in missed))
        assert back.messages[0]["event"] == "ready" and back.messages[0]["data"]["resumed"] is True
        ids = [int(m["id"]) for m in back.messages[1:]]
        assert ids == sorted(ids) and min(ids) > int(last_id)  # nothing before the last id again, in order
        created = [m["data"]["ticket_id"] for m in back.messages if m["event"] == "ticket.created"]
        assert created[:2] == [t["id"] for t in missed]
    finally:
        back.close()


def test_a_made_up_id_is_answered_with_a_reload(stack: Stack, people: dict[str, dict[str, str]]) -> None:
    listener = Listener(stack, people["desk"], last_event_id="999999999")
    try:
        assert listener.messages[0]["event"] == "reload" and listener.messages[0]["data"]["reason"] == "unknown_id"
    finally:
        listener.close()


async def _announce_comment(stack: Stack, ticket: dict[str, Any], text: str) -> str:
    """A comment announced on the bus as intake announces one (ticket.updated, as intake's NATS user): the gateway
    is down, so this is an event it never saw. Returns the event id."""
    assert stack.nats is not None
    broker = make_broker(stack.nats.url, name="journey-live", user="intake", password=stack.nats.passwords["intake"])
    await broker.connect()
    try:
        data = TicketUpdatedV1(ticket_id=ticket["id"], number=ticket["number"], changes={"comment": {"old": None, "new": text}},
                               by="desk", updated_at=datetime.now(UTC))
        envelope = Envelope.wrap(data, producer="intake", correlation_id=f"journey-{text}", subject_id=ticket["id"])
        await JetStreamPublisher(broker).publish(envelope)
        return str(envelope.event_id)
    finally:
        await broker.stop()


def test_a_gateway_restart_ends_open_streams_at_once_and_a_reconnect_resumes_from_jetstream(
    stack: Stack, people: dict[str, dict[str, str]]
) -> None:
    """Last in this module: it restarts the gateway. A stopping gateway ends its streams instead of waiting for them
    (it would otherwise wait for every open response). The new process reads the stream's recent events back from
    JetStream before it is ready, so a client reconnecting with its Last-Event-ID gets what reached the bus while the
    gateway was down (issue 15: before, the ring was lost and the client was told to reload)."""
    open_stream = Listener(stack, people["desk"])
    ticket = file_ticket(stack, people["wang"])
    seen = open_stream.wait(lambda ms: any(m["data"].get("ticket_id") == ticket["id"] for m in ms))
    last_id = seen[-1]["id"]
    gateway = stack.service("intake")
    assert gateway.process is not None
    started = time.monotonic()
    gateway.stop()  # SIGTERM; the stop gives up and kills after 10 s
    assert time.monotonic() - started < 8 and gateway.process.proc.returncode != -9
    open_stream._thread.join(5)
    assert not open_stream._thread.is_alive()  # the server ended the response
    # While the gateway is down: an event reaches the bus (and whatever dispatch and the others announce meanwhile).
    asyncio.run(_announce_comment(stack, ticket, "while-down"))
    gateway.start()
    gateway.wait_ready(90)
    again = Listener(stack, people["desk"], last_event_id=last_id)
    try:
        first = again.messages[0]
        assert first["event"] == "ready" and first["data"]["resumed"] is True, first
        found = again.wait(lambda ms: any(m["event"] == "ticket.commented" and m["data"].get("ticket_id") == ticket["id"] for m in ms))
        ids = [int(m["id"]) for m in found[1:]]
        assert ids == sorted(ids) and min(ids) > int(last_id)  # what was missed, in order, nothing before the last id
    finally:
        again.close()
