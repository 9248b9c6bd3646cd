"""What GET /api/v1/catalog/{code} returns, PUT /api/v1/catalog/{code} accepts (issue 13, item 13)."""

from __future__ import annotations

from typing import Any


async def _read(client: Any, headers: dict[str, str], code: str, lang: str) -> Any:
    reply = await client.get(f"/api/v1/catalog/{code}", headers={**headers, "Accept-Language": lang})
    assert reply.status_code == 200, reply.text
    return reply


async def test_an_entry_read_is_written_back_unchanged_in_every_language(client, as_user) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin1")
    for lang in ("zh-CN", "zh-TW", "en"):
        read = await _read(client, admin, "RS-ONSITE", lang)
        put = await client.put("/api/v1/catalog/RS-ONSITE", json=read.json(), headers={**admin, "Accept-Language": lang})
        assert put.status_code == 200, put.text
        after = put.json()
        assert {k: v for k, v in after.items() if k != "version"} == {k: v for k, v in read.json().items() if k != "version"}
        assert after["version"] == read.json()["version"] + 1


async def test_the_text_edited_in_the_callers_language_replaces_only_that_language(client, as_user) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin1")
    entry = (await _read(client, admin, "RS-ONSITE", "zh-CN")).json()
    put = await client.put("/api/v1/catalog/RS-ONSITE", json={**entry, "name": "现场维护服务"},
                           headers={**admin, "Accept-Language": "zh-CN"})
    assert put.status_code == 200, put.text
    labels = put.json()["labels"]["name"]
    assert labels == {"zh-CN": "现场维护服务", "zh-TW": "現場維護", "en": "On-site maintenance"}
    assert (await _read(client, admin, "RS-ONSITE", "en")).json()["name"] == "On-site maintenance"


async def test_the_version_read_guards_the_write_back_like_if_match(client, as_user) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin1")
    entry = (await _read(client, admin, "RS-OTHER", "zh-CN")).json()
    first = await client.put("/api/v1/catalog/RS-OTHER", json={**entry, "skill": "network"}, headers=admin)
    assert first.status_code == 200
    stale = await client.put("/api/v1/catalog/RS-OTHER", json={**entry, "skill": "desktop"}, headers={**admin, "Accept-Language": "zh-CN"})
    assert stale.status_code == 412  # written back from a read another edit has overtaken
    # The message names the catalog entry it lost to, in the caller's language, not a ticket (工单).
    assert stale.json()["code"] == "stale_version" and stale.json()["message"].startswith("服务目录条目 RS-OTHER"), stale.text
    assert "工单" not in stale.text and "工單" not in stale.text and stale.headers["ETag"]


async def test_the_three_languages_are_still_accepted_and_a_new_service_needs_them(client, as_user) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin1")
    body = {
        "family": "responsive", "name": "视频会议支持", "deliverable": "支持服务记录", "service_level": "5X8驻场",
        "cadence": "on_demand", "ticket_type": "service_request", "sla_profile": "responsive",
    }
    missing = await client.put("/api/v1/catalog/RS-VIDEO", json=body, headers={**admin, "Accept-Language": "zh-CN"})
    assert missing.status_code == 422
    assert "name" in missing.text and "zh-TW" in missing.text
    labels = {"zh-CN": "视频会议支持", "zh-TW": "視訊會議支援", "en": "Video conference support"}
    whole = await client.put("/api/v1/catalog/RS-VIDEO", json={**body, "name": labels}, headers={**admin, "Accept-Language": "zh-CN"})
    assert whole.status_code == 422 and "deliverable" in whole.text  # the other two texts are new as well
    three = {**body, "name": labels, "deliverable": {"zh-CN": "记录", "zh-TW": "記錄", "en": "Record"},
             "service_level": {"zh-CN": "5X8", "zh-TW": "5X8", "en": "5x8"}}
    created = await client.put("/api/v1/catalog/RS-VIDEO", json=three, headers=admin)
    assert created.status_code == 200 and created.json()["labels"]["name"] == labels


async def test_a_body_naming_another_code_is_refused(client, as_user) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin1")
    entry = (await _read(client, admin, "RS-ONSITE", "zh-CN")).json()
    reply = await client.put("/api/v1/catalog/RS-OTHER", json=entry, headers=admin)
    assert reply.status_code == 422 and "code" in reply.text


async def test_the_priority_matrix_is_read_by_every_role_and_is_the_rule_tickets_follow(client, as_user) -> None:  # type: ignore[no-untyped-def]
    from intake.priority import MATRIX

    for who in ("req-office", "agent1", "eng1"):
        reply = await client.get("/api/v1/catalog/priority-matrix", headers=as_user(who))
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["levels"] == ["high", "medium", "low"]
        assert {(c["impact"], c["urgency"]): c["priority"] for c in body["cells"]} == dict(MATRIX)
    spec = (await client.get("/openapi.json")).json()
    assert "/api/v1/catalog/priority-matrix" in spec["paths"]
