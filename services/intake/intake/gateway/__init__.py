"""The gateway: what every request from outside passes before a service sees it.

- `paths.py`: a dot segment (encoded or not) is a 404 before any routing;
- `routing.py`: `/api/v1/<prefix>/...` to the owning service, with who may read and write through it;
- `tokens.py`: the internal token minted per forwarded request, naming the caller, for one service;
- `compose.py`: what the gateway answers by asking services itself (an asset with its tickets, calendars);
- `openapi.py`: one OpenAPI document for the whole API;
- `dead_letters.py`: the administrator's dead letters (list, read, replay), answered by the gateway itself;
- `audit.py`: every service's tamper-evident trail verified as one (issue 16).
"""

from __future__ import annotations

from fastapi import APIRouter

from . import audit, compose, dead_letters, openapi, routing
from .paths import DotSegmentGuard
from .tokens import internal_minter

__all__ = ["DotSegmentGuard", "internal_minter", "routers"]


def routers() -> list[APIRouter]:
    """In this order: the composed routes and the merged document before the catch-all prefixes they share."""
    return [compose.router, openapi.router, dead_letters.router, audit.router, routing.router]
