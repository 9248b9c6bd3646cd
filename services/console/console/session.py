"""The session: the user's bearer token sealed in an HttpOnly cookie, and the CSRF token every change must carry.

The cookie is encrypted and authenticated (Fernet, keyed from CONSOLE_SESSION_SECRET), so the browser holds the
token without being able to read it, and any replica of the console can open it. CSRF is a double submit: a random
value in its own HttpOnly, SameSite=Strict cookie, rendered into the page (a hidden field, and the header htmx
sends); a state-changing request whose form field or X-CSRF-Token header differs from the cookie is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass

from cryptography.fernet import Fernet, InvalidToken

SESSION_COOKIE = "opsdesk_session"
CSRF_COOKIE = "opsdesk_csrf"
LANG_COOKIE = "opsdesk_lang"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"


@dataclass(frozen=True)
class Session:
    token: str
    username: str
    name: str
    role: str
    department: str | None
    engineer_id: str | None
    expires_at: float

    @property
    def is_desk(self) -> bool:
        return self.role in ("agent", "manager", "admin")


class SessionSealer:
    """Seals a Session into a cookie value and opens it again; an expired, altered or foreign cookie opens as None."""

    def __init__(self, secret: str) -> None:
        key = hashlib.sha256(("opsdesk-console-session:" + secret).encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, session: Session) -> str:
        return self._fernet.encrypt(json.dumps(asdict(session), separators=(",", ":")).encode()).decode()

    def open(self, value: str | None, *, now: float | None = None) -> Session | None:
        if not value:
            return None
        try:
            data = json.loads(self._fernet.decrypt(value.encode()))
            session = Session(**data)
        except (InvalidToken, ValueError, TypeError):
            return None
        if session.expires_at <= (time.time() if now is None else now):
            return None
        return session


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_matches(cookie: str | None, sent: str | None) -> bool:
    """Both present and equal (compared in constant time)."""
    return bool(cookie) and bool(sent) and hmac.compare_digest(str(cookie), str(sent))
