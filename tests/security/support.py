"""Sign-ins and waits the security tests share: re-exported from `opsdesk_devstack.people`, the one sign-in module
every test layer uses."""

from __future__ import annotations

from opsdesk_devstack.people import PASSWORD, admin, engineers, minter_of, sign_in, wait_for

__all__ = ["PASSWORD", "admin", "engineers", "minter_of", "sign_in", "wait_for"]
