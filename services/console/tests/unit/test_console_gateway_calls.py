"""The console's calls to the gateway carry what the gateway needs: the browser's address stamp on sign-in."""

from __future__ import annotations

import httpx

from console.api import CLIENT_ADDRESS_HEADER, Gateway


async def test_sign_in_relays_the_gateways_address_stamp_and_nothing_without_one() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"access_token": "t", "expires_in": 60})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://gw") as client:
        api = Gateway(client)
        await api.sign_in("zhou", "pw", lang="zh-CN", client_address="10.1.2.3;1;abc")
        await api.sign_in("zhou", "pw", lang="zh-CN")

    assert seen[0].url.path == "/api/v1/auth/token"
    assert seen[0].headers[CLIENT_ADDRESS_HEADER] == "10.1.2.3;1;abc"
    assert CLIENT_ADDRESS_HEADER not in seen[1].headers
