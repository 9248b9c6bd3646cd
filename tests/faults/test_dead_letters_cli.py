"""`python -m opsdesk_devstack.dead_letters`: the operator's shell over the gateway's admin API (list follows the
cursor with --all, replay says when a dead letter was replayed before, a refusal exits 1)."""

from __future__ import annotations

import json

import httpx
import pytest

from opsdesk_devstack.dead_letters import run

ITEM = {"id": 7, "subject": "ticket.created", "consumer": "knowledge-ticket-created", "service": "knowledge", "reason": "failed",
        "error": "ConcurrentUpdate: x", "deliveries": 5, "failed_at": "2026-11-30T09:12:03+08:00",
        "stored_at": "2026-11-30T09:12:03+08:00", "correlation_id": None, "replay": None}


def _client(seen: list[httpx.Request]) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path, cursor = request.url.path, request.url.params.get("cursor")
        if request.headers.get("Authorization") != "Bearer tok":
            return httpx.Response(401, json={"code": "unauthorized"})
        if path == "/api/v1/admin/dead-letters":
            page = {"items": [ITEM], "next_cursor": "7"} if cursor is None else {"items": [{**ITEM, "id": 9}], "next_cursor": None}
            return httpx.Response(200, json=page)
        if path == "/api/v1/admin/dead-letters/7/replay":
            replayed = len([r for r in seen if r.url.path == path]) > 1
            return httpx.Response(200 if replayed else 202, json={
                "dead_letter_id": 7, "consumer": ITEM["consumer"], "subject": "replay.knowledge.knowledge-ticket-created",
                "replayed_at": "2026-11-30T10:00:00+08:00", "replayed_by": "admin", "already_replayed": replayed})
        return httpx.Response(404, json={"code": "not_found"})

    return httpx.Client(base_url="http://gw", transport=httpx.MockTransport(answer))


def test_list_follows_the_cursor_and_replay_is_idempotent(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSDESK_TOKEN", "tok")
    seen: list[httpx.Request] = []
    assert run(["list", "--all", "--json", "--service", "knowledge"], client=_client(seen)) == 0
    assert [i["id"] for i in json.loads(capsys.readouterr().out)] == [7, 9]
    assert seen[0].url.params["service"] == "knowledge" and seen[1].url.params["cursor"] == "7"
    assert run(["replay", "7"], client=_client(seen)) == 0
    assert run(["replay", "7"], client=_client(seen)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("7: replayed to replay.knowledge.") and out[1].startswith("7: already replayed")
    assert run(["show", "8"], client=_client(seen)) == 1


def test_a_wrong_token_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSDESK_TOKEN", "wrong")
    assert run(["list"], client=_client([])) == 1
