"""The desk's list of clocks: which running clocks match, in what order, and the cursor that pages through them.

One filter, read the same way by the memory store (`matches`) and by MongoDB/FerretDB (`mongo_query`): plain field
conditions with `$in`, `$or`, `$and`, ranges and null, sorted by (due_at, _id) on the existing (status, due_at) index.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from .domain import Timer

ListState = Literal["running", "paused"]
TimerCursor = tuple[datetime, str]  # (due_at, key): the list's order, ascending


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class TimerFilter:
    """state=running: counting down, a breached clock included until its ticket closes; paused: held (pending)."""

    now: datetime
    state: ListState = "running"
    due_before: datetime | None = None
    warned: bool | None = None  # past its warning time (the monitor's sla.warning follows within a sweep)
    breached: bool | None = None  # breached, or past its due time and not yet swept
    names: frozenset[str] = frozenset()


def matches(f: TimerFilter, t: Timer) -> bool:
    if t.due_at is None:
        return False
    if f.state == "running":
        if not (t.status == "running" or (t.status == "breached" and t.stopped_at is None)):
            return False
    elif t.status != "paused":
        return False
    if f.names and t.name not in f.names:
        return False
    if f.due_before is not None and not t.due_at < f.due_before:
        return False
    if f.warned is not None:
        warned = t.warning_at is not None and t.warning_at <= f.now
        if warned != f.warned:
            return False
    if f.breached is not None:
        breached = t.status == "breached" or (t.status == "running" and t.due_at <= f.now)
        if breached != f.breached:
            return False
    return True


def after(cursor: TimerCursor | None, t: Timer) -> bool:
    if cursor is None:
        return True
    assert t.due_at is not None
    return (t.due_at, t.key) > cursor


def mongo_query(f: TimerFilter, *, cursor: TimerCursor | None) -> dict[str, Any]:
    """One find's filter: no aggregation, nothing FerretDB v1 lacks."""
    conditions: list[dict[str, Any]] = [{"due_at": {"$ne": None}}]
    if f.state == "running":
        conditions.append({"$or": [{"status": "running"}, {"status": "breached", "stopped_at": None}]})
    else:
        conditions.append({"status": "paused"})
    if f.names:
        conditions.append({"name": {"$in": sorted(f.names)}})
    if f.due_before is not None:
        conditions.append({"due_at": {"$lt": f.due_before}})
    if f.warned is True:
        conditions.append({"warning_at": {"$lte": f.now}})
    elif f.warned is False:
        conditions.append({"$or": [{"warning_at": None}, {"warning_at": {"$gt": f.now}}]})
    if f.breached is True:
        conditions.append({"$or": [{"status": "breached"}, {"status": "running", "due_at": {"$lte": f.now}}]})
    elif f.breached is False:
        conditions.append({"status": {"$ne": "breached"}, "due_at": {"$gt": f.now}})
    if cursor is not None:
        due, key = cursor
        conditions.append({"$or": [{"due_at": {"$gt": due}}, {"due_at": due, "_id": {"$gt": key}}]})
    return {"$and": conditions}


def encode_cursor(t: Timer) -> str:
    assert t.due_at is not None
    raw = json.dumps(["timers", t.due_at.astimezone(UTC).isoformat(), t.key]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> TimerCursor:
    try:
        kind, due, key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if kind != "timers" or not isinstance(due, str) or not isinstance(key, str):
            raise ValueError(kind)
        at = datetime.fromisoformat(due)
    except (ValueError, TypeError) as exc:
        raise BadCursor("not a cursor of this list: pass next_cursor as it came") from exc
    if at.tzinfo is None:
        raise BadCursor("not a cursor of this list: pass next_cursor as it came")
    return at, key
