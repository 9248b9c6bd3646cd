"""The AsyncAPI document and JSON Schemas of every contract, so other systems can subscribe without our code.

FastStream describes the channels and payloads; what it cannot know is added here: where the correlation id really
travels, the NATS headers every event carries, the servers a consumer connects to with their security, and one
example per message. The examples are the stored contract samples (tests/contracts/samples), copied by
`scripts/export_schemas.py` into `asyncapi_examples.json` beside this module, because the gateway serves this
document from an image that holds the package and not the tests.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI
from pydantic import BaseModel, Field, create_model

from .bus import DEADLETTER_STREAM, EVENTS_STREAM
from .contracts import REGISTRY, DeadLetter, Envelope, EventData, subjects

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
EXAMPLES_FILE = Path(__file__).with_name("asyncapi_examples.json")
DEADLETTER_KEY = "deadletter"
SECURITY_SCHEME = "natsUserPassword"

# The header FastStream writes from the `correlation_id` argument JetStreamPublisher passes (the envelope's own).
CORRELATION_HEADER = "correlation_id"

SERVERS: dict[str, dict[str, Any]] = {
    "development": {
        "host": "localhost:4222",
        "protocol": "nats",
        "title": "make run",
        "description": (
            "The nats-server `make run` starts on 127.0.0.1. Anonymous clients are refused: sign in as a user of "
            "var/nats.conf (passwords in var/nats-passwords.json, mode 0600); `observer` reads both streams."
        ),
    },
    "production": {
        "host": "{host}:4222",
        "protocol": "nats",
        "title": "compose / Kubernetes",
        "description": (
            "The NATS of a deployment: `nats://nats:4222` on docker compose's internal network, "
            "`nats://nats.opsdesk.svc.cluster.local:4222` in Kubernetes (deploy/k8s/10-config.yaml), where a "
            "NetworkPolicy admits only pods it names. Users and permissions come from "
            "shared/opsdesk_shared/bus_permissions.py, rendered into deploy/nats/nats-server.conf; each password "
            "is the NATS container's environment variable NATS_PASSWORD_<USER>. Plain TCP inside the private "
            "network: no TLS is configured."
        ),
        "variables": {
            "host": {
                "default": "nats",
                "enum": ["nats", "nats.opsdesk.svc.cluster.local"],
                "description": "`nats` in docker compose, the cluster DNS name in Kubernetes",
            }
        },
    },
}

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    SECURITY_SCHEME: {
        "type": "userPassword",
        "description": (
            "NATS user name and password (CONNECT `user`/`pass`). One user per service and per outside consumer; "
            "the server allows each only the subjects and durable consumers listed for it (see "
            "docs/consuming-events.md, 'Getting a NATS user')."
        ),
    }
}


def _event_headers_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "Nats-Msg-Id": {
                "type": "string",
                "format": "uuid",
                "description": "Equals the envelope's event_id: JetStream drops a second publish with the same id "
                "inside the stream's duplicate window (600 s); consumers de-duplicate on it for ever.",
            },
            CORRELATION_HEADER: {
                "type": "string",
                "description": "Equals the envelope's correlation_id (set by the one shared publisher). The body "
                "is authoritative: read it there if a header is missing.",
            },
            "content-type": {"type": "string", "const": "application/json"},
            "Nats-Expected-Stream": {
                "type": "string",
                "const": EVENTS_STREAM,
                "description": "Added by the publishing client: the publish fails unless this stream stores it.",
            },
        },
        "required": ["Nats-Msg-Id", CORRELATION_HEADER, "content-type"],
    }


def _deadletter_headers_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "Nats-Msg-Id": {
                "type": "string",
                "description": "`<durable>:<stream sequence of the original>`: one record per consumer and message.",
            },
            CORRELATION_HEADER: {
                "type": "string",
                "description": "The original event's correlation id (its header, else its body's correlation_id).",
            },
            "content-type": {"type": "string", "const": "application/json"},
            "Nats-Expected-Stream": {"type": "string", "const": DEADLETTER_STREAM},
        },
        "required": ["Nats-Msg-Id", "content-type"],
    }


def typed_envelope(model: type[EventData]) -> type[BaseModel]:
    """The envelope with `data` typed as this payload: what actually travels on the subject."""
    return create_model(
        f"{model.__name__}Event",
        __base__=Envelope,
        __doc__=model.__doc__,
        data=(model, Field(description=f"{model.event_type} v{model.event_version} payload")),
    )


def schema_id(name: str) -> str:
    """Stable id naming the type and version (`urn:opsdesk:event:ticket.created:v1`); never a URL that could move."""
    if name == DEADLETTER_KEY:
        return "urn:opsdesk:deadletter:v1"
    event_type, _, version = name.rpartition(".")
    return f"urn:opsdesk:event:{event_type}:{version}"


def _with_dialect(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": JSON_SCHEMA_DIALECT, "$id": schema_id(name), **schema}


def json_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema (2020-12, with its `$id`), one per contract version plus the dead-letter record."""
    schemas = {
        f"{event_type}.v{version}.schema.json": _with_dialect(f"{event_type}.v{version}", typed_envelope(model).model_json_schema())
        for (event_type, version), model in sorted(REGISTRY.items())
    }
    schemas["deadletter.schema.json"] = _with_dialect(DEADLETTER_KEY, DeadLetter.model_json_schema())
    return schemas


def _event_example(sample: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": f"{sample['type']}.v{sample['version']}",
        "summary": f"Stored contract sample tests/contracts/samples/{sample['type']}.v{sample['version']}.json",
        "headers": {
            "Nats-Msg-Id": sample["event_id"],
            CORRELATION_HEADER: sample["correlation_id"],
            "content-type": "application/json",
            "Nats-Expected-Stream": EVENTS_STREAM,
        },
        "payload": dict(sample),
    }


def _deadletter_example(sample: Mapping[str, Any]) -> dict[str, Any]:
    """What dispatch would dead-letter if its handler kept failing on the ticket.created sample."""
    durable = "dispatch-ticket-created"
    record = DeadLetter(
        subject=sample["type"],
        consumer=durable,
        reason="failed",
        error="ServerSelectionTimeoutError: database unreachable",
        deliveries=5,
        failed_at=datetime(2026, 11, 26, 1, 5, 0, tzinfo=UTC),
        payload=json.dumps(sample, ensure_ascii=False, separators=(",", ":")),
        headers={
            "Nats-Msg-Id": sample["event_id"],
            CORRELATION_HEADER: sample["correlation_id"],
            "content-type": "application/json",
            "Nats-Expected-Stream": EVENTS_STREAM,
        },
    )
    return {
        "name": DEADLETTER_KEY,
        "summary": f"The ticket.created sample after {durable}'s handler failed five times",
        "headers": {
            "Nats-Msg-Id": f"{durable}:42",
            CORRELATION_HEADER: sample["correlation_id"],
            "content-type": "application/json",
            "Nats-Expected-Stream": DEADLETTER_STREAM,
        },
        "payload": record.model_dump(mode="json"),
    }


def examples_from_samples(samples_dir: Path) -> dict[str, dict[str, Any]]:
    """`<type>.v<version>` (and `deadletter`) -> AsyncAPI message example, from the stored contract samples."""
    samples = {p.stem: json.loads(p.read_text()) for p in sorted(samples_dir.glob("*.json"))}
    examples = {name: _event_example(sample) for name, sample in samples.items()}
    created = samples.get(f"{subjects.TICKET_CREATED}.v1")
    if created is not None:
        examples[DEADLETTER_KEY] = _deadletter_example(created)
    return examples


def stored_examples() -> dict[str, dict[str, Any]]:
    if not EXAMPLES_FILE.exists():
        return {}
    loaded: dict[str, dict[str, Any]] = json.loads(EXAMPLES_FILE.read_text())
    return loaded


def _complete(spec: dict[str, Any], examples: Mapping[str, Any]) -> dict[str, Any]:
    """Add what FastStream does not know: servers with security, the real correlation id, headers, examples."""
    spec["servers"] = {
        name: {**server, "security": [{"$ref": f"#/components/securitySchemes/{SECURITY_SCHEME}"}]}
        for name, server in SERVERS.items()
    }
    spec.setdefault("components", {})["securitySchemes"] = copy.deepcopy(SECURITY_SCHEMES)
    messages = spec["components"]["messages"]
    for channel in spec["channels"].values():
        channel["servers"] = [{"$ref": f"#/servers/{name}"} for name in SERVERS]
        # The channel key is the publisher's title: `<type>.v<version>` or `deadletter`.
        name = channel["messages"]["Message"]["$ref"].rsplit("/", 1)[-1].removesuffix(":Message")
        message = messages[f"{name}:Message"]
        if name == DEADLETTER_KEY:
            message["headers"] = _deadletter_headers_schema()
            message["correlationId"] = {
                "location": f"$message.header#/{CORRELATION_HEADER}",
                "description": "The dead event's correlation id; also in the record's `headers.correlation_id`.",
            }
        else:
            message["headers"] = _event_headers_schema()
            message["correlationId"] = {
                "location": "$message.payload#/correlation_id",
                "description": "Always in the envelope body; the shared publisher copies it into the "
                f"`{CORRELATION_HEADER}` NATS header too.",
            }
        if name in examples:
            message["examples"] = [copy.deepcopy(examples[name])]
    return spec


@functools.cache
def asyncapi_document() -> dict[str, Any]:
    broker = NatsBroker()  # never connected: it only describes the subjects
    for (event_type, version), model in sorted(REGISTRY.items()):
        broker.publisher(
            event_type,
            stream=EVENTS_STREAM,
            title=f"{event_type}.v{version}",
            description=(model.__doc__ or "").strip()
            + f" Stream {EVENTS_STREAM}; header Nats-Msg-Id equals event_id; correlation_id in the body and header.",
            schema=typed_envelope(model),
        )
    broker.publisher(
        f"{subjects.DEADLETTER_PREFIX}.>",
        stream=DEADLETTER_STREAM,
        title=DEADLETTER_KEY,
        description=(
            f"Messages a consumer could not handle, with the error; republished as deadletter.<subject> on stream "
            f"{DEADLETTER_STREAM}. Read them; nothing retries them by itself."
        ),
        schema=DeadLetter,
    )
    spec = AsyncAPI(
        broker,
        title="Opsdesk events",
        version="1.0.0",
        description=(
            "Events Opsdesk services publish on NATS JetStream (stream OPSDESK_EVENTS; subject = event type). "
            "Every event is one JSON envelope (event_id, type, version, occurred_at, producer, correlation_id, "
            "causation_id, subject_id, data). How to consume them (NATS users, durable consumers, replay, "
            "idempotency, versions, dead letters): docs/consuming-events.md."
        ),
    )
    return _complete(spec.to_specification().to_jsonable(), stored_examples())
