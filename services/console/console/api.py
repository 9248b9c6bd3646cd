"""The gateway's public API, as the console uses it: one method per call, the signed-in user's bearer token on each.

Nothing here decides anything; a refusal comes back as `ApiError` carrying the API's own error shape (code,
message in the caller's language, field details) so a page can show it as the API said it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

API = "/api/v1"
# The gateway's stamp of the browser's address, which its console proxy adds to every request it forwards here.
CLIENT_ADDRESS_HEADER = "X-Opsdesk-Client-Address"
Json = dict[str, Any]


@dataclass
class ApiError(Exception):
    status: int
    code: str = ""
    message: str = ""
    detail: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    def field_messages(self) -> list[str]:
        """'field: reason' for each field a 422 names, or the message alone."""
        if isinstance(self.detail, list):
            out = []
            for item in self.detail:
                if isinstance(item, dict):
                    loc = [str(p) for p in item.get("loc", []) if p not in ("body", "query")]
                    out.append(f"{'.'.join(loc)}: {item.get('msg', '')}" if loc else str(item.get("msg", "")))
            if out:
                return out
        if isinstance(self.detail, str) and self.detail.strip():
            return [self.detail]  # the API's own reason (e.g. why a 403 or 409), not only the generic message
        return [self.message or self.code or str(self.status)]


def _error(reply: httpx.Response) -> ApiError:
    try:
        body = reply.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    detail = body.get("detail")
    message = body.get("message") or (detail if isinstance(detail, str) else "") or reply.reason_phrase
    return ApiError(reply.status_code, str(body.get("code", "")), str(message), detail, dict(reply.headers))


@dataclass
class Reply:
    body: Any
    etag: str | None = None
    replayed: bool = False  # Idempotent-Replayed: the act had been done before; nothing changed now


class Gateway:
    """One httpx client for the process; every call names the token and language of the person it is for."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def call(
        self, method: str, path: str, *, token: str | None, lang: str, params: Any = None, json: Any = None,
        if_match: str | None = None, headers: Mapping[str, str] | None = None,
    ) -> Reply:
        headers = {"Accept-Language": lang, "Accept": "application/json", **(headers or {})}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if if_match:
            headers["If-Match"] = if_match
        try:
            reply = await self.client.request(method, API + path, params=params, json=json, headers=headers)
        except httpx.HTTPError as exc:
            raise ApiError(503, "service_unavailable", f"gateway unreachable: {type(exc).__name__}") from None
        if reply.status_code >= 400:
            raise _error(reply)
        body = reply.json() if reply.content and reply.headers.get("content-type", "").startswith("application/json") else None
        return Reply(body, reply.headers.get("etag"), reply.headers.get("idempotent-replayed") == "true")

    # --- identity -------------------------------------------------------------------------------------------------
    async def sign_in(self, username: str, password: str, *, lang: str, client_address: str | None = None) -> Json:
        """`client_address` is the gateway's own stamp of the browser's address (X-Opsdesk-Client-Address, set by its
        console proxy), relayed unchanged so the sign-in throttle counts this browser, not the console's address."""
        extra = {CLIENT_ADDRESS_HEADER: client_address} if client_address else None
        reply = await self.call(
            "POST", "/auth/token", token=None, lang=lang, json={"username": username, "password": password}, headers=extra,
        )
        return reply.body  # type: ignore[no-any-return]

    async def me(self, token: str, *, lang: str) -> Json:
        return (await self.call("GET", "/me", token=token, lang=lang)).body  # type: ignore[no-any-return]

    async def people(self, token: str, q: str, *, lang: str, limit: int = 8) -> list[Json]:
        """GET /people: the desk's directory (name, department, phone, e-mail, user name) by name, phone or department."""
        page = (await self.call("GET", "/people", token=token, lang=lang, params={"q": q, "limit": limit})).body
        return list(page["items"])

    # --- tickets --------------------------------------------------------------------------------------------------
    async def tickets(self, token: str, *, lang: str, params: list[tuple[str, str]]) -> Json:
        return (await self.call("GET", "/tickets", token=token, lang=lang, params=params)).body  # type: ignore[no-any-return]

    async def ticket_counts(self, token: str, *, lang: str, params: list[tuple[str, str]]) -> dict[str, int]:
        """GET /tickets/counts: the desk's listed queues (open, mine, held, unassigned, waiting, review) counted at once."""
        return dict((await self.call("GET", "/tickets/counts", token=token, lang=lang, params=params)).body)

    # --- SLA clocks ------------------------------------------------------------------------------------------------
    async def timers(
        self, token: str, *, lang: str, params: list[tuple[str, str]], limit: int = 500, pages: int = 10,
    ) -> tuple[list[Json], bool]:
        """GET /timers (the SLA monitor's list of clocks, due first), every page up to `pages`; True when more were left."""
        items: list[Json] = []
        cursor: str | None = None
        for _ in range(pages):
            query = [*params, ("limit", str(limit)), *([("cursor", cursor)] if cursor else [])]
            page = (await self.call("GET", "/timers", token=token, lang=lang, params=query)).body
            items += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return items, False
        return items, True

    async def ticket(self, token: str, ref: str, *, lang: str) -> Reply:
        return await self.call("GET", f"/tickets/{ref}", token=token, lang=lang)

    async def history(self, token: str, ref: str, *, lang: str) -> list[Json]:
        return (await self.call("GET", f"/tickets/{ref}/history", token=token, lang=lang)).body  # type: ignore[no-any-return]

    async def create_ticket(self, token: str, body: Json, *, lang: str) -> Reply:
        return await self.call("POST", "/tickets", token=token, lang=lang, json=body)

    async def act(self, token: str, ref: str, action: str, body: Json | None, *, lang: str, if_match: str | None = None) -> Reply:
        """POST /tickets/{ref}/{action} (status, resolve, dispatch, guidance, comments, close, reopen, service-record/review)."""
        return await self.call("POST", f"/tickets/{ref}/{action}", token=token, lang=lang, json=body, if_match=if_match)

    async def reassign(self, token: str, ref: str, *, to: str, reason: str, lang: str) -> Json:
        return (await self.call("POST", f"/assignments/{ref}/reassign", token=token, lang=lang, json={"to": to, "reason": reason})).body  # type: ignore[no-any-return]

    async def engineers(self, token: str, *, lang: str) -> list[Json]:
        return (await self.call("GET", "/engineers", token=token, lang=lang)).body  # type: ignore[no-any-return]

    async def assignments(self, token: str, *, lang: str, params: list[tuple[str, str]]) -> Json:
        return (await self.call("GET", "/assignments", token=token, lang=lang, params=params)).body  # type: ignore[no-any-return]

    async def assignment_step(self, token: str, ref: str, step: str, body: Json | None, *, lang: str) -> Json:
        """POST /assignments/{ref}/{step}: accept, confirm, delay, help, escalations, complete (dispatch decides who may)."""
        return (await self.call("POST", f"/assignments/{ref}/{step}", token=token, lang=lang, json=body)).body  # type: ignore[no-any-return]

    async def assignment(self, token: str, ref: str, *, lang: str) -> Json:
        return (await self.call("GET", f"/assignments/{ref}", token=token, lang=lang)).body  # type: ignore[no-any-return]

    # --- assets and spares ----------------------------------------------------------------------------------------
    async def asset(self, token: str, tag: str, *, lang: str) -> Json:
        return (await self.call("GET", f"/assets/{tag}", token=token, lang=lang)).body  # type: ignore[no-any-return]

    async def spares(self, token: str, *, lang: str, params: list[tuple[str, str]]) -> Json:
        return (await self.call("GET", "/spares", token=token, lang=lang, params=params)).body  # type: ignore[no-any-return]

    # --- catalog and knowledge ------------------------------------------------------------------------------------
    async def catalog(self, token: str, *, lang: str) -> list[Json]:
        return (await self.call("GET", "/catalog", token=token, lang=lang)).body  # type: ignore[no-any-return]

    async def priority_matrix(self, token: str, *, lang: str) -> Json:
        """GET /catalog/priority-matrix: impact x urgency -> priority, as intake decides it (intake/priority.py)."""
        return (await self.call("GET", "/catalog/priority-matrix", token=token, lang=lang)).body  # type: ignore[no-any-return]

    async def kb_search(self, token: str, q: str, *, lang: str, limit: int = 5) -> Json:
        return (await self.call("GET", "/kb/search", token=token, lang=lang, params={"q": q, "limit": limit})).body  # type: ignore[no-any-return]

    async def kb_article(self, token: str, article_id: str, *, lang: str) -> Json:
        return (await self.call("GET", f"/kb/articles/{article_id}", token=token, lang=lang)).body  # type: ignore[no-any-return]

    async def kb_deflection(self, token: str, article_id: str, *, lang: str) -> Json:
        """POST /kb/deflections: the person stopped at this article instead of filing a ticket."""
        return (await self.call("POST", "/kb/deflections", token=token, lang=lang, json={"article_id": article_id})).body  # type: ignore[no-any-return]

