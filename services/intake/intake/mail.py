"""Mail to the desk, as a mail gateway's webhook posts it (a raw RFC 822 message): what the ticket needs from it.

Replies are threaded by the ticket number in the subject ("Re: [INC-2026-000123] ..."); the quoted history
below the reply is cut so the ticket keeps only what is new.

Everything here is linear in the size of the mail (issue 12, finding 7: the quote-header pattern `.+於.+寫道` and
the tag pattern `<[^>]+>` backtracked quadratically, 4.5 s for a 64k-character body, and the standard library's
structured header parser is quadratic on long From or Content-Type values). So: no regular expression with two
unbounded quantifiers that can overlap, quoted history is found line by line with plain string tests, the message is
read with the `compat32` policy (headers kept as text, no structured parsing) and every header value is cut to a
bounded length before anything interprets it. Callers still run `parse` off the event loop (5 MiB is a lot of text).
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.utils import parseaddr
from typing import Any

# Candidates start only at "INC-" and a digit run is scanned once, so this stays linear on any subject.
NUMBER = re.compile(r"\b(INC-\d{4}-\d{6,})\b")
# `[^<>]` cannot run past the next "<", so a failed match costs the distance to it, not to the end of the text.
_TAG = re.compile(r"<[^<>]*>")
_SEPARATORS = frozenset({"-----Original Message-----", "-----原始邮件-----", "-----原始郵件-----"})
# (marker before the date, marker of "wrote") for Chinese clients: "王小明 於 2026年3月16日 寫道:".
_WROTE = (("於", "寫道"), ("于", "写道"))
# Longest header value we interpret. RFC 5322 caps a line at 998 characters; a From, Subject or Content-Type longer
# than a few of those is an attack on the parser, not a mail.
MAX_HEADER_CHARS = 4000
MAX_SUBJECT_CHARS = 1000
# Header blocks go through the standard parser's line loop (about 6 us a line), so they are bounded; so are the
# parts and the nesting of a multipart mail (a real one has a handful of each).
MAX_HEADER_BYTES = 256 * 1024
MAX_PARTS = 2000
MAX_DEPTH = 10


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
    reply: str = ""  # the text above the quoted history (new_text of the body), computed with the parse


class _BoundedHeaders(policy.Compat32):
    """compat32, returning every header value as its raw text cut to a bounded length: the parser's own boundary
    lookup included. Raw 8-bit values stay surrogate-escaped; `_header` decodes them."""

    def header_fetch_parse(self, name: str, value: str) -> Any:
        return value[:MAX_HEADER_CHARS]


_POLICY = _BoundedHeaders()

# Tried in turn when a mail declares no charset (common for 8-bit Chinese mail) or a charset that does not decode.
FALLBACK_CHARSETS = ("utf-8", "gb18030", "big5")


def _decode(payload: bytes) -> str:
    for charset in FALLBACK_CHARSETS:
        try:
            return payload.decode(charset)
        except UnicodeDecodeError:
            continue
    return payload.decode("utf-8", errors="replace")


def _header(message: Message, name: str, limit: int = MAX_HEADER_CHARS) -> str:
    """A header as text: unfolded, raw 8-bit values (common for Chinese mail) decoded like bodies, RFC 2047 words
    decoded."""
    value = str(message.get(name) or "")[:limit].replace("\r\n", "").replace("\n", "")
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        try:
            value = _decode(value.encode("ascii", "surrogateescape"))
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8")
    if "=?" in value:
        # An encoded word that does not decode is shown as sent.
        with contextlib.suppress(LookupError, UnicodeError, ValueError):
            value = str(make_header(decode_header(value)))
    return value


def _body_part(parts: Iterable[Message]) -> Message | None:
    """The first inline text/plain part, else the first inline text/html one (what a mail client shows)."""
    html_part: Message | None = None
    for part in parts:
        if part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if kind == "text/plain":
            return part
        if kind == "text/html" and html_part is None:
            html_part = part
    return html_part


def _text(parts: Iterable[Message]) -> str:
    part = _body_part(parts)
    if part is None:
        return ""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    declared = part.get_content_charset()
    try:
        if declared is None:
            raise LookupError("no charset declared")
        content = payload.decode(declared, errors="replace")
    except LookupError:
        # No or an unknown charset: keep what decodes rather than refuse the mail.
        content = _decode(payload)
    if part.get_content_type() == "text/html":
        content = html.unescape(_TAG.sub(" ", content))
    return content


def _quote_header(line: str) -> bool:
    """"On <date>, <name> wrote:", "<name> 於 <date> 寫道:" or an "Original Message" separator, by string tests only."""
    s = line.strip()
    if s in _SEPARATORS:
        return True
    if s.startswith("On ") and s.endswith(" wrote:") and len(s) > len("On  wrote:"):
        return True
    for at, wrote in _WROTE:
        for colon in (":", "："):
            if s.endswith(wrote + colon):
                end = len(s) - len(wrote) - 1
                # Something before the marker, and something between it and "wrote".
                if s.find(at, 1, end - 1) != -1:
                    return True
    return False


def _lines(body: str) -> Iterator[str]:
    """The body's lines as `str.splitlines` cuts them, one "\\n" piece at a time, so a reply above a long quoted
    history costs the reply, not the history."""
    start = 0
    while start < len(body):
        end = body.find("\n", start)
        piece = body[start:] if end == -1 else body[start:end]
        yield from piece.splitlines() or [""]
        start = len(body) if end == -1 else end + 1


def new_text(body: str) -> str:
    """The reply above the quoted history."""
    kept: list[str] = []
    for line in _lines(body):
        if line.startswith(">") or _quote_header(line):
            break
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def _split(raw: bytes) -> tuple[bytes, bytes]:
    """The header block and the body, at the first empty line."""
    for blank in (b"\r\n", b"\n"):
        if raw.startswith(blank):
            return b"", raw[len(blank) :]  # no headers at all (a MIME part may have none)
    ends = [(at, len(sep)) for sep in (b"\r\n\r\n", b"\n\n") if (at := raw.find(sep)) != -1]
    if not ends:
        return raw, b""
    at, width = min(ends)
    return raw[: at + width // 2], raw[at + width :]


def _headers(head: bytes) -> Message:
    if len(head) > MAX_HEADER_BYTES:
        raise BadMail(f"the mail's headers are larger than {MAX_HEADER_BYTES // 1024} KiB")
    return BytesParser(policy=_POLICY).parsebytes(head, headersonly=True)


def _sections(body: bytes, boundary: bytes) -> Iterator[bytes]:
    """The parts of a multipart body: what lies between its delimiter lines ("--boundary", "--boundary--" closes),
    found with bytes.find, so each byte is looked at a bounded number of times."""
    text = b"\n" + body
    delimiter = b"\n--" + boundary
    start: int | None = None
    at = text.find(delimiter)
    while at != -1:
        after = at + len(delimiter)
        line_end = text.find(b"\n", after)
        rest = text[after : line_end if line_end != -1 else len(text)]
        closing = rest.startswith(b"--")
        if not (rest[2:] if closing else rest).strip(b" \t\r"):  # else a longer boundary that starts alike: content
            if start is not None:
                yield text[start:at].removesuffix(b"\r")
            if closing or line_end == -1:
                return
            start = line_end + 1
        at = text.find(delimiter, after)


def _leaves(message: Message, body: bytes, *, depth: int, seen: list[int]) -> Iterator[Message]:
    """Every single part of the mail, in order, each with its (still transfer-encoded) payload.

    Multipart bodies are split here rather than by the standard parser, whose line loop costs about 6 us a line and
    checks every line against every enclosing boundary (12 s for 50 nested parts around 150,000 short lines)."""
    seen[0] += 1
    if seen[0] > MAX_PARTS:
        raise BadMail(f"the mail has more than {MAX_PARTS} parts")
    if message.get_content_maintype() != "multipart":
        message.set_payload(body.decode("ascii", "surrogateescape"))
        yield message
        return
    boundary = message.get_boundary()
    if not boundary:
        return  # a multipart without a boundary has no part we could show
    if depth >= MAX_DEPTH:
        raise BadMail(f"the mail nests more than {MAX_DEPTH} multiparts deep")
    for section in _sections(body, boundary.encode("ascii", "surrogateescape")):
        head, inner = _split(section)
        yield from _leaves(_headers(head), inner, depth=depth + 1, seen=seen)


def parse(raw: bytes) -> Mail:
    head, rest = _split(raw)
    message = _headers(head)
    try:
        name, address = parseaddr(_header(message, "From", 1000))
    except RecursionError:
        raise BadMail("the mail's From address nests too deeply to read") from None
    subject = " ".join(_header(message, "Subject", MAX_SUBJECT_CHARS).split())
    message_id = _header(message, "Message-ID", 1000).strip()
    body = _text(_leaves(message, rest, depth=0, seen=[0]))
    if "@" not in address:
        raise BadMail("the mail has no From address")
    if not message_id:
        # Without a Message-ID, the content itself identifies a redelivered mail.
        message_id = "<sha256:" + hashlib.sha256(raw).hexdigest() + ">"
    found = NUMBER.search(subject)
    return Mail(
        message_id=message_id[:300],
        from_name=(name or address.split("@")[0])[:100],
        from_address=address[:254],
        subject=subject,
        body=body,
        ticket_number=found.group(1) if found else None,
        reply=new_text(body),
    )
