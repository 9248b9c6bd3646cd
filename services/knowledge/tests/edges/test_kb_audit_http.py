"""Knowledge's `GET /api/v1/audit/verify` (issue 16): articles' logs and versions, read-only, for those who oversee."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx
import pytest

from knowledge import domain
from knowledge.domain import Actor, ArticleContent
from knowledge.main import Adapters


async def test_the_trail_verifies_and_names_a_changed_log_entry(
    client: httpx.AsyncClient, adapters: Adapters, content: Callable[..., ArticleContent], curator: Actor, now: datetime,
) -> None:
    article, v1 = domain.create_article(content(), actor=curator, now=now)
    await adapters.articles.add(article, v1, [])
    auditor = {"X-Opsdesk-Role": "auditor", "X-Opsdesk-User": "aud1"}

    intact = await client.get("/api/v1/audit/verify", headers=auditor)
    assert intact.status_code == 200, intact.text
    assert intact.json()["ok"] is True and intact.json()["checked"] >= 2

    log = adapters.articles.sealed_log[article.id]["log"]  # type: ignore[attr-defined]
    log[0] = {**log[0], "by": "mallory"}
    broken = (await client.get("/api/v1/audit/verify", headers=auditor)).json()
    assert broken["first_broken"] == f"article/{article.id}/log#0: hash does not match the record (the record was changed)"


@pytest.mark.parametrize("role", ["engineer", "requester", "agent"])
async def test_others_may_not_verify(client: httpx.AsyncClient, role: str) -> None:
    assert (await client.get("/api/v1/audit/verify", headers={"X-Opsdesk-Role": role, "X-Opsdesk-User": "u1"})).status_code == 403
