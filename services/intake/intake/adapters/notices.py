"""Adapters of the requester notices (notices.py): the SMTP mailer (aiosmtplib, as the SLA monitor and reporting
send) and the record of sent notices in intake's database, with its memory twin for tests. In a file of their own
so the notice feature is in one place beside the ticket store's adapters."""

from __future__ import annotations

import contextlib
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from opsdesk_shared.contracts import utcnow
from opsdesk_shared.mongo import Document

SENT_NOTICES = "requester_notices"


class SmtpRequesterMailer:
    """One plain-text mail per notice through the configured SMTP server; raises when the server refuses it."""

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
        message["Message-ID"] = make_msgid(domain=self._sender.rpartition("@")[2] or None)
        message.set_content(body)  # UTF-8, so Chinese text travels as it is
        await aiosmtplib.send(message, hostname=self._host, port=self._port, timeout=self._timeout_s)


class MongoSentNotices:
    """Sent notices by key (event id and occasion), one document each."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._sent = db[SENT_NOTICES]

    async def sent(self, key: str) -> bool:
        return await self._sent.find_one({"_id": key}, {"_id": 1}) is not None

    async def mark(self, key: str) -> None:
        # Another replica may have sent and marked it between our check and now: marked either way.
        with contextlib.suppress(DuplicateKeyError):
            await self._sent.insert_one({"_id": key, "sent_at": utcnow()})


class MemorySentNotices:
    def __init__(self) -> None:
        self.keys: set[str] = set()

    async def sent(self, key: str) -> bool:
        return key in self.keys

    async def mark(self, key: str) -> None:
        self.keys.add(key)
