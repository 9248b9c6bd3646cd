"""`GET /events/ticket` against a stand-in gateway: the page's ticket for the gateway's own event stream.

The console asks `POST /api/v1/events/tickets` with the session's token and gives the page only the ticket; signed
out (no session, or the gateway refusing the session's token) is a 401 the page answers by going to sign in.
"""

from __future__ import annotations

import time

import httpx

from console.main import create_app
from console.session import SESSION_COOKIE, Session, SessionSealer
from console.settings import ConsoleSettings

SECRET = "s" * 40
TICKET = "eyJ.ticket.sig"


class Gateway:
    def __init__(self, status: int = 201, retry_after: str | None = None) -> None:
        self.status = status
        self.retry_after = retry_after
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if request.url.path != "/api/v1/events/tickets" or request.method != "POST":
            return httpx.Response(404, json={"code": "not_found", "message": "没有找到"})
        if self.status != 201:
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            return httpx.Response(self.status, json={"code": "refused", "message": "no"}, headers=headers)
        return httpx.Response(201, json={"ticket": TICKET, "expires_at": "2026-11-30T21:01:00+08:00"})


async def ask(fake: Gateway, *, signed_in: bool = True, path: str = "/events/ticket") -> httpx.Response:
    upstream = httpx.AsyncClient(transport=httpx.MockTransport(fake), base_url="http://gw")
    app = create_app(ConsoleSettings(session_secret=SECRET), client=upstream)
    cookies = {}
    if signed_in:
        session = Session("session-token", "agent1", "某人", "agent", None, None, time.time() + 3600)
        cookies[SESSION_COOKIE] = SessionSealer(SECRET).seal(session)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console", cookies=cookies)
    async with app.router.lifespan_context(app), client:
        return await client.get(path, headers={"accept-language": "en"})


async def test_signed_in_the_page_gets_a_ticket_asked_with_the_sessions_token_and_never_the_token() -> None:
    fake = Gateway()
    answer = await ask(fake)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    assert answer.json() == {"ticket": TICKET, "expires_at": "2026-11-30T21:01:00+08:00"}
    assert answer.headers["cache-control"] == "no-store"
    assert "session-token" not in answer.text
    (call,) = fake.seen
    assert call.headers["authorization"] == "Bearer session-token" and call.headers["accept-language"] == "en"


async def test_signed_out_is_401_without_asking_the_gateway() -> None:
    fake = Gateway()
    answer = await ask(fake, signed_in=False)
    assert answer.status_code == 401 and answer.json() == {"signed_in": False}
    assert not fake.seen


async def test_a_session_whose_token_the_gateway_refuses_is_401() -> None:
    answer = await ask(Gateway(status=401))
    assert answer.status_code == 401 and answer.json() == {"signed_in": False}


async def test_a_full_gateway_passes_its_retry_after_and_an_outage_is_503() -> None:
    full = await ask(Gateway(status=429, retry_after="10"))
    assert full.status_code == 429 and full.headers["retry-after"] == "10"
    down = await ask(Gateway(status=500))
    assert down.status_code == 503 and down.headers["retry-after"] == "15"


async def test_the_old_relay_is_gone_and_asks_the_gateway_for_nothing() -> None:
    fake = Gateway()
    answer = await ask(fake, path="/events")
    assert answer.status_code in (404, 405) and fake.seen == []
