"""The notification edge subscribes exactly the durables the NATS permissions allow, and secrets stay masked."""

from __future__ import annotations

from opsdesk_shared.bus_permissions import NOTIFICATION_CONSUMERS, ROLES, SETTLING_CONSUMERS
from sla_monitor.notifications import bus
from sla_monitor.notifications.apprise_sender import redact, with_address
from sla_monitor.notifications.channels import NotifyChannel
from sla_monitor.notifications.templates import render


def test_every_notification_route_is_allowed_on_the_bus_and_nothing_more() -> None:
    assert {(r.subject_name, r.durable) for r in bus.ROUTES} == set(NOTIFICATION_CONSUMERS)
    allowed = {(c.subject, c.durable) for c in ROLES["sla-monitor"].consumes}
    active = {(subject, route.durable) for subject, route in bus.active_routes()}
    assert active and active <= allowed
    assert {(s.subject_name, s.durable) for s in bus.SETTLING} == set(SETTLING_CONSUMERS)


def test_an_authorization_notice_is_for_tickets_that_wait_for_the_agency_only() -> None:
    (route,) = [r for r in bus.ROUTES if r.kind == "authorization_waiting"]
    assert route.when({"awaiting_authorization": True}) and route.when({"emergency": True})
    assert not route.when({"awaiting_authorization": False})


def test_secrets_in_an_apprise_url_are_masked_in_error_text() -> None:
    url = "dingtalk://SECabc123secret@tok987654/13800138000"
    text = redact("failed posting to https://oapi/robot/send?access_token=tok987654 with SECabc123secret", url)
    assert "tok987654" not in text and "SECabc123secret" not in text and text.count("***") == 2


def test_an_address_joins_the_url_as_each_channel_expects() -> None:
    mail = NotifyChannel(kind="email", url="mailto://127.0.0.1:25?from=ops@x.example")  # type: ignore[arg-type]
    ding = NotifyChannel(kind="dingtalk", url="dingtalk://S@T")  # type: ignore[arg-type]
    assert with_address(mail, "pm@agency.example") == "mailto://127.0.0.1:25?from=ops@x.example&to=pm@agency.example"
    assert with_address(ding, "13800138000") == "dingtalk://S@T/13800138000"


def test_an_authorization_notice_names_the_work_by_its_title_not_the_catalog_code() -> None:
    (route,) = [r for r in bus.ROUTES if r.kind == "authorization_waiting"]
    fields = route.fields({"number": "INC-4", "title": "办公室电脑开不了机", "service_code": "RS-ONSITE", "awaiting_authorization": True})
    _, body = render("authorization_waiting", "zh-CN", fields)
    assert "办公室电脑开不了机" in body and "RS-ONSITE" not in body


def test_an_incident_notice_names_the_actor_by_name_where_intake_knows_it() -> None:
    (route,) = [r for r in bus.ROUTES if r.kind == "incident_raised"]
    named = route.fields({"kind": "unauthorized_ticket_act", "severity": "low", "actor": "eng-onsite-1.050ae0ef",
                          "actor_name": "陈志强", "what": "接受未经授权的工单的派工", "incident_id": "sec-1"})
    _, body = render("incident_raised", "zh-CN", named)
    assert "陈志强" in body and "eng-onsite-1.050ae0ef" not in body
    unnamed = route.fields({"kind": "unauthorized_ticket_act", "actor": "eng-9", "what": "x", "incident_id": "sec-2"})
    assert "eng-9" in render("incident_raised", "zh-CN", unnamed)[1]


def test_a_help_notice_names_the_engineer_by_name() -> None:
    (route,) = [r for r in bus.ROUTES if r.kind == "needs_answer"]
    fields = route.fields({"ticket_id": "t-1", "number": "INC-1", "engineer_id": "eng-mobile-1", "engineer_name": "黄伟明",
                           "question": "硒鼓型号不对"})
    _, body = render("needs_answer", "zh-CN", fields)
    assert body.startswith("黄伟明 在工单 INC-1 上请求协助") and "eng-mobile-1" not in body
