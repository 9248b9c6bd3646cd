"""Durations as compact log-bucket histograms: mergeable across months, percentiles within 1% without the raw values."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

# Bucket i holds values in (GAMMA^(i-1), GAMMA^i] seconds; the estimate 2*GAMMA^i/(GAMMA+1) is within 1% of any of them.
GAMMA = 1.02
_LOG_GAMMA = math.log(GAMMA)
RELATIVE_ERROR = (GAMMA - 1) / (GAMMA + 1)


def bucket_of(seconds: float) -> int:
    """Index of the bucket a duration falls in; anything under a second shares bucket 0 (estimated as 1 s)."""
    if seconds <= 1.0:
        return 0
    return math.ceil(math.log(seconds) / _LOG_GAMMA - 1e-9)


def estimate(index: int) -> float:
    return 2 * GAMMA**index / (GAMMA + 1) if index > 0 else 1.0


def merge(sketches: Iterable[Mapping[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for sketch in sketches:
        for key, n in sketch.items():
            out[key] = out.get(key, 0) + n
    return out


def count(sketch: Mapping[str, float]) -> int:
    return int(sum(sketch.values()))


def quantile(sketch: Mapping[str, float], q: float) -> float | None:
    """Nearest-rank quantile (the smallest value with at least q of the observations at or below it), in seconds."""
    total = count(sketch)
    if total == 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0.0
    for index in sorted(int(k) for k in sketch):
        seen += sketch[str(index)]
        if seen >= rank:
            return estimate(index)
    return estimate(max(int(k) for k in sketch))  # unreachable: ranks never exceed the total
