"""Larger bodies where a path needs them (an import through the gateway), the normal limit everywhere else."""

from __future__ import annotations

import httpx
from fastapi import FastAPI, Request

from opsdesk_shared.observability import BodySizeLimitMiddleware


def app() -> FastAPI:
    api = FastAPI()

    @api.post("/{path:path}")
    async def echo(path: str, request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    api.add_middleware(BodySizeLimitMiddleware, max_bytes=100, larger={"/api/v1/register/": 1000})
    return api


async def test_larger_limit_applies_only_under_its_prefix() -> None:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.post("/api/v1/register/import", content=b"x" * 900)).json() == {"bytes": 900}
        assert (await client.post("/api/v1/register/import", content=b"x" * 1001)).status_code == 413
        assert (await client.post("/api/v1/tickets", content=b"x" * 101)).status_code == 413
        async def chunks():  # type: ignore[no-untyped-def]
            yield b"x" * 60
            yield b"x" * 60

        refused = await client.post("/api/v1/tickets", content=chunks())  # no Content-Length
        assert refused.status_code == 413 and "100 bytes" in refused.json()["detail"][0]["msg"]
