"""The tamper-evident trail at dispatch's storage edge (issue 16), on the memory store and the real database.

An assignment's history steps are sealed as they are written; a save keeps the stored seals and appends in chain,
and a step changed behind the application's back is named and stays broken.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dispatch.adapters.memory import MemoryAssignmentStore
from dispatch.domain import Assignment, Step
from dispatch.ports import AssignmentStore
from opsdesk_shared import audit_chain

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 14, 9, 30, 0, 123000, tzinfo=UTC)


def _step(action: str, minutes: int) -> Step:
    return Step(action=action, at=T0 + timedelta(minutes=minutes), by="eng-onsite-1", engineer_id="eng-onsite-1")


async def _history(store: AssignmentStore, backend: Any, ticket_id: str) -> list[dict[str, Any]]:
    if backend is None:
        assert isinstance(store, MemoryAssignmentStore)
        return store.sealed[ticket_id]["history"]
    doc = await backend["assignments"].find_one({"_id": ticket_id})
    assert doc is not None
    return list(doc["history"])


async def test_steps_are_sealed_on_save_and_a_second_save_appends_in_chain(
    assignments: AssignmentStore, backend: Any, make_assignment: Callable[..., Assignment],
) -> None:
    assignment = make_assignment(history=(_step("assigned", 0),))
    await assignments.add(assignment, [])
    first = (await _history(assignments, backend, assignment.ticket_id))[0]
    assert first[audit_chain.PREV] == audit_chain.GENESIS

    loaded = await assignments.get(assignment.ticket_id)
    assert loaded == assignment  # the domain never sees a seal
    saved = await assignments.save(loaded.model_copy(update={"history": (*loaded.history, _step("accepted", 3))}), [])
    await assignments.save(saved.model_copy(update={"history": (*saved.history, _step("arrived", 30))}), [])

    history = await _history(assignments, backend, assignment.ticket_id)
    assert [h["action"] for h in history] == ["assigned", "accepted", "arrived"]
    assert history[0][audit_chain.HASH] == first[audit_chain.HASH]
    assert history[1][audit_chain.PREV] == history[0][audit_chain.HASH]
    assert history[2][audit_chain.PREV] == history[1][audit_chain.HASH]
    assert await assignments.audit_verify() == audit_chain.Verdict(ok=True, checked=3)


async def test_a_step_changed_in_the_database_is_named_and_stays_broken(
    assignments: AssignmentStore, backend: Any, make_assignment: Callable[..., Assignment],
) -> None:
    assignment = make_assignment(history=(_step("assigned", 0), _step("accepted", 3)))
    await assignments.add(assignment, [])
    if backend is None:
        assert isinstance(assignments, MemoryAssignmentStore)
        stored = assignments.sealed[assignment.ticket_id]["history"]
        stored[1] = {**stored[1], "by": "eng-onsite-2"}
        kept = assignments.by_ticket[assignment.ticket_id]
        steps = (kept.history[0], kept.history[1].model_copy(update={"by": "eng-onsite-2"}))
        assignments.by_ticket[assignment.ticket_id] = kept.model_copy(update={"history": steps})
    else:
        await backend["assignments"].update_one({"_id": assignment.ticket_id}, {"$set": {"history.1.by": "eng-onsite-2"}})

    broken = f"assignment/{assignment.ticket_id}/history#1: hash does not match the record (the record was changed)"
    assert (await assignments.audit_verify()).first_broken == broken
    loaded = await assignments.get(assignment.ticket_id)
    assert loaded is not None
    await assignments.save(loaded.model_copy(update={"history": (*loaded.history, _step("arrived", 30))}), [])
    assert (await assignments.audit_verify()).first_broken == broken
