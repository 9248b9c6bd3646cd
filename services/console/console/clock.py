"""Times as people read them: local wall-clock time, and clocks as relative time ("剩余 35 分钟", "已逾期 12 分钟").

The API sends instants with the site's offset; the console shows them in the site's zone whatever the server's own
zone is. A clock's colour follows the SLA monitor's own warning and due times, never a second rule of ours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

Translate = Callable[..., str]


def parse_instant(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def local_time(value: Any, zone: ZoneInfo, *, with_date: bool = True) -> str:
    instant = parse_instant(value)
    if instant is None:
        return ""
    local = instant.astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M" if with_date else "%H:%M")


def duration_words(seconds: float, ngettext: Translate) -> str:
    """Whole minutes under two hours, then hours and minutes, then days and hours."""
    minutes = max(0, int(seconds // 60))
    if minutes < 120:
        return ngettext("%(num)d minute", "%(num)d minutes", minutes) % {"num": minutes}
    hours, mins = divmod(minutes, 60)
    if hours < 48:
        return (ngettext("%(num)d hour", "%(num)d hours", hours) % {"num": hours}) + (
            " " + ngettext("%(num)d minute", "%(num)d minutes", mins) % {"num": mins} if mins else ""
        )
    days, hrs = divmod(hours, 24)
    return (ngettext("%(num)d day", "%(num)d days", days) % {"num": days}) + (
        " " + ngettext("%(num)d hour", "%(num)d hours", hrs) % {"num": hrs} if hrs else ""
    )


@dataclass(frozen=True)
class ClockView:
    """One SLA clock as shown: its state class (ok, warning, breached, paused, met, cancelled) and its words."""

    name: str
    state: str
    css: str
    due_at: datetime | None
    warning_at: datetime | None
    text: str


def relative(due: datetime, now: datetime, gettext: Translate, ngettext: Translate) -> str:
    seconds = (due - now).total_seconds()
    if seconds >= 0:
        return gettext("%(time)s left") % {"time": duration_words(seconds, ngettext)}
    return gettext("overdue by %(time)s") % {"time": duration_words(-seconds, ngettext)}


def clock_view(timer: dict[str, Any], now: datetime, gettext: Translate, ngettext: Translate) -> ClockView:
    state = str(timer.get("state", ""))
    due = parse_instant(timer.get("due_at"))
    warning = parse_instant(timer.get("warning_at"))
    name = str(timer.get("name", ""))
    if state == "paused":
        return ClockView(name, state, "paused", due, warning, gettext("paused"))
    if state == "met":
        return ClockView(name, state, "met", due, warning, gettext("met"))
    if state == "cancelled":
        return ClockView(name, state, "cancelled", due, warning, gettext("stopped"))
    if state == "breached" or (due is not None and due <= now):
        text = relative(due, now, gettext, ngettext) if due is not None else gettext("breached")
        return ClockView(name, "breached", "breached", due, warning, text)
    if due is None:
        return ClockView(name, state, "ok", due, warning, "")
    css = "warning" if warning is not None and warning <= now else "ok"
    return ClockView(name, state, css, due, warning, relative(due, now, gettext, ngettext))
