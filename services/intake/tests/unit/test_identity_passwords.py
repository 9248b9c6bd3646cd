"""Passwords are stored as salted argon2id hashes and checked in about the same time whether the user exists or not."""

from __future__ import annotations

import pytest

from intake.identity.passwords import PasswordRejected, Passwords


@pytest.fixture(scope="module")
def passwords() -> Passwords:
    return Passwords.cheap()


def test_hash_is_argon2id_and_verifies_only_the_same_password(passwords: Passwords) -> None:
    stored = passwords.hash("correct horse battery")

    assert stored.startswith("$argon2id$")
    assert "correct horse battery" not in stored
    assert passwords.verify(stored, "correct horse battery") is True
    assert passwords.verify(stored, "correct horse batterY") is False


def test_same_password_hashes_differently_each_time(passwords: Passwords) -> None:
    first, second = passwords.hash("辦公室密碼12345"), passwords.hash("辦公室密碼12345")

    assert first != second
    assert passwords.verify(first, "辦公室密碼12345") and passwords.verify(second, "辦公室密碼12345")


def test_missing_or_garbage_hash_never_verifies(passwords: Passwords) -> None:
    assert passwords.verify(None, "opsdesk-dummy-password-for-timing") is False
    assert passwords.verify("not-a-hash", "whatever123") is False


@pytest.mark.parametrize("password", ["short", "x" * 129, ""])
def test_password_outside_8_to_128_characters_is_refused(passwords: Passwords, password: str) -> None:
    with pytest.raises(PasswordRejected):
        passwords.hash(password)


def test_hash_made_with_other_parameters_needs_rehash(passwords: Passwords) -> None:
    stronger = Passwords(time_cost=2, memory_cost=16, parallelism=1)
    old = stronger.hash("password-from-2025")

    assert passwords.needs_rehash(old) is True
    assert passwords.needs_rehash(passwords.hash("password-from-2026")) is False
    assert passwords.verify(old, "password-from-2025") is True  # still accepted, so login can rehash it


def test_default_parameters_are_argon2id_rfc9106_low_memory() -> None:
    stored = Passwords().hash("defaults-are-strong")

    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
