"""Charts as PNG bytes (matplotlib, Agg), labels in the CJK font."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib import font_manager
from matplotlib import pyplot as plt

from .fonts import CJK_FONT, FontMissing


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
            second = chart.get("values2")
            width = 0.4 if second else 0.6
            ax.bar([p - (width / 2 if second else 0) for p in positions], values, width=width, color="#3b6ea5")
            if second:
                ax.bar([p + width / 2 for p in positions], [float(v) for v in second], width=width, color="#e0873a")
                ax.legend(chart.get("legend", []), prop=font)
            ax.set_xticks(positions)
            ax.set_xticklabels(labels, fontproperties=font)
            if chart.get("percent"):
                ax.set_ylim(0, 100)
        ax.set_title(chart.get("title", ""), fontproperties=title_font)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png")
        return out.getvalue()
    finally:
        plt.close(fig)
