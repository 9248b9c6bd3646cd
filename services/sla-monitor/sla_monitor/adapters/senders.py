"""Real notification channels: SMTP email (aiosmtplib) and a generic JSON webhook (httpx)."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import aiosmtplib
import httpx


class SmtpEmailSender:
    def __init__(self, *, host: str, port: int, sender: str, timeout_s: float = 10.0) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._timeout_s = timeout_s

    async def send(self, *, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        await aiosmtplib.send(message, hostname=self._host, port=self._port, timeout=self._timeout_s)


class HttpWebhookSender:
    def __init__(self, *, timeout_s: float = 10.0) -> None:
        self._client = httpx.AsyncClient(timeout=timeout_s)

    async def post(self, *, url: str, payload: dict[str, Any]) -> None:
        response = await self._client.post(url, json=payload)
        response.raise_for_status()

    async def close(self) -> None:
        await self._client.aclose()
