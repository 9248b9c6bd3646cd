"""The agency's oversight at dispatch on both stores (memory and the real database): unauthorized tickets kept and
found by id or number; replacement requests asked, answered once, listed, their history sealed in the audit chain
(a record changed in the database fails verification at that record)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from dispatch.adapters.memory import MemoryRoster
from dispatch.agency import service
from dispatch.agency.calendar import FixedDeadlines
from dispatch.agency.domain import ReplacementRefused, UnauthorizedWork
from dispatch.agency.service import Oversight
from dispatch.agency.stores import (
    MemoryReplacementStore,
    MemoryUnauthorizedTickets,
    MemoryViolationLog,
    MongoReplacementStore,
    MongoUnauthorizedTickets,
    MongoViolationLog,
)
from dispatch.domain import DEMO_ROSTER_ALWAYS_ON_SITE, Actor
from opsdesk_shared.contracts import subjects
from opsdesk_shared.outbox import MemoryOutbox

NOW = datetime(2026, 11, 30, 2, 0, 0, tzinfo=UTC)
AGENCY = Actor(subject="zhou", role="agency")
MANAGER = Actor(subject="mgr-li", role="manager")
ENGINEER = Actor(subject="user-eng-onsite-1", role="engineer", engineer_id="eng-onsite-1")


async def _oversight(backend: Any) -> Oversight:
    deadlines = FixedDeadlines(NOW + timedelta(days=7))
    if backend is None:
        return Oversight(unauthorized=MemoryUnauthorizedTickets(), violations=MemoryViolationLog(), violation_outbox=MemoryOutbox(),
                         replacements=MemoryReplacementStore(), replacement_outbox=MemoryOutbox(), deadlines=deadlines)
    unauthorized, replacements = MongoUnauthorizedTickets(backend), MongoReplacementStore(backend)
    await unauthorized.ensure_indexes()
    await replacements.ensure_indexes()
    return Oversight(unauthorized=unauthorized, violations=MongoViolationLog(backend), violation_outbox=MemoryOutbox(),
                     replacements=replacements, replacement_outbox=MemoryOutbox(), deadlines=deadlines)


async def test_unauthorized_work_is_kept_refused_and_released(backend) -> None:  # type: ignore[no-untyped-def]
    oversight = await _oversight(backend)
    await service.hold("t-1", "INC-2026-000016", state="awaiting", now=NOW, oversight=oversight)

    with pytest.raises(UnauthorizedWork):
        await service.refuse_if_unauthorized("INC-2026-000016", actor=ENGINEER, step="accept", oversight=oversight, now=NOW,
                                             correlation_id="c")
    await service.refuse_if_unauthorized("t-1", actor=AGENCY, step="accept", oversight=oversight, now=NOW, correlation_id="c")
    [announced] = oversight.violation_outbox.published  # type: ignore[attr-defined]
    assert announced.type == subjects.ASSIGNMENT_VIOLATION_DETECTED and announced.data["ticket_id"] == "t-1"

    await service.release("t-1", oversight=oversight)
    assert await oversight.unauthorized.find("t-1") is None
    await service.refuse_if_unauthorized("t-1", actor=ENGINEER, step="accept", oversight=oversight, now=NOW, correlation_id="c")


async def test_a_replacement_request_is_answered_once_and_its_history_is_sealed(backend) -> None:  # type: ignore[no-untyped-def]
    oversight = await _oversight(backend)
    roster = MemoryRoster(DEMO_ROSTER_ALWAYS_ON_SITE)
    made, created = await service.request_replacement(
        "eng-onsite-1", reason="多次未按时到场", actor=AGENCY, roster=roster, oversight=oversight, now=NOW, correlation_id="c",
        idempotency_key="k1",
    )
    again, created_again = await service.request_replacement(
        "eng-onsite-1", reason="多次未按时到场", actor=AGENCY, roster=roster, oversight=oversight, now=NOW, correlation_id="c",
        idempotency_key="k1",
    )
    assert created and not created_again and again == made and made.answer_due_at == NOW + timedelta(days=7)

    answered = await service.answer_replacement(
        "eng-onsite-1", made.id, plan="由李工接替", replace_by=date(2026, 12, 4), actor=MANAGER, oversight=oversight,
        now=NOW + timedelta(days=1), today=date(2026, 12, 1), correlation_id="c",
    )
    with pytest.raises(ReplacementRefused):
        await service.answer_replacement("eng-onsite-1", made.id, plan="x", replace_by=date(2026, 12, 4), actor=MANAGER,
                                         oversight=oversight, now=NOW, today=date(2026, 12, 1), correlation_id="c")

    [stored] = await service.list_replacements("eng-onsite-1", actor=AGENCY, oversight=oversight)
    assert stored == answered and stored.version == 2 and stored.replace_by == date(2026, 12, 4)
    assert [h.step for h in stored.history] == ["requested", "answered"] and not stored.is_late(NOW + timedelta(days=30))
    verdict = await oversight.replacements.audit_verify()
    assert verdict.ok and verdict.checked == 2

    # A record changed behind the application's back breaks the chain at that record.
    if backend is None:
        oversight.replacements.docs[made.id]["history"][0]["note"] = "改过的理由"  # type: ignore[attr-defined]
    else:
        await backend["replacement_requests"].update_one({"_id": made.id}, {"$set": {"history.0.note": "改过的理由"}})
    broken = await oversight.replacements.audit_verify()
    assert not broken.ok and broken.first_broken is not None and made.id in broken.first_broken
