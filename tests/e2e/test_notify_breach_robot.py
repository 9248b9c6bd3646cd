"""A missed response on the real stack reaches the desk's WeCom group robot: the breach event, the SLA monitor's
escalation chain and role preferences, the delivery loop, apprise, and a local stand-in for the robot API that checks
the request as WeCom documents it (POST /cgi-bin/webhook/send?key=KEY, JSON {"msgtype": "text", "text": {...}}).

The robot's vendor host is fixed in apprise's plugin; SLA_NOTIFY_ENDPOINTS points it at the stand-in (the payload is
the plugin's own). The channel URL holds the robot key: the test checks it is in no service's log.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from opsdesk_devstack.infra import free_port
from opsdesk_devstack.stack import Stack

pytestmark = pytest.mark.e2e

KEY = "e2e-robot-key-5d1c9a77"
PORT = free_port()
ENV = {
    "SLA_POLICIES": json.dumps({"response": {"calendar": "24x7", "business_minutes": 0.0167}}),
    "SLA_ESCALATION": json.dumps([{"level": 1, "role": "desk_lead", "after_minutes": 0, "channels": ["desk-wecom"]}]),
    "SLA_NOTIFY_CHANNELS": json.dumps({"desk-wecom": {"kind": "wecom", "url": f"wecombot://{KEY}", "name": "运维值班群"}}),
    "SLA_NOTIFY_ENDPOINTS": json.dumps({"wecombot": f"http://127.0.0.1:{PORT}/cgi-bin/webhook/send?key={{key}}"}),
}
TICKET = {"title": "打印机卡纸", "requester": {"name": "王小明", "department": "办公室"}, "channel": "hotline", "service_code": "RS-REPAIR"}


class WeCom(BaseHTTPRequestHandler):
    messages: list[str] = []
    refused: list[str] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ok = (url.path == "/cgi-bin/webhook/send" and parse_qs(url.query).get("key") == [KEY]
              and self.headers.get("Content-Type", "").startswith("application/json")
              and body.get("msgtype") == "text" and isinstance(body.get("text", {}).get("content"), str))
        if ok:
            self.messages.append(body["text"]["content"])
        else:
            self.refused.append(self.path)
        answer = json.dumps({"errcode": 0 if ok else 93000, "errmsg": "ok" if ok else "invalid webhook url"}).encode()
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.fixture
def robot() -> Iterator[type[WeCom]]:
    WeCom.messages, WeCom.refused = [], []
    server = ThreadingHTTPServer(("127.0.0.1", PORT), WeCom)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield WeCom
    server.shutdown()
    server.server_close()


def wait_for(check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    return check()


@pytest.mark.stack_env(**ENV)
def test_a_breach_reaches_the_desks_wecom_robot_and_the_key_is_never_logged(stack: Stack, robot: type[WeCom]) -> None:
    admin = {"Authorization": f"Bearer {stack.token}"}
    # The project manager's role hears of breaches on the same robot (an admin sets it through the gateway).
    r = httpx.put(f"{stack.gateway}/api/v1/notifications/preferences/roles/manager", headers=admin, timeout=15,
                  json={"events": ["breach"], "channels": [{"channel": "desk-wecom"}]})
    assert r.status_code == 200, r.text
    listed = httpx.get(f"{stack.gateway}/api/v1/notifications/channels", headers=admin, timeout=15)
    # The in-app channel (console) is always there beside the configured robot.
    assert [c["id"] for c in listed.json()] == ["console", "desk-wecom"] and KEY not in listed.text

    stack.service("dispatch").stop()  # nobody assigns: the one-second response clock runs out
    r = httpx.post(f"{stack.gateway}/api/v1/tickets", json=TICKET, headers=admin, timeout=15)
    assert r.status_code == 201, r.text
    ticket_id, number = r.json()["id"], r.json()["number"]

    # The chain's level 1 and the manager role's preference: two notifications, one robot (batched or not). A role's
    # notification names the ticket by its number (remembered from ticket.created), the chain's by its id.
    def told() -> list[str]:
        return [m for m in robot.messages if ticket_id in m or number in m]

    got = wait_for(lambda: len(told()) >= 2 or (told() and "共 2 条通知" in told()[0]), timeout=30)
    assert got, f"robot got {robot.messages}, refused {robot.refused}"
    assert robot.refused == []
    assert any("【超时】" in m and "响应时限" in m for m in told())

    sent = httpx.post(f"{stack.gateway}/api/v1/notifications/channels/desk-wecom/test", headers={**admin, "Accept-Language": "zh-CN"},
                      timeout=30)
    assert sent.status_code == 200, sent.text
    assert wait_for(lambda: any("测试消息" in m for m in robot.messages), timeout=10)

    logs = "".join(p.read_text(errors="replace") for p in (stack.var_dir / "logs").glob("*.log"))
    assert KEY not in logs
