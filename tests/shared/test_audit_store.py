"""The storage edge of the trail (audit_store): what a write keeps, what it seals, what adoption touches, and the key."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from opsdesk_shared import audit_chain as ac
from opsdesk_shared import audit_store
from opsdesk_shared.settings import ServiceSettings

KEY = b"k" * 32
AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TRAIL = audit_store.Trail("things", ("history",), "thing")


def _records(n: int) -> list[dict[str, object]]:
    return [{"action": f"step{i}", "at": AT, "by": "u1"} for i in range(n)]


def test_new_records_are_sealed_in_order_after_the_stored_ones() -> None:
    stored = audit_store.carry([], _records(2), key=KEY)
    written = audit_store.carry(stored, _records(3), key=KEY)
    assert written[:2] == stored
    assert written[2][ac.PREV] == stored[1][ac.HASH]
    assert ac.verify([("c", written)], key=KEY).ok


def test_a_changed_stored_record_keeps_its_old_seal_so_it_stays_broken() -> None:
    stored = audit_store.carry([], _records(2), key=KEY)
    tampered = [stored[0], {**stored[1], "by": "mallory"}]
    written = audit_store.carry(tampered, [{k: v for k, v in r.items() if k not in audit_store.SEALS} for r in tampered], key=KEY)
    assert ac.verify([("c", written)], key=KEY).first_broken == "c#1: hash does not match the record (the record was changed)"


def test_a_field_the_model_added_later_as_null_does_not_break_old_records() -> None:
    stored = audit_store.carry([], _records(1), key=KEY)
    written = audit_store.carry(stored, [{**_records(1)[0], "reason": None}], key=KEY)
    assert written == stored  # the stored record itself is written back
    assert ac.verify([("c", written)], key=KEY).ok


def test_an_unsealed_record_already_stored_is_never_sealed_by_a_write() -> None:
    legacy = _records(1)
    written = audit_store.carry(legacy, _records(2), key=KEY)
    assert ac.HASH not in written[0]
    assert ac.verify([("c", written)], key=KEY).first_broken == "c#0: unsealed"


def test_adoption_seals_only_chains_that_start_unsealed() -> None:
    assert audit_store.adopted([], key=KEY) is None
    assert audit_store.adopted(audit_store.carry([], _records(2), key=KEY), key=KEY) is None
    partly = [*audit_store.carry([], _records(1), key=KEY), _records(2)[1]]  # a seal missing later on: a finding
    assert audit_store.adopted(partly, key=KEY) is None
    adopted = audit_store.adopted(_records(3), key=KEY)
    assert adopted is not None and ac.verify([("c", adopted)], key=KEY).ok


def test_verification_names_the_chain_and_counts_every_record() -> None:
    good = {"_id": "a", "history": audit_store.carry([], _records(2), key=KEY)}
    bad = {"_id": "b", "history": [*audit_store.carry([], _records(1), key=KEY), {"action": "late"}]}
    verdict = audit_store.verify_documents([good, bad], TRAIL, key=KEY)
    assert verdict == ac.Verdict(ok=False, checked=4, first_broken="thing/b/history#1: unsealed")


def test_production_refuses_to_start_without_a_real_audit_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSDESK_INTERNAL_PUBLIC_KEY", "pem")
    monkeypatch.setenv("OPSDESK_METRICS_TOKEN", "m" * 32)
    monkeypatch.setenv("NATS_PASSWORD", "n" * 24)
    monkeypatch.delenv("OPSDESK_AUDIT_KEY", raising=False)
    with pytest.raises(ValidationError, match="OPSDESK_AUDIT_KEY"):
        ServiceSettings(environment="production")
    monkeypatch.setenv("OPSDESK_AUDIT_KEY", "a" * 32)
    assert ServiceSettings(environment="production").audit_key_bytes == b"a" * 32
    monkeypatch.delenv("OPSDESK_AUDIT_KEY")
    assert ServiceSettings(environment="development").audit_key_bytes == ac.DEVELOPMENT_KEY
