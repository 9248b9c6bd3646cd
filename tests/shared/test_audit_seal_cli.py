"""The adoption command (`python -m opsdesk_shared.audit_seal`) on the real database: records written before sealing
are sealed once, with the deployment's key; a chain sealed from its start is left as it is."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from pymongo import MongoClient

from opsdesk_shared import audit_chain as ac
from opsdesk_shared import audit_store

pytestmark = pytest.mark.integration

KEY = "deployment-audit-key-0123456789abcdef"
AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _run(database_url: str, database_name: str, *, key: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OPSDESK_AUDIT_KEY", "MONGODB_URL")}
    env["MONGODB_URL"] = database_url
    if key is not None:
        env["OPSDESK_AUDIT_KEY"] = key
    return subprocess.run([sys.executable, "-m", "opsdesk_shared.audit_seal", "dispatch", "--database", database_name],
                          env=env, capture_output=True, text=True, timeout=120)


def test_legacy_chains_are_sealed_once_and_sealed_ones_left_alone(database_url: str, database_name: str) -> None:
    client: MongoClient[dict[str, object]] = MongoClient(database_url)
    try:
        assignments = client[database_name]["assignments"]
        legacy = [{"action": "assigned", "at": AT, "by": "dispatch"}, {"action": "accepted", "at": AT, "by": "eng-1"}]
        sealed = audit_store.carry([], legacy, key=KEY.encode())
        tampered = [sealed[0], {"action": "accepted", "at": AT, "by": "eng-1"}]  # a seal taken off later on: a finding
        assignments.insert_many([
            {"_id": "t-legacy", "version": 3, "history": legacy},
            {"_id": "t-sealed", "version": 1, "history": sealed},
            {"_id": "t-stripped", "version": 2, "history": tampered},
        ])

        refused = _run(database_url, database_name, key=None)
        assert refused.returncode != 0 and "OPSDESK_AUDIT_KEY" in refused.stderr
        done = _run(database_url, database_name, key=KEY)
        assert done.returncode == 0, done.stderr
        assert "dispatch: assignments: 1 documents sealed" in done.stdout

        docs = {d["_id"]: d for d in assignments.find({})}
        trail = audit_store.ASSIGNMENTS
        assert audit_store.verify_documents([docs["t-legacy"], docs["t-sealed"]], trail, key=KEY.encode()).ok
        assert [h[ac.HASH] for h in docs["t-sealed"]["history"]] == [h[ac.HASH] for h in sealed]
        assert audit_store.verify_documents([docs["t-stripped"]], trail, key=KEY.encode()).first_broken == (
            "assignment/t-stripped/history#1: unsealed"
        )
        assert "0 documents sealed" in _run(database_url, database_name, key=KEY).stdout
        assert docs["t-legacy"]["history"][0][ac.PREV] == ac.GENESIS
    finally:
        client.drop_database(database_name)
        client.close()
