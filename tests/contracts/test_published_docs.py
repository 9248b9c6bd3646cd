"""What an outside system reads before it writes a line of code: the JSON Schemas name their dialect and identity,
every AsyncAPI message has an example that really validates, the correlation id is where the document says, and
the servers it lists are the ones the deployment runs, with their security."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from opsdesk_shared.asyncapi import JSON_SCHEMA_DIALECT, asyncapi_document, json_schemas, schema_id
from opsdesk_shared.contracts import REGISTRY

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "docs" / "schemas"


def published_schemas() -> list[Path]:
    return sorted(SCHEMAS.glob("*.schema.json"))


def resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def messages() -> list[tuple[str, dict[str, Any]]]:
    """(channel key, message object) for every channel of the document."""
    doc = asyncapi_document()
    # Sorted: the document's channel order is not stable between processes, and every xdist worker must collect the
    # same test ids in the same order.
    return sorted(
        ((key, resolve(doc, message["$ref"])) for key, channel in doc["channels"].items() for message in channel["messages"].values()),
        key=lambda pair: pair[0],
    )


@pytest.mark.parametrize("path", published_schemas(), ids=lambda p: p.name)
def test_every_published_schema_names_its_dialect_and_a_stable_id(path: Path) -> None:
    schema = json.loads(path.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    name = path.name.removesuffix(".schema.json")
    assert schema["$id"] == schema_id(name)
    if name != "deadletter":
        event_type, _, version = name.rpartition(".")
        assert schema["$id"] == f"urn:opsdesk:event:{event_type}:{version}"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_ids_are_unique_and_cover_every_contract() -> None:
    ids = [s["$id"] for s in json_schemas().values()]
    assert len(ids) == len(set(ids))
    assert {f"urn:opsdesk:event:{t}:v{v}" for t, v in REGISTRY} | {"urn:opsdesk:deadletter:v1"} == set(ids)
    assert all(s["$schema"] == JSON_SCHEMA_DIALECT for s in json_schemas().values())


@pytest.mark.parametrize(("channel", "message"), messages(), ids=[k for k, _ in messages()])
def test_every_message_has_an_example_that_validates_against_its_published_schema(channel: str, message: dict[str, Any]) -> None:
    assert message.get("examples"), f"{channel} has no example"
    schema = json.loads((SCHEMAS / f"{channel}.schema.json").read_text())
    for example in message["examples"]:
        jsonschema.validate(example["payload"], schema)
        jsonschema.validate(example["headers"], message["headers"])
        if channel != "deadletter":
            assert example["payload"]["type"] + f".v{example['payload']['version']}" == channel
            assert example["headers"]["Nats-Msg-Id"] == example["payload"]["event_id"]
            assert example["headers"]["correlation_id"] == example["payload"]["correlation_id"]


@pytest.mark.parametrize(("channel", "message"), messages(), ids=[k for k, _ in messages()])
def test_the_correlation_id_is_documented_where_it_travels(channel: str, message: dict[str, Any]) -> None:
    location = message["correlationId"]["location"]
    if channel == "deadletter":
        assert location == "$message.header#/correlation_id"
        return
    # The body always carries it (a required envelope field); the header is the shared publisher's copy.
    assert location == "$message.payload#/correlation_id"
    assert "correlation_id" in json.loads((SCHEMAS / f"{channel}.schema.json").read_text())["required"]
    assert "correlation_id" in message["headers"]["required"]


def test_there_is_a_production_server_with_user_password_security() -> None:
    doc = asyncapi_document()
    servers = doc["servers"]
    assert {"development", "production"} <= servers.keys()
    for name, server in servers.items():
        assert server["protocol"] == "nats"
        assert server["security"], f"{name} has no security"
        for requirement in server["security"]:
            assert resolve(doc, requirement["$ref"])["type"] == "userPassword"
    assert all({"$ref": "#/servers/production"} in channel["servers"] for channel in doc["channels"].values())


def production_urls() -> set[str]:
    server = asyncapi_document()["servers"]["production"]
    host = server["host"]
    if "variables" not in server:
        return {f"nats://{host}"}
    return {f"nats://{host.replace('{host}', value)}" for value in server["variables"]["host"]["enum"]}


def test_the_production_server_is_the_nats_the_deployments_connect_to() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    compose_urls = {
        env["NATS_URL"]
        for service in compose["services"].values()
        if isinstance(env := service.get("environment"), dict) and "NATS_URL" in env
    }
    k8s = [d for d in yaml.safe_load_all((REPO / "deploy" / "k8s" / "10-config.yaml").read_text()) if d]
    k8s_urls = {d["data"]["NATS_URL"] for d in k8s if d.get("kind") == "ConfigMap" and "NATS_URL" in d.get("data", {})}
    assert compose_urls and k8s_urls
    assert compose_urls | k8s_urls <= production_urls()
