"""Priority from impact x urgency, shown on the call form before the ticket is recorded.

The API decides the ticket's priority (intake/priority.py); this copy only previews it, and a test compares the two
tables so they cannot drift apart.
"""

from __future__ import annotations

MATRIX: dict[tuple[str, str], str] = {
    ("high", "high"): "P1",
    ("high", "medium"): "P2",
    ("medium", "high"): "P2",
    ("high", "low"): "P3",
    ("medium", "medium"): "P3",
    ("low", "high"): "P3",
    ("medium", "low"): "P4",
    ("low", "medium"): "P4",
    ("low", "low"): "P4",
}


def preview(impact: str | None, urgency: str | None, default: str | None = None) -> str | None:
    if impact and urgency:
        return MATRIX.get((impact, urgency), default)
    return default
