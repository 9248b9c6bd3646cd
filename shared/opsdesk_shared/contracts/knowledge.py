"""Knowledge base and problem events, produced by the knowledge service."""

from __future__ import annotations

from .envelope import EventData

# Every event model of this family, for the registry.
MODELS: tuple[type[EventData], ...] = ()
