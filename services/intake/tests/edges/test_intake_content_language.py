"""Every gateway answer says its language (issue 13, H1 item 10), successful ones as errors do."""

from __future__ import annotations

from typing import Any

import httpx
import pytest


@pytest.mark.parametrize(("asked", "said"), [("zh-CN", "zh-CN"), ("zh-TW,zh;q=0.8", "zh-TW"), ("en-GB", "en"), (None, "en")])
async def test_successful_answers_carry_content_language(
    client: httpx.AsyncClient, auth: dict[str, str], ticket_body: dict[str, Any], asked: str | None, said: str
) -> None:
    headers = {**auth, **({"Accept-Language": asked} if asked else {})}
    created = await client.post("/api/v1/tickets", json=ticket_body, headers=headers)
    listed = await client.get("/api/v1/tickets", headers=headers)
    catalog = await client.get("/api/v1/catalog", headers=headers)
    missing = await client.get("/api/v1/tickets/no-such-ticket", headers=headers)
    assert [r.status_code for r in (created, listed, catalog, missing)] == [201, 200, 200, 404]
    assert [r.headers.get("content-language") for r in (created, listed, catalog, missing)] == [said] * 4
