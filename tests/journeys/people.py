"""The people of a desk's day: re-exported from `opsdesk_devstack.people`, the one sign-in module every test layer
shares (kept here so journey modules import `.people` as before)."""

from __future__ import annotations

from opsdesk_devstack.people import (
    LOCAL_OFFSET,
    PASSWORD,
    ROSTER,
    TIMEOUT,
    admin,
    assigned,
    authorization_restored,
    create_user,
    engineer,
    engineers,
    error_message,
    in_language,
    is_chinese,
    sign_in,
    ticket,
    token_for,
    unique,
    wait_for,
    wait_for_status,
)

__all__ = [
    "LOCAL_OFFSET", "PASSWORD", "ROSTER", "TIMEOUT", "admin", "assigned", "authorization_restored", "create_user", "engineer", "engineers",
    "error_message", "in_language", "is_chinese", "sign_in", "ticket", "token_for", "unique", "wait_for",
    "wait_for_status",
]
