"""Loads of decisions in flight: an assignment chosen but not yet counted on its engineer's stored load.

The handlers of a pulled batch decide at once (up to 32), each from the roster as this process knows it; the load a
decision adds is counted only once its assignment is stored, some database round trips later. Until then every
other decision saw the engineer as free as before, so a burst of tickets all went to the same engineer (and their
load updates then queued on that one engineer's document, one after another: dispatch's assignments fell seconds
behind under load, issue 17). A decision reserves its engineer here at once, before anything is awaited, and the
roster adds the reservations to the loads it answers until the stored load counts them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

from .domain import Engineer


class InFlightLoads:
    def __init__(self) -> None:
        self._reserved: Counter[str] = Counter()

    def reserve(self, engineer_id: str) -> Callable[[], None]:
        """Count one more on the engineer until the returned release is called (once; later calls do nothing)."""
        self._reserved[engineer_id] += 1
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            self._reserved[engineer_id] -= 1
            if self._reserved[engineer_id] <= 0:
                del self._reserved[engineer_id]

        return release

    def applied(self, engineers: Iterable[Engineer]) -> list[Engineer]:
        """The engineers with the reservations added to their open load."""
        return [e.model_copy(update={"open_load": e.open_load + n}) if (n := self._reserved.get(e.id)) else e for e in engineers]
