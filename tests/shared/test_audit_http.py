"""A service's audit route names a store wired without a seal instead of answering 500."""

from __future__ import annotations

from opsdesk_shared.audit_chain import Verdict
from opsdesk_shared.audit_http import _verdict_of


class _Sealed:
    async def audit_verify(self) -> Verdict:
        return Verdict(ok=True, checked=3)


class PlainStore:
    pass


async def test_a_sealed_store_answers_for_itself() -> None:
    assert await _verdict_of(_Sealed()) == Verdict(ok=True, checked=3)


async def test_a_store_without_a_seal_fails_verification_by_name() -> None:
    assert await _verdict_of(PlainStore()) == Verdict(ok=False, checked=0, first_broken="PlainStore: keeps no sealed trail")
