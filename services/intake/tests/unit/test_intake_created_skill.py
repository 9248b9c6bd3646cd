"""ticket.created carries the catalog entry's skill: the catalog is its one owner, dispatch matches on it."""

from __future__ import annotations

from datetime import UTC, datetime

from intake import domain
from intake.catalog import SEED_BY_CODE


def test_ticket_created_carries_the_catalog_entrys_skill(new_ticket) -> None:  # type: ignore[no-untyped-def]
    # An admin's edit of the entry is what travels, not a table kept anywhere else.
    edited = SEED_BY_CODE["RS-REPAIR"].model_copy(update={"skill": "network"})
    _, event = domain.open_ticket(
        new_ticket(service_code="RS-REPAIR"), service=edited, ticket_id="t-1", number="INC-2026-000001",
        now=datetime(2026, 11, 26, 2, 0, tzinfo=UTC),
    )
    assert event.skill == "network"
