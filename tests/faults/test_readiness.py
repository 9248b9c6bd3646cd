"""`/readyz` means ready (issue 14): false until the lifespan has loaded the views and started the subscribers, and
false whenever a durable consumer the service subscribed to is missing on the server."""

from __future__ import annotations

from typing import Any

import pytest

from opsdesk_shared.bus import subscribe_events
from opsdesk_shared.bus_permissions import EVENTS_STREAM
from opsdesk_shared.contracts import Envelope, subjects
from opsdesk_shared.readiness import ConsumersBound, Started, durable_consumers


async def _ignore(_envelope: Envelope, _data: Any) -> None:
    return None


async def test_views_are_not_ready_until_the_lifespan_says_so() -> None:
    started = Started()
    assert await started() is False
    started.done = True
    assert await started() is True
    assert await ConsumersBound()() is False  # no broker yet: not bound


@pytest.mark.integration
async def test_consumers_are_bound_only_while_every_durable_exists_on_the_server(broker: Any) -> None:
    subscribe_events(broker, subject=subjects.TICKET_CREATED, durable="ready-test-created", handler=_ignore, max_deliver=3)
    subscribe_events(broker, subject=subjects.TICKET_ASSIGNED, durable="ready-test-assigned", handler=_ignore, max_deliver=3)
    assert sorted(durable_consumers(broker)) == [(EVENTS_STREAM, "ready-test-assigned"), (EVENTS_STREAM, "ready-test-created")]
    bound = ConsumersBound(broker, remember_s=0.0)
    await broker.start()
    assert await bound() is True
    await broker.config.connection_state.stream.delete_consumer(EVENTS_STREAM, "ready-test-assigned")
    assert await bound() is False
