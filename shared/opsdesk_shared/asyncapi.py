"""The AsyncAPI document and JSON Schemas of every contract, so other systems can subscribe without our code."""

from __future__ import annotations

import functools
from typing import Any

from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI
from pydantic import BaseModel, Field, create_model

from .bus import DEADLETTER_STREAM, EVENTS_STREAM
from .contracts import REGISTRY, DeadLetter, Envelope, EventData, subjects


def typed_envelope(model: type[EventData]) -> type[BaseModel]:
    """The envelope with `data` typed as this payload: what actually travels on the subject."""
    return create_model(
        f"{model.__name__}Event",
        __base__=Envelope,
        __doc__=model.__doc__,
        data=(model, Field(description=f"{model.event_type} v{model.event_version} payload")),
    )


def json_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema, one per contract version plus the dead-letter record."""
    schemas = {
        f"{event_type}.v{version}.schema.json": typed_envelope(model).model_json_schema()
        for (event_type, version), model in sorted(REGISTRY.items())
    }
    schemas["deadletter.schema.json"] = DeadLetter.model_json_schema()
    return schemas


@functools.cache
def asyncapi_document() -> dict[str, Any]:
    broker = NatsBroker()  # never connected: it only describes the subjects
    for (event_type, version), model in sorted(REGISTRY.items()):
        broker.publisher(
            event_type,
            stream=EVENTS_STREAM,
            title=f"{event_type}.v{version}",
            description=(model.__doc__ or "").strip() + f" Header Nats-Msg-Id equals event_id. Stream {EVENTS_STREAM}.",
            schema=typed_envelope(model),
        )
    broker.publisher(
        f"{subjects.DEADLETTER_PREFIX}.>",
        stream=DEADLETTER_STREAM,
        title="deadletter",
        description="Messages a consumer could not handle, with the error; republished as deadletter.<subject>.",
        schema=DeadLetter,
    )
    spec = AsyncAPI(broker, title="Opsdesk events", version="1.0.0", description="Events Opsdesk services publish on NATS JetStream.")
    return spec.to_specification().to_jsonable()  # type: ignore[no-any-return]
