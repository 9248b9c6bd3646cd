"""Group commit: units joining while a round is stored form the next round; a failed round fails all its units."""

from __future__ import annotations

import asyncio

import pytest

from opsdesk_shared.group_commit import GroupCommit, Round


class Batch(Round):
    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.items: list[int] = []


async def test_units_arriving_while_a_round_is_stored_are_stored_together_in_the_next() -> None:
    stored: list[list[int]] = []

    async def store(batch: Batch) -> None:
        await asyncio.sleep(0.01)
        stored.append(list(batch.items))

    rounds: GroupCommit[Batch] = GroupCommit(Batch, store)

    async def unit(n: int) -> None:
        batch = rounds.open
        batch.items.append(n)
        batch.units += 1
        await rounds.commit(batch)

    first = asyncio.create_task(unit(0))
    await asyncio.sleep(0)  # the first round is being stored
    await asyncio.gather(first, *(unit(n) for n in range(1, 6)))
    assert stored == [[0], [1, 2, 3, 4, 5]]
    assert (rounds.rounds_stored, rounds.units_stored) == (2, 6)


async def test_a_failed_round_fails_every_unit_in_it_and_the_next_round_still_stores() -> None:
    calls = 0

    async def store(batch: Batch) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database gone")

    rounds: GroupCommit[Batch] = GroupCommit(Batch, store)
    doomed = rounds.open
    results = await asyncio.gather(rounds.commit(doomed), rounds.commit(doomed), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    assert calls == 1
    await rounds.commit(rounds.open)
    assert rounds.rounds_stored == 1
    with pytest.raises(ConnectionError):
        await rounds.commit(doomed)
