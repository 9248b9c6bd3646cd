"""Recent: the last entries put, up to a bound; the oldest put goes first."""

from __future__ import annotations

from opsdesk_shared.recent import Recent


def test_the_oldest_put_goes_first_and_a_put_again_makes_an_entry_young() -> None:
    kept: Recent[str, int] = Recent(2)
    kept.put("a", 1)
    kept.put("b", 2)
    kept.put("a", 3)  # put again: now the youngest
    kept.put("c", 4)
    assert "b" not in kept and kept.get("a") == 3 and kept.get("c") == 4 and len(kept) == 2
    assert kept.pop("a") == 3 and kept.pop("a") is None and kept.get("missing") is None
    kept.clear()
    assert len(kept) == 0
