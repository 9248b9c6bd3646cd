"""Security events as one JSON log line each (logger `intake.security`, `"security_event": <kind>`), so an operator
can alert on them without parsing prose: failed sign-in, throttled, password changed, user created or changed, key
created, rotated or revoked. Secrets and passwords never appear; usernames, key names and addresses do."""

from __future__ import annotations

import logging
from typing import Literal

log = logging.getLogger("intake.security")

SecurityEvent = Literal[
    "sign_in_failed",
    "sign_in_throttled",
    "signed_in",
    "password_change_failed",
    "password_change_throttled",
    "password_changed",
    "user_created",
    "user_changed",
    "key_created",
    "key_rotated",
    "key_revoked",
]


def security_event(kind: SecurityEvent, *, by: str | None, **fields: object) -> None:
    """Log one security event; `by` is who did it (a username, `key:<name>`, `cli`, or None when unknown)."""
    level = logging.WARNING if kind.endswith(("_failed", "_throttled")) else logging.INFO
    log.log(level, kind.replace("_", " "), extra={"fields": {"security_event": kind, "by": by, **fields}})
