"""The CJK font every PDF and chart uses (Debian's fonts-wqy-zenhei): embedded, so Chinese never falls back to boxes."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

CJK_FONT = Path(os.environ.get("OPSDESK_CJK_FONT", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"))
FONT_NAME = "WQY"


class FontMissing(RuntimeError):
    """The CJK font is not installed (make install puts fonts-wqy-zenhei in place)."""


@cache
def pdf_font() -> str:
    """Register the font with reportlab once; returns its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if not CJK_FONT.exists():
        raise FontMissing(f"CJK font not found at {CJK_FONT}: apt-get install fonts-wqy-zenhei")
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(CJK_FONT), subfontIndex=0))
    return FONT_NAME
