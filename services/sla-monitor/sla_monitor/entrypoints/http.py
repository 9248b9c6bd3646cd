"""The SLA monitor's HTTP edge: read a ticket's timers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status

from .. import domain
from ..domain import Timer

router = APIRouter(prefix="/api/v1")


def _adapters(request: Request) -> Any:
    return request.app.state.adapters


@router.get("/timers/{ticket_id}/{name}", response_model=Timer, tags=["timers"])
async def read_timer(ticket_id: str, name: str, wired: Annotated[Any, Depends(_adapters)]) -> Timer:
    timer = await wired.store.get(domain.timer_key(ticket_id, name))
    if timer is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {name} timer for ticket {ticket_id}")
    return timer  # type: ignore[no-any-return]
