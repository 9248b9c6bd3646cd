"""Deliver a generated report: a JSON webhook (httpx) and/or email with the PDF attached (aiosmtplib)."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import aiosmtplib
import httpx

from ..i18n import t


class ReportDelivery:
    def __init__(self, *, webhook_urls: list[str], email_to: list[str], smtp_host: str, smtp_port: int, sender: str,
                 download_base: str, timeout_s: float = 10.0) -> None:
        self._webhooks = webhook_urls
        self._email_to = email_to
        self._smtp = (smtp_host, smtp_port)
        self._sender = sender
        self._base = download_base.rstrip("/")
        self._timeout_s = timeout_s

    def _links(self, report_id: str) -> dict[str, str]:
        return {fmt: f"{self._base}/reports/stored/{report_id}?format={fmt}" for fmt in ("json", "xlsx", "pdf")}

    async def deliver(self, *, report: dict[str, Any], files: dict[str, bytes]) -> list[str]:
        channels: list[str] = []
        if self._webhooks:
            payload = {"event": "report.generated", "report_id": report["_id"], "kind": report["kind"], "period": report["period"],
                       "title": report["title"], "lang": report["lang"], "links": self._links(report["_id"])}
            async with httpx.AsyncClient(timeout=self._timeout_s) as client:
                for url in self._webhooks:
                    response = await client.post(url, json=payload)
                    response.raise_for_status()
            channels.append("webhook")
        if self._email_to:
            message = EmailMessage()
            message["From"] = self._sender
            message["To"] = ", ".join(self._email_to)
            message["Subject"] = report["title"]
            message.set_content(f"{report['title']}\n{t('period', report['lang'])}: {report['period']}\n\n"
                                + "\n".join(self._links(report["_id"]).values()))
            message.add_attachment(files["pdf"], maintype="application", subtype="pdf", filename=f"{report['kind']}-{report['period']}.pdf")
            message.add_attachment(files["xlsx"], maintype="application",
                                   subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                   filename=f"{report['kind']}-{report['period']}.xlsx")
            await aiosmtplib.send(message, hostname=self._smtp[0], port=self._smtp[1], timeout=self._timeout_s)
            channels.append("email")
        return channels
