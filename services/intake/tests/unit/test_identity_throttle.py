"""The sign-in throttle: growing delays per account and address, and per address, never a lock on the account."""

from __future__ import annotations

import pytest

from intake.identity.throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def throttle(clock: Clock) -> LoginThrottle:
    return LoginThrottle(free_per_account=5, free_per_source=30, base_s=1.0, cap_s=60.0, forget_s=3600.0, clock=clock)


async def _fail(throttle: LoginThrottle, times: int, *, account: str = "admin", source: str = "203.0.113.9") -> None:
    for _ in range(times):
        await throttle.failed(account=account, source=source)


async def test_five_failures_are_free_then_the_delay_doubles_up_to_the_cap(throttle: LoginThrottle, clock: Clock) -> None:
    await _fail(throttle, 4)
    assert await throttle.retry_after(account="admin", source="203.0.113.9") == 0

    delays = []
    for _ in range(9):
        await _fail(throttle, 1)
        delays.append(await throttle.retry_after(account="admin", source="203.0.113.9"))
    assert delays == [1, 2, 4, 8, 16, 32, 60, 60, 60]


async def test_the_account_is_never_locked_for_its_owner_at_another_address(throttle: LoginThrottle) -> None:
    await _fail(throttle, 29)  # an attacker hammers the administrator from one address

    assert await throttle.retry_after(account="admin", source="203.0.113.9") > 0
    assert await throttle.retry_after(account="admin", source="10.0.0.5") == 0


async def test_one_address_trying_many_accounts_is_slowed_across_them(throttle: LoginThrottle) -> None:
    for n in range(30):
        await _fail(throttle, 1, account=f"user{n}")

    assert await throttle.retry_after(account="someone-new", source="203.0.113.9") == 1
    assert await throttle.retry_after(account="someone-new", source="10.0.0.5") == 0


async def test_success_clears_the_pair_but_not_the_address(throttle: LoginThrottle) -> None:
    await _fail(throttle, 6)
    for n in range(30):
        await _fail(throttle, 1, account=f"user{n}")

    await throttle.succeeded(account="admin", source="203.0.113.9")

    # the address's count across accounts stays: knowing one password does not buy more guesses at the others
    assert await throttle.retry_after(account="admin", source="203.0.113.9") > 0
    assert throttle.pairs.retry_after("admin\x00203.0.113.9") == 0


async def test_failures_are_forgotten_after_a_quiet_hour(throttle: LoginThrottle, clock: Clock) -> None:
    await _fail(throttle, 8)
    clock.now += 3601

    assert await throttle.retry_after(account="admin", source="203.0.113.9") == 0
    await _fail(throttle, 1)
    assert await throttle.retry_after(account="admin", source="203.0.113.9") == 0  # counting starts afresh
