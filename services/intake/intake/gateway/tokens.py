"""The gateway's half of internal authentication: one signing key, and a short-lived token per forwarded request.

The key is INTAKE_INTERNAL_SIGNING_KEY (Ed25519, PEM); the services hold only its public half. Outside production a
missing key is made up per process with a warning: the gateway still answers, but the services behind it (which
verify with the configured public key) refuse what it forwards until the pair is configured. Production refuses to
start without one (see settings).
"""

from __future__ import annotations

import logging

from opsdesk_shared.internal_auth import Caller, TokenMinter, generate_keypair

from ..domain import Actor

log = logging.getLogger(__name__)


def internal_minter(signing_key: str, *, environment: str) -> TokenMinter:
    if signing_key.strip():
        return TokenMinter(signing_key)
    if environment == "production":
        raise ValueError("INTAKE_INTERNAL_SIGNING_KEY is required in production")
    log.warning(
        "INTAKE_INTERNAL_SIGNING_KEY is not set; signing internal tokens with a key pair made up for this process, "
        "which no service behind the gateway trusts"
    )
    return TokenMinter(generate_keypair()[0])


def caller_of(actor: Actor) -> Caller:
    """The person or system the gateway authenticated, as the services behind it will see them."""
    return Caller(
        subject=actor.subject, role=actor.role, department=actor.department, engineer_id=actor.engineer_id,
        name=actor.name or None,
    )


def authorization(minter: TokenMinter, caller: Caller, *, audience: str) -> dict[str, str]:
    """The Authorization header for one request to one service."""
    return {"Authorization": "Bearer " + minter.mint(caller, audience=audience)}
