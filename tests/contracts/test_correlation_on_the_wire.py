"""On a real nats-server: the headers an event and a dead letter carry are the ones the AsyncAPI document promises.

The document is what outside consumers code against, so it is checked against what JetStream actually stores,
published through the one shared publish path (JetStreamPublisher) and the shared dead-lettering consumer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from opsdesk_devstack.testing import collect
from opsdesk_shared.asyncapi import asyncapi_document
from opsdesk_shared.bus import JetStreamPublisher, subscribe_events
from opsdesk_shared.contracts import Envelope, EventData, subjects

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).parent / "samples"


def message(channel: str) -> dict[str, Any]:
    doc = asyncapi_document()
    ref = doc["channels"][channel]["messages"]["Message"]["$ref"]
    return doc["components"]["messages"][ref.rsplit("/", 1)[-1]]  # type: ignore[no-any-return]


def sample_event(correlation_id: str) -> Envelope:
    raw = json.loads((SAMPLES / "ticket.created.v1.json").read_text())
    raw.pop("event_id")  # a fresh id, so JetStream's duplicate window cannot hide it
    return Envelope.model_validate({**raw, "correlation_id": correlation_id})


async def test_published_event_carries_the_correlation_id_in_body_and_header(broker) -> None:
    event = sample_event("flow-body-and-header")
    await JetStreamPublisher(broker).publish(event)
    [stored] = await collect(broker, subjects.TICKET_CREATED, want=1)
    assert stored["body"]["correlation_id"] == "flow-body-and-header"
    assert stored["headers"]["correlation_id"] == "flow-body-and-header"
    assert stored["headers"]["Nats-Msg-Id"] == str(event.event_id)
    jsonschema.validate(stored["headers"], message("ticket.created.v1")["headers"])


async def test_dead_letter_keeps_the_flows_correlation_id_in_its_header(broker) -> None:
    async def handler(envelope: Envelope, data: EventData) -> None:
        raise RuntimeError("database on fire")

    subscribe_events(broker, subject=subjects.TICKET_CREATED, durable="t-dead-cid", handler=handler, max_deliver=1)
    await broker.start()
    await JetStreamPublisher(broker).publish(sample_event("flow-that-died"))
    [dead] = await collect(broker, "deadletter.ticket.created", want=1, timeout=10)
    # Before, FastStream invented a fresh id here: a consumer could not join the dead letter to its flow.
    assert dead["headers"]["correlation_id"] == "flow-that-died"
    assert dead["body"]["headers"]["correlation_id"] == "flow-that-died"
    jsonschema.validate(dead["headers"], message("deadletter")["headers"])
    jsonschema.validate(dead["body"], json.loads((Path(__file__).resolve().parents[2] / "docs" / "schemas" / "deadletter.schema.json").read_text()))
