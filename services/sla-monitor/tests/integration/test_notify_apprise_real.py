"""Notifications through apprise to local stand-ins for the WeCom and DingTalk group robots and an SMSEagle SMS
gateway, and to a real SMTP server (aiosmtpd); records in the real database.

The stand-ins check each request as the vendors document it and as apprise 2.3.0 builds it (apprise/plugins/
wecombot.py, dingtalk.py, smseagle.py): the WeCom robot takes POST /cgi-bin/webhook/send?key=KEY with JSON
{"msgtype": "text", "text": {"content": ...}}; the DingTalk robot POST /robot/send?access_token=T&timestamp=MS&sign=S
where S = urlencode(base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}"))), JSON msgtype text with at.atMobiles;
SMSEagle POST /jsonrpc/sms with {"method": "sms.send_sms", "params": {"access_token", "to", "message"}}.
The two robots' plugins post to the vendor's fixed host: SLA_NOTIFY_ENDPOINTS (AppriseSender(endpoints=...)) points
them here, changing only the base URL (the payload, headers and signature are the plugin's own). SMSEagle takes
its host from the URL like any self-hosted gateway.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller

from opsdesk_devstack.infra import free_port
from sla_monitor import notify
from sla_monitor.adapters.mongo import MongoNotificationStore
from sla_monitor.escalation import Notification
from sla_monitor.notifications.apprise_sender import AppriseSender
from sla_monitor.notifications.channels import NotifyChannel
from sla_monitor.notifications.ratelimit import Buckets

pytestmark = pytest.mark.integration

WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DING_TOKEN = "a1b2c3d4e5f6a7b8c9d0"
DING_SECRET = "SECf0e1d2c3b4a5968778695a4b3c2d1e0f"
SMS_TOKEN = "smseagletoken0123"
T0 = datetime.now(UTC).replace(microsecond=0)


class Robots(BaseHTTPRequestHandler):
    """WeCom, DingTalk and SMSEagle in one local server; a request that breaks their format is answered as they would."""

    received: list[tuple[str, dict[str, Any]]] = []
    refusals: list[str] = []
    over_rate = 0  # the next this many WeCom messages are refused as over the robot's rate

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _refuse(self, why: str, status: int = 400, errcode: int = 40000) -> None:
        self.refusals.append(why)
        self._answer(status, {"errcode": errcode, "errmsg": why})

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            return self._refuse("content type")
        body = json.loads(raw)
        if url.path == "/cgi-bin/webhook/send":
            # WeCom answers every refusal with HTTP 200 and an errcode.
            if query.get("key") != [WECOM_KEY]:
                return self._refuse("invalid webhook url", 200, errcode=93000)
            if body.get("msgtype") != "text" or not isinstance(body.get("text", {}).get("content"), str):
                return self._refuse("wecom body", 200, errcode=40008)
            if Robots.over_rate > 0:
                Robots.over_rate -= 1
                return self._refuse("api freq out of limit", 200, errcode=45009)
            self.received.append(("wecom", body))
            return self._answer(200, {"errcode": 0, "errmsg": "ok"})
        if url.path == "/robot/send":
            timestamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
            expected = base64.b64encode(hmac.new(DING_SECRET.encode(), f"{timestamp}\n{DING_SECRET}".encode(), hashlib.sha256).digest())
            # parse_qs decoded the query once; apprise quoted the base64 signature, so compare the decoded forms.
            # DingTalk, too, answers a refusal with HTTP 200 and an errcode.
            if query.get("access_token") != [DING_TOKEN] or sign.encode() != expected:
                return self._refuse("sign not match", 200, errcode=310000)
            if abs(int(timestamp) - time.time() * 1000) > 3600_000:
                return self._refuse("timestamp too far", 200, errcode=310000)
            if body.get("msgtype") not in ("text", "markdown"):
                return self._refuse("dingtalk body", 200, errcode=40035)
            self.received.append(("dingtalk", body))
            return self._answer(200, {"errcode": 0, "errmsg": "ok"})
        if url.path == "/jsonrpc/sms":
            params = body.get("params", {})
            if body.get("method") != "sms.send_sms" or params.get("access_token") != SMS_TOKEN:
                return self._refuse("smseagle auth", 401)
            self.received.append(("sms", body))
            return self._answer(200, {"result": [{"message_id": 1, "status": "ok"}]})
        return self._refuse("no such path", 404)


@pytest.fixture
def robots() -> Iterator[tuple[int, type[Robots]]]:
    Robots.received, Robots.refusals, Robots.over_rate = [], [], 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Robots)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port, Robots
    server.shutdown()
    server.server_close()


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.rcpt_tos, envelope.content.decode(errors="replace")))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, inbox
    controller.stop()


def channels(port: int, smtp_port: int, *, ding_secret: str = DING_SECRET) -> dict[str, NotifyChannel]:
    return {
        "desk-wecom": NotifyChannel(kind="wecom", url=f"wecombot://{WECOM_KEY}"),  # type: ignore[arg-type]
        "agency-ding": NotifyChannel(kind="dingtalk", url=f"dingtalk://{ding_secret}@{DING_TOKEN}"),  # type: ignore[arg-type]
        "sms": NotifyChannel(kind="sms", url=f"smseagle://{SMS_TOKEN}@127.0.0.1:{port}"),  # type: ignore[arg-type]
        "mail": NotifyChannel(kind="email", url=f"mailto://127.0.0.1:{smtp_port}?from=opsdesk@test.example&mode=insecure"),  # type: ignore[arg-type]
    }


def sender(port: int) -> AppriseSender:
    return AppriseSender(endpoints={
        "wecombot": f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key={{key}}",
        "dingtalk": f"http://127.0.0.1:{port}/robot/send?access_token={{token}}",
    }, timeout_s=5)


def note(nid: str, channel: str, *, address: str | None = None, subject: str = "【超时】工单 t-1 的响应时限已超时") -> Notification:
    return Notification(
        id=nid, ticket_id="t-1", timer="", level=0, role="manager", channel="apprise", target=channel, address=address,
        subject=subject, body="请立即处理。", payload={}, due_at=T0, event="breach",
    )


async def test_each_channel_delivers_through_apprise_in_the_vendors_format(mongo_db: Any, robots: Any, smtp: Any) -> None:
    port, stand_in = robots
    smtp_port, inbox = smtp
    store = MongoNotificationStore(mongo_db)
    await store.ensure_indexes()
    for n in (note("w1", "desk-wecom"), note("d1", "agency-ding", address="13800138000"), note("s1", "sms", address="13900139000"),
              note("m1", "mail", address="pm@agency.example")):
        await store.add(n)
    sent = await notify.deliver_due(now=T0, store=store, email=None, webhook=None, sender=sender(port),  # type: ignore[arg-type]
                                    channels=channels(port, smtp_port), buckets=Buckets(), max_attempts=3, backoff_s=1)
    assert stand_in.refusals == [] and sent == 4
    by_kind = dict(stand_in.received)
    assert by_kind["wecom"]["text"]["content"].startswith("【超时】工单 t-1 的响应时限已超时")
    assert by_kind["dingtalk"]["at"]["atMobiles"] == ["13800138000"] and "请立即处理" in by_kind["dingtalk"]["text"]["content"]
    assert by_kind["sms"]["params"]["to"] == "13900139000" and "请立即处理" in by_kind["sms"]["params"]["message"]
    assert [rcpt for rcpt, _ in inbox.messages] == [["pm@agency.example"]]
    assert "=?utf-8?" in inbox.messages[0][1]  # the Chinese subject, encoded
    for nid in ("w1", "d1", "s1", "m1"):
        stored = await store.get(nid)
        assert stored is not None and (stored.status, stored.attempts) == ("sent", 1)
    assert {n.id for n in await store.listed(status="sent", limit=10)} == {"w1", "d1", "s1", "m1"}
    assert await store.listed(status="failed", limit=10) == []


async def test_a_wrong_dingtalk_secret_is_refused_retried_and_the_record_holds_no_secret(mongo_db: Any, robots: Any) -> None:
    port, stand_in = robots
    store = MongoNotificationStore(mongo_db)
    await store.add(note("bad-sign", "agency-ding"))
    wrong = "SECwrongwrongwrongwrong"
    await notify.deliver_due(now=T0, store=store, email=None, webhook=None, sender=sender(port),  # type: ignore[arg-type]
                             channels=channels(port, 25, ding_secret=wrong), buckets=Buckets(), max_attempts=3, backoff_s=1)
    stored = await store.get("bad-sign")
    assert stand_in.refusals == ["sign not match"]
    assert stored is not None and stored.status == "pending" and stored.attempts == 1 and stored.due_at == T0 + timedelta(seconds=1)
    assert stored.last_error and "errcode 310000" in stored.last_error
    assert wrong not in stored.last_error and DING_TOKEN not in stored.last_error


async def test_a_robot_refusing_with_http_200_and_an_errcode_is_retried_not_lost(mongo_db: Any, robots: Any) -> None:
    """apprise 2.3.0 takes any HTTP 200 as delivered; the robots say "over the rate" (45009) with a 200."""
    port, stand_in = robots
    stand_in.over_rate = 1
    store = MongoNotificationStore(mongo_db)
    await store.add(note("over-rate", "desk-wecom"))
    deliver = dict(email=None, webhook=None, sender=sender(port), channels=channels(port, 25), buckets=Buckets(),
                   max_attempts=3, backoff_s=1)
    assert await notify.deliver_due(now=T0, store=store, **deliver) == 0  # type: ignore[arg-type]
    first = await store.get("over-rate")
    assert first is not None and first.status == "pending" and "errcode 45009" in (first.last_error or "")
    assert await notify.deliver_due(now=T0 + timedelta(seconds=1), store=store, **deliver) == 1  # type: ignore[arg-type]
    assert stand_in.refusals == ["api freq out of limit"] and len(stand_in.received) == 1


async def test_twelve_notifications_reach_the_wecom_robot_as_two_batched_messages(mongo_db: Any, robots: Any) -> None:
    port, stand_in = robots
    store = MongoNotificationStore(mongo_db)
    for i in range(12):
        await store.add(note(f"b{i:02d}", "desk-wecom", subject=f"通知 {i}"))
    sent = await notify.deliver_due(now=T0, store=store, email=None, webhook=None, sender=sender(port),  # type: ignore[arg-type]
                                    channels=channels(port, 25), buckets=Buckets(), max_attempts=3, backoff_s=1)
    assert sent == 12 and len(stand_in.received) == 2
    first = stand_in.received[0][1]["text"]["content"]
    assert first.startswith("共 10 条通知") and "10. 通知 9" in first


async def test_the_send_a_test_reaches_the_robot(robots: Any) -> None:
    port, stand_in = robots
    await sender(port).send(channel=channels(port, 25)["desk-wecom"], address=None, title="【运维】测试消息", body="ok")
    assert stand_in.received == [("wecom", {"msgtype": "text", "text": {"content": "【运维】测试消息\r\nok"}})]
