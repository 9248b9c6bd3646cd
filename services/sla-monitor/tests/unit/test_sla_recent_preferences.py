"""RecentPreferences (issue 17): a look-up made less than ttl_s ago is answered from memory; a change through this
process is seen at once."""

from __future__ import annotations

from sla_monitor.notifications.preferences import Preference
from sla_monitor.notifications.stores import MemoryPreferenceStore, RecentPreferences


class Counting(MemoryPreferenceStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def get(self, key: str) -> Preference | None:
        self.reads += 1
        return await super().get(key)

    async def for_engineer(self, engineer_id: str) -> Preference | None:
        self.reads += 1
        return await super().for_engineer(engineer_id)


async def test_recent_look_ups_are_not_read_again_and_a_change_here_is_seen_at_once() -> None:
    now = [100.0]
    inner = Counting()
    prefs = RecentPreferences(inner, ttl_s=5.0, clock=lambda: now[0])
    assert await prefs.get("role:engineer") is None
    assert await prefs.get("role:engineer") is None
    assert await prefs.for_engineer("E-7") is None
    assert await prefs.for_engineer("E-7") is None
    assert inner.reads == 2

    await prefs.put(Preference(key="role:engineer"))
    assert (await prefs.get("role:engineer")) == Preference(key="role:engineer")  # changed here: read again
    assert inner.reads == 3
    assert await prefs.for_engineer("E-7") is None  # looked up (and remembered) before another replica's change

    await inner.put(Preference(key="user:li", engineer_id="E-7"))  # another replica's change
    assert await prefs.for_engineer("E-7") is None  # still within ttl_s
    now[0] += 5.0
    found = await prefs.for_engineer("E-7")
    assert found is not None and found.key == "user:li"
