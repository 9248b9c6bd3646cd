"""Findings 7 (mail part), 8 and 9: mail threading believes only the ticket's people, mail parsing is linear, and
the sign-in throttle slows attackers without locking anyone out."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from opsdesk_devstack.stack import Stack

from .support import PASSWORD, admin, sign_in

pytestmark = pytest.mark.e2e


def _mail(stack: Stack, *, sender: str, subject: str, body: str) -> httpx.Response:
    raw = (f"From: {sender}\r\nTo: helpdesk@agency.example\r\nSubject: {subject}\r\n"
           f"Message-ID: <{uuid.uuid4().hex}@outside.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n")
    return httpx.post(f"{stack.gateway}/api/v1/inbound/email", content=raw.encode(),
                      headers={**admin(stack), "Content-Type": "message/rfc822"}, timeout=30)


def test_a_stranger_replying_to_a_ticket_number_opens_a_new_ticket(stack: Stack) -> None:
    first = _mail(stack, sender="王小明 <wang.xm@agency.example>", subject="打印机卡纸", body="三楼打印机卡纸")
    assert first.status_code == 201, first.text
    number, ticket_id = first.json()["number"], first.json()["ticket_id"]

    forged = _mail(stack, sender="attacker@outside.example", subject=f"Re: [{number}] 打印机卡纸",
                   body="请把您的密码发给我以便远程修复")
    assert forged.status_code == 201, forged.text
    assert forged.json()["ticket_id"] != ticket_id
    assert forged.json()["outcome"] != "comment"
    seen = httpx.get(f"{stack.gateway}/api/v1/tickets/{ticket_id}", headers=admin(stack), timeout=15).json()
    assert "密码" not in str(seen.get("comments", []))

    reply = _mail(stack, sender="wang.xm@agency.example", subject=f"Re: [{number}] 打印机卡纸", body="还是卡纸")
    assert reply.status_code in (200, 201), reply.text
    assert reply.json()["ticket_id"] == ticket_id


def test_a_hostile_mail_body_is_parsed_in_linear_time_while_the_gateway_answers(stack: Stack) -> None:
    hostile = ("於" * 200_000) + ("<" * 200_000) + ("> " * 100_000)
    started = time.monotonic()
    reply = _mail(stack, sender="someone@agency.example", subject="很长的邮件", body=hostile)
    elapsed = time.monotonic() - started
    assert reply.status_code in (201, 422), reply.text[:300]
    assert elapsed < 5, f"a {len(hostile.encode()) // 1024} KiB body took {elapsed:.1f} s"
    assert httpx.get(f"{stack.gateway}/healthz", timeout=2).status_code == 200


def _login(stack: Stack, username: str, password: str) -> httpx.Response:
    # Every attempt here comes from 127.0.0.1, and the suite shares that address: the per-address limit across
    # accounts (30 failures) is left to intake's edge tests, so that this suite's other sign-ins are not slowed.
    return httpx.post(f"{stack.gateway}/api/v1/auth/token", json={"username": username, "password": password}, timeout=15)


def test_failed_sign_ins_are_throttled_with_growing_delays(stack: Stack) -> None:
    username = f"victim.{uuid.uuid4().hex[:8]}"
    created = httpx.post(f"{stack.gateway}/api/v1/users", headers=admin(stack), timeout=15,
                         json={"username": username, "name": "受害者", "role": "agent", "password": PASSWORD})
    assert created.status_code == 201, created.text
    codes = [_login(stack, username, "wrong-password").status_code for _ in range(7)]
    assert codes[:5] == [401] * 5
    assert 429 in codes[5:], codes
    throttled = _login(stack, username, "wrong-password")
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1


def test_the_throttle_is_no_lock_an_outsider_can_use(stack: Stack) -> None:
    """Only one address exists here, so this checks the other half: a change of password through /me/password is
    under the same limiter, and an administrator's key still works while their password is being guessed."""
    user = sign_in(stack, "agent", prefix="target")
    for _ in range(6):
        httpx.post(f"{stack.gateway}/api/v1/me/password", json={"current_password": "wrong", "new_password": "Another-pass-123"},
                   headers=user, timeout=15)
    limited = httpx.post(f"{stack.gateway}/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "Another-pass-123"},
                         headers=user, timeout=15)
    assert limited.status_code == 429, limited.text
    # Guessing the administrator's password locks out nothing the administrator holds: the key still answers.
    for _ in range(6):
        _login(stack, "admin", "guess")
    assert httpx.get(f"{stack.gateway}/api/v1/users", headers=admin(stack), timeout=15).status_code == 200

