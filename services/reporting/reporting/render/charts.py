"""Charts as PNG bytes (matplotlib, Agg), labels in the CJK font."""

from __future__ import annotations

import io
import math
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib import font_manager
from matplotlib import pyplot as plt

from .fonts import CJK_FONT, FontMissing

CLIP_QUANTILE = 0.75
CLIP_FACTOR = 1.5


def clip_limit(values: list[float]) -> float | None:
    """Where to cut the value axis so one outlier (a 4,586-minute P90) does not flatten every other bar: 1.5 times
    the 75th percentile (nearest rank) of the plotted values, when the largest is more than twice that; else None."""
    positive = sorted(v for v in values if v > 0)
    if len(positive) < 3:
        return None
    q = positive[max(1, math.ceil(CLIP_QUANTILE * len(positive))) - 1]
    raw = q * CLIP_FACTOR
    step = 10 ** math.floor(math.log10(raw)) / 2  # a round axis end: 55.9 -> 60, 1,234 -> 1,500
    limit = math.ceil(raw / step) * step
    return limit if positive[-1] > 2 * limit else None


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:,.1f}"


def render(chart: dict[str, Any], *, width_in: float = 6.5, height_in: float = 2.8) -> bytes:
    if not CJK_FONT.exists():
        raise FontMissing(str(CJK_FONT))
    font = font_manager.FontProperties(fname=str(CJK_FONT), size=8)
    title_font = font_manager.FontProperties(fname=str(CJK_FONT), size=10)
    labels = [str(x) for x in chart["labels"]]
    values = [float(v) for v in chart["values"]]
    fig, ax = plt.subplots(figsize=(width_in, height_in), dpi=110)
    try:
        if not labels:
            ax.text(0.5, 0.5, "-", ha="center", va="center", fontproperties=title_font)
            ax.set_axis_off()
        elif chart["type"] == "pie":
            ax.pie(values, labels=labels, autopct="%1.0f%%", textprops={"fontproperties": font})
            ax.axis("equal")
        elif chart["type"] == "barh":
            ax.barh(labels[::-1], values[::-1], color="#3b6ea5")
            for tick in ax.get_yticklabels():
                tick.set_fontproperties(font)
        else:
            positions = list(range(len(labels)))
            second = [float(v) for v in chart.get("values2") or []]
            width = 0.4 if second else 0.6
            limit = clip_limit(values + second) if chart.get("clip") else None
            series = [([p - (width / 2 if second else 0) for p in positions], values, "#3b6ea5")]
            if second:
                series.append(([p + width / 2 for p in positions], second, "#e0873a"))
            clipped: list[str] = []
            for xs, ys, color in series:
                shown = [min(y, limit) if limit else y for y in ys]
                ax.bar(xs, shown, width=width, color=color)
                for x, y in zip(xs, ys, strict=True):
                    if limit and y > limit:
                        # The cut bar carries its real value, so nothing is hidden by the shorter axis.
                        ax.text(x, limit, _fmt(y), ha="center", va="bottom", fontproperties=font, color="#b00020")
                        clipped.append(_fmt(y))
            if second:
                ax.legend(chart.get("legend", []), prop=font)
            ax.set_xticks(positions)
            ax.set_xticklabels(labels, fontproperties=font)
            for tick in ax.get_yticklabels():
                tick.set_fontproperties(font)
            if chart.get("percent"):
                ax.set_ylim(0, 100)
            elif limit:
                ax.set_ylim(0, limit * 1.12)
                note = str(chart.get("note") or "axis cut at %s (%s)") % (_fmt(limit), ", ".join(clipped))
                fig.text(0.01, 0.01, note, fontproperties=font, color="#555555")
        ax.set_title(chart.get("title", ""), fontproperties=title_font)
        fig.tight_layout(rect=(0, 0.06, 1, 1))
        out = io.BytesIO()
        fig.savefig(out, format="png")
        return out.getvalue()
    finally:
        plt.close(fig)
