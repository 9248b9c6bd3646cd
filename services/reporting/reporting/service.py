"""Reporting use cases."""

from __future__ import annotations

from opsdesk_shared.contracts import Envelope, EventData

from . import domain
from .domain import Tally
from .ports import EventProjection


async def project_event(envelope: Envelope, data: EventData, *, projection: EventProjection, tally: Tally) -> bool:
    """Record the event once and count it once, however often it is delivered."""
    keys = domain.counter_keys(envelope, data)
    if not await projection.record(envelope, keys):
        return False
    tally.add(keys)
    return True


async def rebuild_tally(*, projection: EventProjection) -> Tally:
    """Recount from the projection, so an event stored just before a crash is still counted."""
    tally = Tally()
    for key, n in (await projection.counts()).items():
        tally.counts[key] = n
    return tally
