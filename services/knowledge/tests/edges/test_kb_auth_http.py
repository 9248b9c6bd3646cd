"""Who is calling the knowledge base is proven by the gateway's internal token, never by a header or a body field:
without a valid token for `knowledge` nothing is served, and whoever writes is recorded as the token's subject."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from opsdesk_shared import internal_auth_testing
from opsdesk_shared.internal_auth import Caller, TokenMinter, generate_keypair
from opsdesk_shared.internal_auth_testing import InternalTokenAuth

from .conftest import as_role

DRAFT = {
    "title": "VPN 錯誤 809 的處理", "body": "檢查防火牆是否放行 UDP 500 和 4500。", "category": "網絡",
    "tags": ["vpn"], "service_codes": ["RS-NETWORK"], "asset_types": [], "audience": "all",
}
PATHS = [("GET", "/api/v1/kb/search?q=vpn"), ("GET", "/api/v1/kb/stats"), ("POST", "/api/v1/kb/articles"),
         ("GET", "/api/v1/problems"), ("POST", "/api/v1/problems")]


@pytest.fixture
async def app(client: httpx.AsyncClient) -> AsyncIterator[Any]:
    """The app behind the shared client (its lifespan already entered by the `client` fixture)."""
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    yield transport.app


async def _bare(app: Any, path: str, method: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://knowledge.test") as bare:
        return await bare.request(method, path, **kwargs)


async def _published(client: httpx.AsyncClient, **overrides: Any) -> str:
    r = await client.post("/api/v1/kb/articles", json={**DRAFT, **overrides}, headers=as_role("agent", "desk-lin"))
    assert r.status_code == 201, r.text
    article_id: str = r.json()["id"]
    for action in ("submit", "publish"):
        assert (await client.post(f"/api/v1/kb/articles/{article_id}/{action}", headers=as_role("agent"))).status_code == 200
    return article_id


# ------------------------------------------------------------------------------------------------ authentication


@pytest.mark.parametrize(("method", "path"), PATHS)
async def test_no_token_is_401_even_with_forged_admin_headers(app: Any, method: str, path: str) -> None:
    assert (await _bare(app, path, method, json={"title": "x"})).status_code == 401
    forged = await _bare(app, path, method, json={"title": "x"}, headers={"X-Opsdesk-Role": "admin", "X-Opsdesk-User": "root"})
    assert forged.status_code == 401


async def test_expired_token_is_401(app: Any) -> None:
    token = TokenMinter(internal_auth_testing.test_keypair()[0]).mint(
        Caller(subject="root", role="admin"), audience="knowledge", now=time.time() - 3600
    )
    response = await _bare(app, "/api/v1/kb/stats", "GET", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and "expired" in response.json()["detail"]


async def test_token_for_another_service_is_401(app: Any) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://knowledge.test",
                                 auth=InternalTokenAuth("reporting")) as misaddressed:
        response = await misaddressed.get("/api/v1/kb/stats")
    assert response.status_code == 401 and "knowledge" in response.json()["detail"]


async def test_token_signed_with_another_key_is_401(app: Any) -> None:
    forger = InternalTokenAuth("knowledge", private_pem=generate_keypair()[0])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://knowledge.test", auth=forger) as c:
        assert (await c.get("/api/v1/kb/stats")).status_code == 401


async def test_a_token_is_used_once(app: Any) -> None:
    token = TokenMinter(internal_auth_testing.test_keypair()[0]).mint(Caller(subject="root", role="admin"), audience="knowledge")
    first = await _bare(app, "/api/v1/kb/stats", "GET", headers={"Authorization": f"Bearer {token}"})
    replayed = await _bare(app, "/api/v1/kb/stats", "GET", headers={"Authorization": f"Bearer {token}"})
    assert (first.status_code, replayed.status_code) == (200, 401)


# ------------------------------------------------------------------------------------------------ the actor


async def test_article_author_is_the_verified_subject_never_a_body_field(client: httpx.AsyncClient) -> None:
    named = await client.post("/api/v1/kb/articles", json={**DRAFT, "author": "someone-else"}, headers=as_role("agent", "desk-lin"))
    assert named.status_code == 422

    created = await client.post("/api/v1/kb/articles", json=DRAFT, headers=as_role("agent", "desk-lin"))
    assert created.status_code == 201
    article = created.json()
    assert article["author"] == "desk-lin" and article["log"][0]["by"] == "desk-lin"
    edited = await client.put(f"/api/v1/kb/articles/{article['id']}", json={**DRAFT, "body": "新版"}, headers=as_role("admin", "adm-he"))
    assert edited.json()["log"][-1]["by"] == "adm-he"
    versions = (await client.get(f"/api/v1/kb/articles/{article['id']}/versions", headers=as_role("agent"))).json()
    assert [v["edited_by"] for v in versions] == ["desk-lin", "adm-he"]
    upload = await client.post(f"/api/v1/kb/articles/{article['id']}/attachments", params={"filename": "a.txt"}, content=b"x",
                               headers={**as_role("agent", "desk-wu"), "content-type": "text/plain"})
    assert upload.json()["uploaded_by"] == "desk-wu"


async def test_problem_steps_are_recorded_under_the_verified_subject(client: httpx.AsyncClient) -> None:
    refused = await client.post("/api/v1/problems", json={"title": "丟包", "by": "pm"}, headers=as_role("engineer", "eng-chen"))
    assert refused.status_code == 422
    problem = (await client.post("/api/v1/problems", json={"title": "丟包"}, headers=as_role("engineer", "eng-chen"))).json()
    assert problem["created_by"] == "eng-chen" and problem["log"][0]["by"] == "eng-chen"
    step = await client.post(f"/api/v1/problems/{problem['id']}/investigate", json={"by": "pm"}, headers=as_role("agent", "desk-lin"))
    assert step.status_code == 422
    step = await client.post(f"/api/v1/problems/{problem['id']}/investigate", headers=as_role("agent", "desk-lin"))
    assert step.status_code == 200 and step.json()["log"][-1]["by"] == "desk-lin"


# ------------------------------------------------------------------------------------------------ role boundaries


async def test_requesters_read_only_published_articles_meant_for_them(client: httpx.AsyncClient) -> None:
    for_all = await _published(client)
    for_engineers = await _published(client, audience="engineers")
    for_desk = await _published(client, audience="desk")
    draft = (await client.post("/api/v1/kb/articles", json=DRAFT, headers=as_role("agent"))).json()["id"]
    requester = as_role("requester", "u-wang")

    assert (await client.get(f"/api/v1/kb/articles/{for_all}", headers=requester)).status_code == 200
    for hidden in (for_engineers, for_desk, draft):
        assert (await client.get(f"/api/v1/kb/articles/{hidden}", headers=requester)).status_code == 404
    found = (await client.get("/api/v1/kb/search", params={"q": "vpn", "state": "any"}, headers=requester)).json()
    assert [r["article_id"] for r in found["results"]] == [for_all]
    assert (await client.get(f"/api/v1/kb/articles/{for_all}/versions", headers=requester)).status_code == 403
    assert (await client.put(f"/api/v1/kb/articles/{for_all}", json=DRAFT, headers=requester)).status_code == 403
    assert (await client.get("/api/v1/problems", headers=requester)).status_code == 403


async def test_engineers_read_their_audience_and_change_only_their_own_drafts(client: httpx.AsyncClient) -> None:
    for_engineers = await _published(client, audience="engineers")
    for_desk = await _published(client, audience="desk")
    chen, lin = as_role("engineer", "eng-chen"), as_role("engineer", "eng-lin")
    own = (await client.post("/api/v1/kb/articles", json=DRAFT, headers=chen)).json()["id"]

    assert (await client.get(f"/api/v1/kb/articles/{for_engineers}", headers=chen)).status_code == 200
    assert (await client.get(f"/api/v1/kb/articles/{for_desk}", headers=chen)).status_code == 404
    assert (await client.put(f"/api/v1/kb/articles/{own}", json={**DRAFT, "body": "補充"}, headers=chen)).status_code == 200
    assert (await client.get(f"/api/v1/kb/articles/{own}", headers=lin)).status_code == 404  # a colleague's draft
    assert (await client.put(f"/api/v1/kb/articles/{own}", json=DRAFT, headers=lin)).status_code == 404
    assert (await client.put(f"/api/v1/kb/articles/{for_engineers}", json=DRAFT, headers=chen)).status_code == 403
    assert (await client.post(f"/api/v1/kb/articles/{own}/submit", headers=chen)).status_code == 200
    assert (await client.post(f"/api/v1/kb/articles/{own}/publish", headers=chen)).status_code == 403


async def test_other_services_read_everything_and_write_nothing(client: httpx.AsyncClient) -> None:
    for_desk = await _published(client, audience="desk")
    service = as_role("service", "service:intake")
    assert (await client.get(f"/api/v1/kb/articles/{for_desk}", headers=service)).status_code == 200
    assert (await client.get("/api/v1/problems", headers=service)).status_code == 200
    assert (await client.get("/api/v1/kb/stats", headers=service)).status_code == 200
    assert (await client.post("/api/v1/kb/articles", json=DRAFT, headers=service)).status_code == 403
    assert (await client.post(f"/api/v1/kb/articles/{for_desk}/retire", headers=service)).status_code == 403
    assert (await client.post("/api/v1/problems", json={"title": "x"}, headers=service)).status_code == 403


async def test_auditors_and_managers_cannot_curate(client: httpx.AsyncClient) -> None:
    article_id = await _published(client)
    for role in ("auditor", "manager"):
        assert (await client.post(f"/api/v1/kb/articles/{article_id}/retire", headers=as_role(role))).status_code == 403
        assert (await client.post("/api/v1/kb/articles", json=DRAFT, headers=as_role(role))).status_code == 403
