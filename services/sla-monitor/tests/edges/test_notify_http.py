"""The notification API on memory stores: my preferences, a role's (admins), channels without URLs, send a test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from opsdesk_shared.internal_auth_testing import InternalTokenAuth
from sla_monitor.adapters.memory import MemoryNotificationStore
from sla_monitor.main import Adapters, create_app
from sla_monitor.notifications.apprise_sender import DeliveryError
from sla_monitor.notifications.channels import NotifyChannel
from sla_monitor.notifications.service import NotificationWiring
from sla_monitor.notifications.stores import MemoryPreferenceStore
from sla_monitor.settings import SlaSettings

SECRET_URL = "wecombot://VERYSECRETKEY42"
CHANNELS = {
    "desk-wecom": NotifyChannel(kind="wecom", url=SECRET_URL, name="运维值班群"),  # type: ignore[arg-type]
    "mail": NotifyChannel(kind="email", url="mailto://127.0.0.1:25?from=ops@localhost"),  # type: ignore[arg-type]
}
ENGINEER = {"X-Opsdesk-Role": "engineer", "X-Opsdesk-User": "li.hua", "X-Opsdesk-Engineer": "eng-7"}


class Sender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str | None, str]] = []
        self.refuse = False

    async def send(self, *, channel: NotifyChannel, address: str | None, title: str, body: str) -> None:
        if self.refuse:
            raise DeliveryError("WeCom Bot notification failed: error=93000")
        self.sent.append((channel.kind, address, title))


@pytest.fixture
def sender() -> Sender:
    return Sender()


@pytest.fixture
async def client(adapters: Adapters, sender: Sender) -> AsyncIterator[httpx.AsyncClient]:
    adapters.notifications = NotificationWiring(
        store=MemoryNotificationStore(), preferences=MemoryPreferenceStore(), channels=CHANNELS, sender=sender,
    )
    app = create_app(SlaSettings(), adapters=adapters)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://sla.test", auth=InternalTokenAuth("sla-monitor")
        ) as c:
            yield c


async def test_a_person_reads_defaults_then_sets_and_reads_back_their_preferences(client: httpx.AsyncClient) -> None:
    first = (await client.get("/api/v1/notifications/preferences", headers=ENGINEER)).json()
    assert first["key"] == "user:li.hua" and first["channels"] == [] and first["language"] == "zh-CN"
    body: dict[str, Any] = {"events": ["assigned", "breach"], "channels": [{"channel": "desk-wecom"}], "quiet_outside_duty": False}
    r = await client.put("/api/v1/notifications/preferences", json=body, headers=ENGINEER)
    assert r.status_code == 200, r.text
    saved = (await client.get("/api/v1/notifications/preferences", headers=ENGINEER)).json()
    assert saved["events"] == ["assigned", "breach"] and saved["engineer_id"] == "eng-7" and saved["updated_by"] == "li.hua"


async def test_an_unknown_channel_is_a_422_naming_the_field_in_the_callers_language(client: httpx.AsyncClient) -> None:
    r = await client.put("/api/v1/notifications/preferences", json={"channels": [{"channel": "nope"}]},
                         headers={**ENGINEER, "Accept-Language": "zh-CN"})
    assert r.status_code == 422
    (item,) = r.json()["detail"]
    assert item["loc"] == ["body", "channels", 0, "channel"] and item["msg"].startswith("未配置的渠道 nope")


async def test_email_without_an_address_is_a_422_on_the_address(client: httpx.AsyncClient) -> None:
    r = await client.put("/api/v1/notifications/preferences", json={"channels": [{"channel": "mail"}]},
                         headers={**ENGINEER, "Accept-Language": "en"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "channels", 0, "address"]


async def test_a_body_cannot_name_whose_preference_it_is(client: httpx.AsyncClient) -> None:
    r = await client.put("/api/v1/notifications/preferences", json={"key": "user:someone-else"}, headers=ENGINEER)
    assert r.status_code == 422


async def test_only_admins_set_a_roles_preferences(client: httpx.AsyncClient) -> None:
    body = {"channels": [{"channel": "desk-wecom"}], "events": ["authorization_waiting"]}
    assert (await client.put("/api/v1/notifications/preferences/roles/agency", json=body, headers=ENGINEER)).status_code == 403
    r = await client.put("/api/v1/notifications/preferences/roles/agency", json=body, headers={"X-Opsdesk-Role": "admin"})
    assert r.status_code == 200, r.text
    read = await client.get("/api/v1/notifications/preferences/roles/agency", headers={"X-Opsdesk-Role": "admin"})
    assert read.json()["events"] == ["authorization_waiting"]
    assert (await client.get("/api/v1/notifications/preferences/roles/wizard")).status_code == 422


async def test_channels_are_listed_without_their_secret_urls(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/notifications/channels", headers=ENGINEER)
    assert r.status_code == 200
    # The in-app channel is always there (no configuration), beside the configured ones.
    assert [c["id"] for c in r.json()] == ["console", "desk-wecom", "mail"] and "VERYSECRETKEY42" not in r.text


async def test_an_admin_sends_a_test_and_others_may_not(client: httpx.AsyncClient, sender: Sender) -> None:
    assert (await client.post("/api/v1/notifications/channels/desk-wecom/test", headers=ENGINEER)).status_code == 403
    r = await client.post("/api/v1/notifications/channels/desk-wecom/test", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 200 and r.json() == {"channel": "desk-wecom", "sent": True}
    assert sender.sent == [("wecom", None, "【运维】测试消息")]
    assert (await client.post("/api/v1/notifications/channels/nope/test")).status_code == 404
    assert (await client.post("/api/v1/notifications/channels/mail/test")).status_code == 422
    r = await client.post("/api/v1/notifications/channels/mail/test", json={"address": "it@agency.example"})
    assert r.status_code == 200 and sender.sent[-1][:2] == ("email", "it@agency.example")


async def test_a_refused_test_is_a_502_with_the_channels_reason(client: httpx.AsyncClient, sender: Sender) -> None:
    sender.refuse = True
    r = await client.post("/api/v1/notifications/channels/desk-wecom/test", headers={"Accept-Language": "en"})
    assert r.status_code == 502 and "93000" in r.json()["detail"]


async def test_admins_and_managers_read_the_outbox_without_webhook_urls(adapters: Adapters, client: httpx.AsyncClient) -> None:
    from datetime import UTC, datetime

    from sla_monitor.escalation import Notification

    store = adapters.notifications.store
    at = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    for nid, channel, target, status in (("n1", "apprise", "desk-wecom", "failed"), ("n2", "webhook", "https://hooks/x?key=SECRET9", "sent")):
        await store.add(Notification(id=nid, ticket_id="t", timer="", level=0, role="manager", channel=channel,  # type: ignore[arg-type]
                                     target=target, subject="s", body="b", payload={}, due_at=at, status=status))  # type: ignore[arg-type]
    assert (await client.get("/api/v1/notifications/outbox", headers=ENGINEER)).status_code == 403
    failed = await client.get("/api/v1/notifications/outbox?status=failed", headers={"X-Opsdesk-Role": "manager"})
    assert [n["id"] for n in failed.json()] == ["n1"]
    everything = await client.get("/api/v1/notifications/outbox")
    assert sorted(n["target"] for n in everything.json()) == ["desk-wecom", "webhook"] and "SECRET9" not in everything.text
    assert (await client.get("/api/v1/notifications/outbox?status=lost")).status_code == 422
