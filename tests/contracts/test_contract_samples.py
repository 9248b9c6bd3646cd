"""Stored samples per contract version: a breaking change to a model fails here, in review, not in production."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import jsonschema
import pytest

from opsdesk_shared.asyncapi import EXAMPLES_FILE, asyncapi_document, examples_from_samples, json_schemas
from opsdesk_shared.contracts import REGISTRY, Envelope, payload_model

SAMPLES = Path(__file__).parent / "samples"
REPO = Path(__file__).resolve().parents[2]


def sample_files() -> list[Path]:
    return sorted(SAMPLES.glob("*.json"))


def test_every_registered_contract_has_a_stored_sample() -> None:
    stored = {p.name.removesuffix(".json") for p in sample_files()}
    registered = {f"{t}.v{v}" for t, v in REGISTRY}
    assert registered == stored


@pytest.mark.parametrize("path", sample_files(), ids=lambda p: p.stem)
def test_stored_sample_still_validates_against_its_model(path: Path) -> None:
    raw = json.loads(path.read_text())
    envelope = Envelope.model_validate(raw)
    data = payload_model(envelope.type, envelope.version).model_validate(envelope.data)
    # A round trip keeps every field the sample carries: nothing renamed or dropped (added optional fields are fine).
    dumped = data.model_dump(mode="json")
    assert raw["data"].keys() <= dumped.keys()
    assert all(dumped[k] == raw["data"][k] or k.endswith("_at") for k in raw["data"])
    assert f"{envelope.type}.v{envelope.version}" == path.stem


@pytest.mark.parametrize("path", sample_files(), ids=lambda p: p.stem)
def test_stored_sample_validates_against_published_json_schema(path: Path) -> None:
    schema = json.loads((REPO / "docs" / "schemas" / f"{path.stem}.schema.json").read_text())
    jsonschema.validate(json.loads(path.read_text()), schema)


def test_consumers_tolerate_fields_added_by_newer_producers() -> None:
    raw = json.loads((SAMPLES / "ticket.created.v1.json").read_text())
    raw["new_envelope_field"] = 1
    raw["data"]["new_payload_field"] = "x"
    envelope = Envelope.model_validate(raw)
    payload_model(envelope.type, envelope.version).model_validate(envelope.data)


def test_published_docs_match_the_contracts() -> None:
    spec = importlib.util.spec_from_file_location("export_schemas", REPO / "scripts" / "export_schemas.py")
    assert spec and spec.loader
    exporter = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(exporter)
    stale = [
        name for name, schema in json_schemas().items()
        if (REPO / "docs" / "schemas" / name).read_text() != exporter.render(schema)
    ]
    assert not stale, f"run `make schemas`: {stale}"
    # The AsyncAPI examples are the stored samples, copied into the shared package (the gateway serves them).
    assert EXAMPLES_FILE.read_text() == exporter.render(examples_from_samples(SAMPLES)), "run `make schemas`"
    assert (REPO / "docs" / "asyncapi.json").read_text() == exporter.render(asyncapi_document())


def test_asyncapi_document_names_every_subject() -> None:
    channels = asyncapi_document()["channels"]
    addresses = {c["address"] for c in channels.values()}
    assert {t for t, _ in REGISTRY} <= addresses
    assert "deadletter.>" in addresses
