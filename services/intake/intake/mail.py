"""Mail to the desk, as a mail gateway's webhook posts it (a raw RFC 822 message): what the ticket needs from it.

Replies are threaded by the ticket number in the subject ("Re: [INC-2026-000123] ..."); the quoted history
below the reply is cut so the ticket keeps only what is new.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr

NUMBER = re.compile(r"\b(INC-\d{4}-\d{6,})\b")
_QUOTE_HEADER = re.compile(r"^(On .+ wrote:|.+於.+寫道[:：]|.+于.+写道[:：]|-----Original Message-----|-----原始邮件-----)\s*$")
_TAG = re.compile(r"<[^>]+>")


class BadMail(ValueError):
    """The body is not a mail we can read (no From address, or nothing parseable)."""


@dataclass(frozen=True)
class Mail:
    message_id: str
    from_name: str
    from_address: str
    subject: str
    body: str
    ticket_number: str | None


# Tried in turn when a mail declares no charset (common for 8-bit Chinese mail) or a charset that does not decode.
FALLBACK_CHARSETS = ("utf-8", "gb18030", "big5")


def _decode(payload: bytes) -> str:
    for charset in FALLBACK_CHARSETS:
        try:
            return payload.decode(charset)
        except UnicodeDecodeError:
            continue
    return payload.decode("utf-8", errors="replace")


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    declared = part.get_content_charset()
    try:
        if declared is None:
            raise LookupError("no charset declared")
        content = part.get_content()
    except (LookupError, UnicodeDecodeError):
        # No, an unknown or a lying charset: keep what decodes rather than refuse the mail.
        payload = part.get_payload(decode=True)
        content = _decode(payload) if isinstance(payload, bytes) else str(payload)
    if not isinstance(content, str):
        return ""
    if part.get_content_type() == "text/html":
        content = html.unescape(_TAG.sub(" ", content))
    return content


def new_text(body: str) -> str:
    """The reply above the quoted history."""
    kept: list[str] = []
    for line in body.splitlines():
        if line.startswith(">") or _QUOTE_HEADER.match(line.strip()):
            break
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def parse(raw: bytes) -> Mail:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    name, address = parseaddr(str(message.get("From", "")))
    if "@" not in address:
        raise BadMail("the mail has no From address")
    subject = " ".join(str(message.get("Subject", "")).split())
    message_id = str(message.get("Message-ID", "")).strip()
    if not message_id:
        # Without a Message-ID, the content itself identifies a redelivered mail.
        message_id = "<sha256:" + hashlib.sha256(raw).hexdigest() + ">"
    body = _text(message)
    found = NUMBER.search(subject)
    return Mail(
        message_id=message_id[:300],
        from_name=(name or address.split("@")[0])[:100],
        from_address=address[:254],
        subject=subject,
        body=body,
        ticket_number=found.group(1) if found else None,
    )
