"""Preferences read back as written, on the memory store and on the real database (one test body, both stores)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sla_monitor.notifications.preferences import ChannelChoice, Preference
from sla_monitor.notifications.stores import MemoryPreferenceStore, MongoPreferenceStore, PreferenceStore

pytestmark = pytest.mark.integration


@pytest.fixture
async def mongo_prefs(mongo_db: object) -> MongoPreferenceStore:
    store = MongoPreferenceStore(mongo_db)  # type: ignore[arg-type]
    await store.ensure_indexes()
    return store


@pytest.fixture(params=["memory", "mongo"])
def prefs(request: pytest.FixtureRequest) -> PreferenceStore:
    # A plain fixture: only it may pull the async Mongo fixture in lazily, so the memory case starts no server.
    if request.param == "memory":
        return MemoryPreferenceStore()
    return request.getfixturevalue("mongo_prefs")  # type: ignore[no-any-return]


async def test_a_preference_reads_back_by_key_and_by_engineer(prefs: PreferenceStore) -> None:
    saved = Preference(
        key="user:li.hua", engineer_id="eng-7", events=("assigned", "breach"), language="zh-TW",
        channels=(ChannelChoice(channel="mail", address="li@agency.example"), ChannelChoice(channel="desk-wecom")),
        updated_at=datetime(2026, 11, 30, 2, 0, tzinfo=UTC), updated_by="li.hua",
    )
    await prefs.put(saved)
    assert await prefs.get("user:li.hua") == saved
    assert await prefs.for_engineer("eng-7") == saved
    assert await prefs.get("role:agency") is None and await prefs.for_engineer("eng-0") is None


async def test_putting_again_replaces_the_whole_preference(prefs: PreferenceStore) -> None:
    await prefs.put(Preference(key="role:agency", channels=(ChannelChoice(channel="desk-wecom"),)))
    await prefs.put(Preference(key="role:agency", events=("authorization_waiting",)))
    again = await prefs.get("role:agency")
    assert again is not None and again.channels == () and again.events == ("authorization_waiting",)
