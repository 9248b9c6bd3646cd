"""A tamper-evident trail (issue 16): each history record carries the hash of the record before it and its own.

The hash is an HMAC-SHA256 keyed with the deployment's audit key (`OPSDESK_AUDIT_KEY`), so someone who can edit the
database but does not hold the key can neither change a record nor rebuild the chain after it without the
verification failing at the first record touched. A record's hash covers its canonical JSON (sorted keys, no
whitespace, times as UTC milliseconds: what survives a BSON round trip) and the previous hash, so changing, removing,
inserting or reordering a record breaks the chain there. Each owner of records (a ticket, an assignment, an asset)
keeps its own chain, starting at GENESIS; a chain's head is the last record's hash.

Pure: no storage, no clock. Services seal records as they append them and verify what they read back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

GENESIS = "0" * 64
PREV = "prev_hash"
HASH = "hash"
_SEAL_FIELDS = frozenset({PREV, HASH})
DEVELOPMENT_KEY = b"opsdesk-development-audit-key"


def _plain(value: Any) -> Any:
    """The JSON form a value keeps after a round trip through MongoDB (BSON dates are UTC milliseconds)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        at = aware.astimezone(UTC)
        return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items() if k not in _SEAL_FIELDS}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "model_dump"):
        return _plain(value.model_dump(mode="python"))
    return value


def canonical(record: Mapping[str, Any]) -> bytes:
    """The bytes a record's hash covers: everything but its own seal, in one stable spelling."""
    return json.dumps(_plain(record), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def digest(record: Mapping[str, Any], *, prev: str, key: bytes) -> str:
    """The record's hash, chained to `prev`."""
    return hmac.new(key, prev.encode() + b"\n" + canonical(record), hashlib.sha256).hexdigest()


def seal(record: Mapping[str, Any], *, prev: str, key: bytes) -> dict[str, Any]:
    """A copy of `record` carrying the previous hash and its own."""
    body = {k: v for k, v in record.items() if k not in _SEAL_FIELDS}
    return {**body, PREV: prev, HASH: digest(body, prev=prev, key=key)}


def head(records: Sequence[Mapping[str, Any]]) -> str:
    """The hash a new record chains to: the last sealed record's, or GENESIS for an empty chain."""
    for record in reversed(records):
        if isinstance(record.get(HASH), str):
            return str(record[HASH])
    return GENESIS


def append(records: Sequence[Mapping[str, Any]], record: Mapping[str, Any], *, key: bytes) -> dict[str, Any]:
    """`record` sealed to follow `records`."""
    return seal(record, prev=head(records), key=key)


def seal_all(records: Iterable[Mapping[str, Any]], *, key: bytes, start: str = GENESIS) -> list[dict[str, Any]]:
    """A whole chain sealed from `start` (used when a record's history is first written, or a legacy one adopted)."""
    sealed: list[dict[str, Any]] = []
    prev = start
    for record in records:
        sealed.append(seal(record, prev=prev, key=key))
        prev = sealed[-1][HASH]
    return sealed


@dataclass(frozen=True)
class Broken:
    """Where a chain first fails: which chain, which record (0-based) and why."""

    chain: str
    index: int
    reason: str

    def describe(self) -> str:
        return f"{self.chain}#{self.index}: {self.reason}"


def first_break(chain: str, records: Sequence[Mapping[str, Any]], *, key: bytes) -> Broken | None:
    """The first record whose seal does not hold, or None when the whole chain is intact."""
    prev = GENESIS
    for index, record in enumerate(records):
        stored_prev, stored_hash = record.get(PREV), record.get(HASH)
        if not isinstance(stored_hash, str) or not isinstance(stored_prev, str):
            return Broken(chain, index, "unsealed")
        if not hmac.compare_digest(stored_prev, prev):
            return Broken(chain, index, "previous hash does not match (a record was removed, inserted or reordered)")
        if not hmac.compare_digest(stored_hash, digest(record, prev=prev, key=key)):
            return Broken(chain, index, "hash does not match the record (the record was changed)")
        prev = stored_hash
    return None


@dataclass(frozen=True)
class Verdict:
    """The answer of `GET /api/v1/audit/verify`: `{"ok": …, "checked": n, "first_broken": …}`."""

    ok: bool
    checked: int
    first_broken: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "first_broken": self.first_broken}


def verify(chains: Iterable[tuple[str, Sequence[Mapping[str, Any]]]], *, key: bytes) -> Verdict:
    """Every chain checked; the count is of records; the first break found is named (chains in the order given)."""
    checked = 0
    broken: Broken | None = None
    for name, records in chains:
        found = first_break(name, records, key=key)
        checked += len(records) if found is None else found.index + 1
        if found is not None and broken is None:
            broken = found
    return Verdict(ok=broken is None, checked=checked, first_broken=broken.describe() if broken else None)


def combine(verdicts: Mapping[str, Verdict]) -> Verdict:
    """Several services' verdicts as one, the first break prefixed with the service that holds it."""
    checked = sum(v.checked for v in verdicts.values())
    for service, verdict in verdicts.items():
        if not verdict.ok:
            return Verdict(ok=False, checked=checked, first_broken=f"{service}:{verdict.first_broken}")
    return Verdict(ok=True, checked=checked)
