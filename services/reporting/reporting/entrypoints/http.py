"""Reporting's HTTP edge."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

router = APIRouter(prefix="/api/v1")


def _adapters(request: Request) -> Any:
    return request.app.state.adapters


@router.get("/summary", tags=["reports"], summary="Totals per counter and label set, as exported to Prometheus")
async def summary(wired: Annotated[Any, Depends(_adapters)]) -> dict[str, list[dict[str, object]]]:
    return wired.tally.summary()  # type: ignore[no-any-return]
