"""A requester who stops at an article the portal offered is counted (POST /kb/deflections), and the desk reads
the count in GET /kb/stats; drafts and articles the caller may not read count nothing."""

from __future__ import annotations

import httpx

from .conftest import as_role
from .test_kb_http import DRAFT, _published


async def test_requester_stopping_at_an_article_is_counted_in_the_stats(client: httpx.AsyncClient) -> None:
    article_id = await _published(client)
    r = await client.post("/api/v1/kb/deflections", json={"article_id": article_id}, headers=as_role("requester", "li.na"))
    assert r.status_code == 201, r.text
    assert r.json() == {"counted": True, "self_service_deflections": 1}
    r = await client.post("/api/v1/kb/deflections", json={"article_id": article_id}, headers=as_role("requester", "wang"))
    assert r.json()["self_service_deflections"] == 2
    stats = (await client.get("/api/v1/kb/stats", headers=as_role("manager"))).json()
    assert stats["self_service_deflections"] == 2
    assert stats["deflected"] == 0  # tickets resolved with an article are a different figure


async def test_only_a_published_article_the_caller_reads_counts(client: httpx.AsyncClient) -> None:
    draft = (await client.post("/api/v1/kb/articles", json=DRAFT, headers=as_role("agent"))).json()["id"]
    desk_only = await _published(client, audience="desk")
    for article_id in (draft, desk_only, "no-such-article"):
        r = await client.post("/api/v1/kb/deflections", json={"article_id": article_id}, headers=as_role("requester"))
        assert r.status_code == 404, (article_id, r.text)
    r = await client.post("/api/v1/kb/deflections", json={"article_id": draft, "by": "someone"}, headers=as_role("requester"))
    assert r.status_code == 422
    assert (await client.get("/api/v1/kb/stats", headers=as_role("manager"))).json()["self_service_deflections"] == 0
