"""An example request body for every operation of the merged document that has a body and no example of its own.

A client reading /api/v1/openapi.json should see, for each body, something it can send. The services' own examples
(pydantic `examples`) are kept; where a service gave none, one is drawn from the schema here: its own examples and
defaults first, then the first enum value, the minimum, a local time with the site's offset. Such examples are marked
`x-example-generated` so a reader knows nobody wrote them; the coverage test checks that each validates against its schema.
"""

from __future__ import annotations

import re
from typing import Any

MAX_DEPTH = 8
SAMPLE_TIME = "2026-11-30T09:00:00+08:00"
BY_FORMAT = {
    "date-time": SAMPLE_TIME, "date": "2026-11-30", "time": "09:00:00", "email": "zhang.wei@example.gov.cn",
    "uri": "https://example.gov.cn/", "uuid": "6f1c2a8e-2b7d-4c55-9a3e-1d2f3a4b5c6d", "binary": "(file)",
    "password": "Change-me-2026",
}


def _from_pattern(pattern: str) -> str | None:
    """The shortest text of a simple pattern (literals, classes, groups of alternatives, quantifiers); None past that."""
    out: list[str] = []
    i, body = 0, pattern.removeprefix("^").removesuffix("$")
    while i < len(body):
        c = body[i]
        if c == "(":
            depth, j = 1, i + 1
            while j < len(body) and depth:
                depth += {"(": 1, ")": -1}.get(body[j], 0)
                j += 1
            first = body[i + 1 : j - 1].removeprefix("?:").split("|")[0]
            piece, i = _from_pattern(first), j
        elif c == "[":
            j = body.index("]", i + 2)
            inside = body[i + 1 : j]
            piece, i = (inside[1] if inside.startswith("\\") else inside[0]), j + 1
        elif c == "\\":
            piece, i = {"d": "1", "w": "a", "s": " "}.get(body[i + 1], body[i + 1]), i + 2
        elif c in ".":
            piece, i = "a", i + 1
        else:
            piece, i = c, i + 1
        if piece is None:
            return None
        count = 1
        if i < len(body) and body[i] == "{":
            j = body.index("}", i)
            count, i = int(body[i + 1 : j].split(",")[0] or 1), j + 1
        elif i < len(body) and body[i] in "*?":
            count, i = 0, i + 1
        elif i < len(body) and body[i] == "+":
            i += 1
        out.append(piece * count)
    text = "".join(out)
    return text if re.search(pattern, text) else None


def _resolve(doc: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/components/schemas/"):
        node = ((doc.get("components") or {}).get("schemas") or {}).get(node["$ref"].rsplit("/", 1)[1], {})
    return node


def has_example(doc: dict[str, Any], media: dict[str, Any]) -> bool:
    schema = _resolve(doc, media.get("schema"))
    return "example" in media or "examples" in media or (isinstance(schema, dict) and ("example" in schema or "examples" in schema))


def example_of(doc: dict[str, Any], schema: Any, depth: int = 0) -> Any:
    """A value the schema accepts, as far as a generic reading can tell (a `pattern` is trusted to its examples)."""
    schema = _resolve(doc, schema)
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return None
    for key in ("examples", "example", "default", "const"):
        if key in schema:
            value = schema[key]
            return value[0] if key == "examples" and isinstance(value, list) and value else value
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            choices = [c for c in schema[key] if _resolve(doc, c).get("type") != "null"] or schema[key]
            return example_of(doc, choices[0], depth + 1)
    if "allOf" in schema:
        return example_of(doc, schema["allOf"][0], depth + 1)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        properties: dict[str, Any] = schema.get("properties") or {}
        required = schema.get("required") or list(properties)
        return {name: example_of(doc, properties[name], depth + 1) for name in required if name in properties}
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        return [example_of(doc, schema.get("items", {}), depth + 1) for _ in range(count)]
    if kind == "integer":
        return int(schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1 if "exclusiveMinimum" in schema else 1))
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return True
    if kind == "string":
        if schema.get("format") in BY_FORMAT:
            return BY_FORMAT[schema["format"]]
        if "pattern" in schema and (matched := _from_pattern(str(schema["pattern"]))) is not None:
            return matched
        text = str(schema.get("title") or "text").lower().replace(" ", "_")
        low, high = int(schema.get("minLength", 1)), int(schema.get("maxLength", 40))
        return (text * (low // max(len(text), 1) + 1))[: max(low, min(len(text), high))]
    return None


def fill_examples(doc: dict[str, Any]) -> int:
    """Give every request body without an example one drawn from its schema; returns how many were drawn."""
    drawn = 0
    for item in (doc.get("paths") or {}).values():
        for op in item.values():
            body = op.get("requestBody") if isinstance(op, dict) else None
            content: dict[str, Any] = (body or {}).get("content") or {}
            if not content or any(has_example(doc, media) for media in content.values()):
                continue
            for media in content.values():
                if "schema" in media:
                    media["example"] = example_of(doc, media["schema"])
                    media["x-example-generated"] = True
                    drawn += 1
    return drawn
