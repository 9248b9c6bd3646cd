"""Every business calendar the monitor knows, with one set of holiday data merged in.

Holiday years come from the chinese-calendar package; an admin's upload for a year replaces the package's (each
year's official schedule is published only months ahead, and packages lag). Calendars are the three built-ins
(office-hours, 24x7, phone-support) unless an admin defined one with the same name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .calendar import BusinessCalendar, office_hours, phone_support, twenty_four_seven
from .holiday_data import YearSchedule


@dataclass(frozen=True)
class CalendarBook:
    calendars: dict[str, BusinessCalendar]
    schedules: dict[int, YearSchedule] = field(default_factory=dict)

    def get(self, name: str) -> BusinessCalendar | None:
        return self.calendars.get(name)


def build_book(
    *, package: dict[int, YearSchedule], uploads: Iterable[YearSchedule], definitions: Iterable[BusinessCalendar]
) -> CalendarBook:
    schedules = dict(package)
    schedules.update({upload.year: upload for upload in uploads})
    calendars = {c.name: c for c in (office_hours(schedules), twenty_four_seven(), phone_support(schedules))}
    for definition in definitions:
        calendars[definition.name] = definition.model_copy(update={"schedules": schedules})
    return CalendarBook(calendars=calendars, schedules=schedules)


class BookHolder:
    """The current book, swapped whole when an admin changes a calendar or uploads a year."""

    def __init__(self, book: CalendarBook) -> None:
        self.book = book
