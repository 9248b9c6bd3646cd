"""The shared hash chain: a change, removal, insertion or reorder of any record is found at that record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from opsdesk_shared import audit_chain as ac

KEY = b"k" * 32
T0 = datetime(2026, 11, 30, 9, 0, 0, 123456, tzinfo=UTC)


def _history(n: int = 4) -> list[dict[str, object]]:
    records: list[dict[str, object]] = []
    for i in range(n):
        records.append(ac.append(records, {"action": f"step{i}", "at": T0 + timedelta(minutes=i), "by": "u1"}, key=KEY))
    return records


def test_an_intact_chain_verifies_every_record() -> None:
    verdict = ac.verify([("ticket:T1", _history(4))], key=KEY)
    assert verdict == ac.Verdict(ok=True, checked=4, first_broken=None)


def test_first_record_chains_to_genesis_and_each_to_the_one_before() -> None:
    records = _history(3)
    assert records[0][ac.PREV] == ac.GENESIS
    assert records[1][ac.PREV] == records[0][ac.HASH]
    assert records[2][ac.PREV] == records[1][ac.HASH]


@pytest.mark.parametrize("index", [0, 2, 3])
def test_a_changed_record_breaks_the_chain_at_that_record(index: int) -> None:
    records = _history(4)
    records[index] = {**records[index], "by": "someone-else"}
    verdict = ac.verify([("ticket:T1", records)], key=KEY)
    assert not verdict.ok
    assert verdict.first_broken is not None and verdict.first_broken.startswith(f"ticket:T1#{index}:")
    assert "changed" in verdict.first_broken


def test_a_removed_or_reordered_record_is_found_where_the_chain_breaks() -> None:
    removed = _history(4)
    del removed[1]
    assert ac.verify([("c", removed)], key=KEY).first_broken == (
        "c#1: previous hash does not match (a record was removed, inserted or reordered)"
    )
    swapped = _history(4)
    swapped[1], swapped[2] = swapped[2], swapped[1]
    assert ac.verify([("c", swapped)], key=KEY).first_broken is not None


def test_a_chain_rebuilt_without_the_key_does_not_verify() -> None:
    forged = ac.seal_all([{k: v for k, v in r.items() if k not in ("hash", "prev_hash")} for r in _history(3)], key=b"guess")
    assert ac.verify([("c", forged)], key=KEY).first_broken == "c#0: hash does not match the record (the record was changed)"


def test_an_unsealed_record_is_reported() -> None:
    records = _history(2) + [{"action": "late", "at": T0}]
    assert ac.verify([("c", records)], key=KEY).first_broken == "c#2: unsealed"


def test_the_seal_survives_a_database_round_trip_of_times() -> None:
    """BSON keeps milliseconds and gives naive UTC (or aware UTC) back: the hash must not change."""
    records = _history(2)
    shanghai = timezone(timedelta(hours=8))
    read_back = [
        {**records[0], "at": (T0).replace(microsecond=123000, tzinfo=None)},
        {**records[1], "at": (T0 + timedelta(minutes=1)).astimezone(shanghai).replace(microsecond=123000)},
    ]
    assert ac.verify([("c", read_back)], key=KEY).ok


def test_verdicts_of_several_services_combine_with_the_first_break_named_by_service() -> None:
    good = ac.verify([("a", _history(2))], key=KEY)
    bad_records = _history(3)
    bad_records[2] = {**bad_records[2], "action": "edited"}
    bad = ac.verify([("ticket:T9", bad_records)], key=KEY)
    combined = ac.combine({"dispatch": good, "intake": bad})
    assert combined.as_json() == {"ok": False, "checked": 5, "first_broken": bad.first_broken and f"intake:{bad.first_broken}"}
    assert ac.combine({"dispatch": good}).as_json() == {"ok": True, "checked": 2, "first_broken": None}
