"""Every answer of the gateway says its language (issue 13, H1 item 10): `Content-Language` is the language the
caller's Accept-Language picked (zh-CN, zh-TW or en, the same choice the error shape and the catalogue's names make),
on successful answers as on errors. A routed service that set its own is passed through unchanged."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from opsdesk_shared.errors import language_of


class ContentLanguage:
    """Adds Content-Language to every HTTP response that has none."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = next((v for k, v in scope.get("headers", ()) if k == b"accept-language"), b"")
        language = language_of(wanted.decode("latin-1")).encode()

        async def said(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if not any(k.lower() == b"content-language" for k, _ in headers):
                    headers.append((b"content-language", language))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, said)
