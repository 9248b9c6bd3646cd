"""Mail intake: the mail gateway's webhook posts each raw RFC 822 message here."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import BaseModel

from .. import metrics, service
from ..access import require
from ..mail import Mail, parse
from ..mail_senders import AccountMailSenders, NoMailSenders
from ..ports import MailSenders
from ..wiring import Adapters
from .deps import Caller, Wired, correlation, now, set_etag

router = APIRouter(prefix="/api/v1", tags=["mail"])
RAW_TYPES = ("message/rfc822", "text/plain", "application/octet-stream")
# Parsing is linear (about 0.5 s for the worst 5 MiB we know of); the budget answers for anything we do not know of.
# A thread cannot be stopped, so one that overruns finishes in the background, off the event loop all the same.
PARSE_BUDGET_S = 5.0


async def parse_off_loop(raw: bytes, *, budget_s: float = PARSE_BUDGET_S) -> Mail:
    """Parse in a worker thread, so a large mail never holds the event loop (and /healthz) while it is read."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(parse, raw), timeout=budget_s)
    except TimeoutError:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"loc": ["body"], "msg": f"the mail could not be read within {budget_s:g} s", "type": "value_error"}],
        ) from None


def _senders(wired: Adapters) -> MailSenders:
    users = getattr(wired.identity, "users", None)
    return AccountMailSenders(users) if users is not None else NoMailSenders()


class MailOutcome(BaseModel):
    outcome: str
    ticket_id: str
    number: str


@router.post(
    "/inbound/email",
    response_model=MailOutcome,
    status_code=status.HTTP_201_CREATED,
    summary="Create or update a ticket from a raw mail (message/rfc822)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "message/rfc822": {
                    "schema": {"type": "string", "format": "binary"},
                    "example": "From: 王小明 <wang@agency.example>\r\nSubject: 打印機卡紙\r\nMessage-ID: <a1@agency.example>\r\n\r\n三樓打印機卡紙\r\n",
                }
            },
        }
    },
)
async def inbound_email(request: Request, response: Response, wired: Wired, actor: Caller) -> MailOutcome:
    """A reply whose subject carries a ticket number ([INC-2026-000123]) becomes a comment on that ticket when its
    sender is the ticket's requester or a staff member's address; any other mail opens a ticket on the channel
    `email` (one quoting someone else's ticket says so in a work note). The same Message-ID posted twice changes
    nothing (200)."""
    require(actor, "edit")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in RAW_TYPES:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"post the raw message as one of {', '.join(RAW_TYPES)}")
    raw = await request.body()
    if not raw.strip():
        raise HTTPException(422, [{"loc": ["body"], "msg": "the mail is empty", "type": "value_error"}])
    mail = await parse_off_loop(raw)
    source = actor.model_copy(update={"source": "email"})
    ticket, outcome = await service.receive_mail(
        mail, desk=wired.desk, senders=_senders(wired), actor=source, now=now(), correlation_id=correlation(),
        service_code=wired.mail_service_code,
    )
    metrics.mails_received.labels(outcome).inc()
    if outcome == "created":
        metrics.tickets_created.labels(ticket.channel, ticket.service_code, ticket.priority).inc()
    if outcome != "created":
        response.status_code = status.HTTP_200_OK
    set_etag(response, ticket.version)
    return MailOutcome(outcome=outcome, ticket_id=ticket.id, number=ticket.number)
