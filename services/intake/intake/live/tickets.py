"""Event stream tickets: a short-lived credential good for one thing, opening `GET /api/v1/events/stream?ticket=...`.

A browser's EventSource cannot set an Authorization header, and the console keeps the person's bearer token in its
server-side session (the cookie is HttpOnly). So the console asks the gateway for a ticket with that token and hands
the browser only the ticket, which the browser puts in the stream's URL.

A ticket is a JWT signed with the gateway's user-token key, with its own audience (`AUDIENCE`): every bearer route
refuses it (identity/tokens.py refuses a token that names an audience), and the stream refuses a user's token passed
as a ticket (it lacks the audience). It opens streams for `TTL_S` seconds after issue; a stream opened in time stays
open as a bearer-opened one does. At opening, a person's ticket is checked against their record as a bearer token
is (unknown, disabled, or all their tokens cut off since: 401); role, department and roster link come from the
record; an API key's ticket is refused once the key is revoked, and takes its role from the key's record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import HTTPException

from ..identity.authenticator import MAX_TOKEN_LENGTH, Authenticator, unauthorized
from ..identity.ports import ApiKeyStore
from ..identity.principal import Principal
from ..identity.tokens import TokenRejected, TokenSigner
from ..texts import Said

AUDIENCE = "opsdesk:events.stream"
TTL_S = 60
# Clocks of one machine (or of replicas kept in step): a few seconds of leeway, not a user token's half minute.
LEEWAY_S = 5


@dataclass(frozen=True)
class Issued:
    ticket: str
    expires_at: datetime


class StreamTickets:
    def __init__(self, signer: TokenSigner, authenticator: Authenticator, keys: ApiKeyStore, *, ttl_s: int = TTL_S) -> None:
        self._signer = signer
        self._authenticator = authenticator
        self._keys = keys
        self.ttl_s = ttl_s

    def issue(self, principal: Principal, *, now: datetime | None = None) -> Issued:
        issued = now or datetime.now(UTC)
        claims = {
            "sub": principal.subject, "via": principal.via, "role": principal.role, "name": principal.name,
            "dept": principal.department, "eng": principal.engineer_id,
        }
        token = self._signer.issue_for(AUDIENCE, claims, ttl_s=self.ttl_s, now=issued)
        return Issued(ticket=token, expires_at=issued + timedelta(seconds=self.ttl_s))

    async def principal(self, ticket: str) -> Principal:
        """Who the ticket opens a stream for; a 401 (the one error shape) when it is not a good ticket."""
        if not ticket or len(ticket) > MAX_TOKEN_LENGTH:
            raise _refused("ticket missing or too long")
        try:
            claims = self._signer.verify(ticket, audience=AUDIENCE, leeway_s=LEEWAY_S)
        except TokenRejected as exc:
            raise _refused(str(exc)) from None
        if claims.get("via") == "api_key":
            name = str(claims["sub"]).removeprefix("key:")
            key = await self._keys.by_name(name)
            if key is None or not key.active(datetime.now(UTC)):
                raise unauthorized(Said("err.key_revoked_auth"))
            return Principal(subject=f"key:{key.name}", name=key.name, role=key.role, via="api_key")
        if claims.get("via") != "jwt":
            raise _refused("token malformed")
        return await self._authenticator.user_principal(claims["sub"], issued_at=float(claims["iat"]))


def _refused(why: str) -> HTTPException:
    return unauthorized(Said("err.stream_ticket_invalid", why=why))
