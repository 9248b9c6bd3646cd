"""Password hashing with argon2id; the hashing cost is a constructor argument so tests can run cheaply."""

from __future__ import annotations

import threading

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..texts import Said

MIN_LENGTH = 8
MAX_LENGTH = 128

# argon2 at the default cost takes 64 MiB and tens of milliseconds per call: at most this many run at once,
# so a burst of logins queues instead of exhausting memory.
_hashing_slots = threading.BoundedSemaphore(4)


class Passwords:
    """Hashes and checks passwords; argon2-cffi's defaults (RFC 9106 low-memory profile) unless told otherwise."""

    def __init__(self, *, time_cost: int | None = None, memory_cost: int | None = None, parallelism: int | None = None) -> None:
        defaults = PasswordHasher()
        self._hasher = PasswordHasher(
            time_cost=time_cost or defaults.time_cost,
            memory_cost=memory_cost or defaults.memory_cost,
            parallelism=parallelism or defaults.parallelism,
            type=Type.ID,
        )
        # Verifying against this for an unknown user makes a miss cost what a wrong password costs.
        self._dummy = self._hasher.hash("opsdesk-dummy-password-for-timing")

    @classmethod
    def cheap(cls) -> Passwords:
        """Minimal cost, for tests only."""
        return cls(time_cost=1, memory_cost=8, parallelism=1)

    def hash(self, password: str) -> str:
        check_length(password)
        with _hashing_slots:
            return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when `password` matches; a missing hash still costs one verification."""
        with _hashing_slots:
            try:
                return self._hasher.verify(stored_hash or self._dummy, password) and stored_hash is not None
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with other parameters than today's."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True


class PasswordRejected(ValueError):
    """The password breaks the length rule."""


def check_length(password: str) -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise PasswordRejected(Said("err.password_length", min=MIN_LENGTH, max=MAX_LENGTH))
