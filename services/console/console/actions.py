"""Which actions a ticket page offers: those the API allows this role in this state (pure; the API still decides)."""

from __future__ import annotations

from typing import Any

from .queues import awaits_review, is_held

DESK = frozenset({"agent", "manager", "admin"})


def offered(ticket: dict[str, Any], role: str) -> list[str]:
    allowed = set(ticket.get("allowed_transitions") or [])
    status = ticket.get("status")
    out: list[str] = []
    if role == "auditor":
        return out
    if role == "agency":
        # The agency decides the authorization (as in its inbox); it neither comments nor works on tickets.
        return ["authorize"] if (ticket.get("authorization") or {}).get("state") == "awaiting" else []
    ended = status in ("closed", "cancelled")
    if not ended:
        out.append("comment")
    if role not in DESK:
        return out
    if status == "awaiting_authorization" and not ticket.get("acknowledged_at"):
        out.append("acknowledge")  # POST /tickets/{id}/acknowledge: the requester is told it waits (response met)
    if is_held(ticket):
        out.append("dispatch")
    if status in ("new", "assigned", "pending") and "in_progress" in allowed:
        out.append("start")
    if "pending" in allowed:
        out.append("pending")
    if "resolved" in allowed:
        out.append("resolve")
    if awaits_review(ticket):
        out.append("review")
    assignee = ticket.get("assignee") or {}
    if assignee and not assignee.get("withdrawn_at") and status in ("assigned", "in_progress", "pending"):
        if not assignee.get("confirmed_at"):
            out.append("confirm")
        out.append("reassign")
    record = ticket.get("service_record") or {}
    if "closed" in allowed and record.get("review") not in ("pending", "returned"):
        out.append("close")
    if status == "resolved":
        out.append("reopen")
    if "cancelled" in allowed:
        out.append("cancel")
    return out
