"""A ticket's timeline: comments, internal notes and status changes in time order (pure).

Acts no person took (dispatch assigning, the SLA monitor, a service reacting to an event) are named by what did
them, in the reader's language ("系统派单"), never by a service's English display name."""

from __future__ import annotations

from typing import Any

from .labels import N_

# Who acted, when it was one of our services rather than a person (the history's `by`).
SYSTEM_ACTORS: dict[str, str] = {
    "desk": N_("Service desk"),  # intake's own words to the requester (e.g. when an engineer comes); was "Service desk" in English
    "dispatch": N_("Automatic dispatch"),
    "sla-monitor": N_("SLA monitor"),
    "knowledge": N_("Knowledge base"),
    "intake": N_("System"),
    "assets": N_("Asset register"),
    "reporting": N_("System"),
    "service": N_("System"),
    "system": N_("System"),
}


def system_label(by: str | None) -> str | None:
    """The message id naming an automatic act's author, or None for a person."""
    return SYSTEM_ACTORS.get((by or "").strip().lower())


def timeline(ticket: dict[str, Any], history: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Comments and status changes in time order (newest last); `system` is set for automatic acts."""
    items: list[dict[str, Any]] = [
        {"kind": "note" if c.get("internal") else "comment", "at": c["at"], "who": c.get("author_name") or c.get("author"),
         "system": system_label(c.get("author")), "body": c["body"]}
        for c in ticket.get("comments") or []
    ]
    for entry in history or []:
        changes = entry.get("changes") or {}
        if "status" in changes:
            items.append({"kind": "status", "at": entry["at"], "who": entry.get("by_name") or entry.get("by"),
                          "system": system_label(entry.get("by")),
                          "old": changes["status"].get("old"), "new": changes["status"].get("new"),
                          "body": (changes.get("reason") or {}).get("new") or ""})
    items.sort(key=lambda i: str(i["at"]))
    return items
