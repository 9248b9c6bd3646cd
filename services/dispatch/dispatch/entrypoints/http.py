"""Dispatch's HTTP edge: read the roster and assignments."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status

from ..domain import Assignment, Engineer

router = APIRouter(prefix="/api/v1")


def _adapters(request: Request) -> Any:
    return request.app.state.adapters


Wired = Annotated[Any, Depends(_adapters)]


@router.get("/engineers", response_model=list[Engineer], tags=["roster"])
async def list_engineers(wired: Wired) -> list[Engineer]:
    return await wired.roster.engineers()  # type: ignore[no-any-return]


@router.get("/assignments/{ticket_id}", response_model=Assignment, tags=["assignments"])
async def read_assignment(ticket_id: str, wired: Wired) -> Assignment:
    assignment = await wired.assignments.get(ticket_id)
    if assignment is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"ticket {ticket_id} has no assignment")
    return assignment  # type: ignore[no-any-return]
