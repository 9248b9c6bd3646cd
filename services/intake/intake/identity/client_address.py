"""The browser's address, vouched for by the gateway, so sign-in throttling behind the console counts people apart.

Everyone signs in through the web console, whose calls all come from the console's one address: counting failures by
that address would let one mistyping agent (or one guesser) slow the whole desk. The gateway's console proxy knows the
browser's address; it drops any claim the browser sent (`X-Opsdesk-Client-Address`, `X-Forwarded-*`) and adds its own
`X-Opsdesk-Client-Address: <address>;<expires>;<mac>` to what it forwards to the console. The console passes that
value on unchanged with its sign-in call, and the sign-in route counts by the address only when the MAC is the
gateway's own and unexpired; anything else counts by the caller's own address, as before.

The MAC is an HMAC-SHA256 under a key derived from the user-token secret (INTAKE_JWT_SECRET), which every gateway
replica shares and no browser or console holds. A stamp lives 5 minutes (a sign-in form is filled in a minute or two);
replaying one only moves failures onto the address it names.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import time

HEADER = "x-opsdesk-client-address"
LIFETIME_S = 300


class ClientAddresses:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"opsdesk client address\x00" + secret.encode()).digest()

    def _mac(self, address: str, expires: int) -> str:
        return hmac.new(self._key, f"{address};{expires}".encode(), hashlib.sha256).hexdigest()

    def stamp(self, address: str, *, now: float | None = None) -> str:
        """The header value the proxy sets for the browser at `address`."""
        expires = int((time.time() if now is None else now) + LIFETIME_S)
        return f"{address};{expires};{self._mac(address, expires)}"

    def vouched(self, value: str | None, *, now: float | None = None) -> str | None:
        """The address a stamp names when it is ours and unexpired; None otherwise."""
        if not value or len(value) > 200:
            return None
        parts = value.strip().split(";")
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        address, expires, mac = parts[0], int(parts[1]), parts[2]
        if not hmac.compare_digest(mac, self._mac(address, expires)):
            return None
        if expires < (time.time() if now is None else now):
            return None
        try:
            ipaddress.ip_address(address)
        except ValueError:
            return None
        return address
