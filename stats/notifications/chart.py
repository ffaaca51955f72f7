"""The report's small chart: visitors per day as a PNG drawn with Pillow.

Sent as a related MIME part (``cid:``) so mail clients show it without loading remote
content; nothing in a report is fetched from a server when the mail is opened.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

WIDTH, HEIGHT = 560, 140
PADDING = 8
BAR = (79, 70, 229)
BASELINE = (203, 213, 225)
BACKGROUND = (255, 255, 255)


def visitors_png(values: list[int], width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """Bars of ``values`` (one per day), the tallest reaching the top; a flat line if all 0."""
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    bottom = height - PADDING
    draw.line([(PADDING, bottom), (width - PADDING, bottom)], fill=BASELINE, width=1)
    peak = max(values, default=0)
    if values and peak:
        slot = (width - 2 * PADDING) / len(values)
        gap = max(1.0, slot * 0.2) if slot > 3 else 0.0
        for index, value in enumerate(values):
            if not value:
                continue
            left = PADDING + index * slot + gap / 2
            right = max(left + 1, PADDING + (index + 1) * slot - gap / 2)
            top = bottom - max(1, round(value / peak * (bottom - PADDING)))
            draw.rectangle([(left, top), (right - 1, bottom - 1)], fill=BAR)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
