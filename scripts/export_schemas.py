"""Writes docs/asyncapi.json, docs/schemas/*.json and the AsyncAPI examples from the contracts and their stored
samples; a test keeps them in step.

Order matters: the examples (from tests/contracts/samples) are written first, into the shared package beside
asyncapi.py, because the AsyncAPI document (also served live by the gateway) reads them from there.
"""

from __future__ import annotations

import json
from pathlib import Path

from opsdesk_shared import asyncapi

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
SAMPLES = REPO / "tests" / "contracts" / "samples"


def render(doc: object) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> None:
    asyncapi.EXAMPLES_FILE.write_text(render(asyncapi.examples_from_samples(SAMPLES)))
    asyncapi.asyncapi_document.cache_clear()
    (DOCS / "schemas").mkdir(parents=True, exist_ok=True)
    (DOCS / "asyncapi.json").write_text(render(asyncapi.asyncapi_document()))
    schemas = asyncapi.json_schemas()
    for name, schema in schemas.items():
        (DOCS / "schemas" / name).write_text(render(schema))
    print(f"wrote {asyncapi.EXAMPLES_FILE.name}, {DOCS / 'asyncapi.json'} and {len(schemas)} schemas in {DOCS / 'schemas'}")


if __name__ == "__main__":
    main()
