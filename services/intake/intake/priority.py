"""Priority from impact x urgency (the usual ITIL matrix): P1 needs both high, P4 is low on either side."""

from __future__ import annotations

from typing import Literal

Level = Literal["high", "medium", "low"]
Priority = Literal["P1", "P2", "P3", "P4"]

MATRIX: dict[tuple[Level, Level], Priority] = {
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


def priority_of(impact: Level | None, urgency: Level | None, *, default: Priority) -> Priority:
    """The matrix answer when both are known; the catalog service's default otherwise."""
    if impact is None or urgency is None:
        return default
    return MATRIX[(impact, urgency)]
