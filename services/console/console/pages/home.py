"""`/`: each role's home. The desk's queue, the engineer's phone (my assignments), the requester's portal (my
tickets), the dashboard for managers and auditors, the agency's inboxes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ..web import Ctx, signed_in
from .agency import agency_home
from .desk import desk_home
from .engineer import engineer_home
from .manager import manager_home
from .portal import requester_home

router = APIRouter()


@router.get("/")
async def home(ctx: Annotated[Ctx, Depends(signed_in)]) -> Response:
    assert ctx.session is not None
    role = ctx.session.role
    if role in ("agent", "admin"):
        return await desk_home(ctx)
    if role == "engineer":
        return await engineer_home(ctx)
    if role == "requester":
        return await requester_home(ctx)
    if role == "agency":
        return await agency_home(ctx)
    return await manager_home(ctx)  # manager and auditor
