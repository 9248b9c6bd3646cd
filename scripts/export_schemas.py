"""Writes docs/asyncapi.json and docs/schemas/*.json from the contracts; a test keeps them in step."""

from __future__ import annotations

import json
from pathlib import Path

from opsdesk_shared.asyncapi import asyncapi_document, json_schemas

DOCS = Path(__file__).resolve().parents[1] / "docs"


def render(doc: object) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> None:
    (DOCS / "schemas").mkdir(parents=True, exist_ok=True)
    (DOCS / "asyncapi.json").write_text(render(asyncapi_document()))
    for name, schema in json_schemas().items():
        (DOCS / "schemas" / name).write_text(render(schema))
    print(f"wrote {DOCS / 'asyncapi.json'} and {len(json_schemas())} schemas in {DOCS / 'schemas'}")


if __name__ == "__main__":
    main()
