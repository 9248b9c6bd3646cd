"""Draws the console's icons (the web app manifest's and the favicon): a desk headset on the project's navy, in SVG
and as PNG (192, 512, and a maskable 512 whose drawing stays in the central safe zone). Run from anywhere:
`.venv/bin/python services/console/scripts/draw_icons.py`; the files are committed."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "console" / "static" / "icons"
NAVY, WHITE, AMBER = "#13294b", "#ffffff", "#f5a623"

SVG = f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" role="img" aria-label="Opsdesk">
<rect width="64" height="64" rx="12" fill="{NAVY}"/>
<path d="M16 36a16 16 0 0 1 32 0v6h-5v-6a11 11 0 0 0-22 0v6h-5z" fill="{WHITE}"/>
<rect x="12" y="38" width="10" height="14" rx="3" fill="{AMBER}"/>
<rect x="42" y="38" width="10" height="14" rx="3" fill="{AMBER}"/>
<path d="M47 52c0 4-4 6-10 6" stroke="{WHITE}" stroke-width="2.5" fill="none" stroke-linecap="round"/>
<circle cx="35" cy="58" r="2.6" fill="{WHITE}"/>
<path d="M26 39l4 4 8-8" stroke="{AMBER}" stroke-width="3" fill="none" stroke-linecap="round" stroke-linejoin="round"/>
</svg>
"""


def draw(size: int, *, maskable: bool = False) -> Image.Image:
    """The SVG's shapes at `size` pixels (drawn 4x larger, then reduced, for smooth edges)."""
    big = size * 4
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if maskable:
        d.rectangle([0, 0, big, big], fill=NAVY)
        scale, offset = big * 0.8 / 64, big * 0.1
    else:
        d.rounded_rectangle([0, 0, big - 1, big - 1], radius=big * 12 / 64, fill=NAVY)
        scale, offset = big / 64, 0.0

    def p(x: float, y: float) -> tuple[float, float]:
        return (offset + x * scale, offset + y * scale)

    def box(x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
        return [p(x0, y0), p(x1, y1)]

    d.arc(box(16, 20, 48, 52), start=180, end=360, fill=WHITE, width=round(5 * scale))
    d.rectangle(box(16, 36, 21, 42), fill=WHITE)
    d.rectangle(box(43, 36, 48, 42), fill=WHITE)
    d.rounded_rectangle(box(12, 38, 22, 52), radius=3 * scale, fill=AMBER)
    d.rounded_rectangle(box(42, 38, 52, 52), radius=3 * scale, fill=AMBER)
    d.arc(box(27, 46, 47, 58), start=0, end=90, fill=WHITE, width=round(2.5 * scale))
    d.line([p(37, 58), p(36, 58)], fill=WHITE, width=round(2.5 * scale))
    d.ellipse(box(32.4, 55.4, 37.6, 60.6), fill=WHITE)
    d.line([p(26, 39), p(30, 43), p(38, 35)], fill=AMBER, width=round(3 * scale), joint="curve")
    return img.resize((size, size), Image.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "icon.svg").write_text(SVG, encoding="utf-8")
    draw(192).save(OUT / "icon-192.png", optimize=True)
    draw(512).save(OUT / "icon-512.png", optimize=True)
    draw(512, maskable=True).save(OUT / "maskable-512.png", optimize=True)
    draw(180).save(OUT / "apple-touch-icon.png", optimize=True)


if __name__ == "__main__":
    main()
