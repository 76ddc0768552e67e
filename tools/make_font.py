"""Writes heatwidget/host/font.json: the glyphs of printable ASCII in Liberation Sans (regular
and bold, 12 px, anti-aliased), for the legend of the Python rendering (heatwidget/host/text.py),
so drawing its text needs neither Pillow nor a font on the user's machine.

Liberation Sans is metric-compatible with Arial (the widget's CSS asks for Helvetica Neue,
Arial, Helvetica, sans-serif) and licensed under the SIL Open Font License 1.1, which allows
embedding it; the glyph bitmaps are derived from it. Run from the repository root with Pillow
installed and Debian's fonts-liberation:

    python tools/make_font.py
"""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

SIZE = 12
FONTS = {
    "regular": "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "bold": "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
}
OUT = Path(__file__).resolve().parent.parent / "heatwidget" / "host" / "font.json"


def glyphs(path: str) -> dict[str, object]:
    font = ImageFont.truetype(path, SIZE)
    ascent, descent = font.getmetrics()
    out: dict[str, list[object]] = {}
    for code in range(32, 127):
        ch = chr(code)
        advance = font.getlength(ch)
        left, top, right, bottom = font.getbbox(ch)
        w, h = max(0, right - left), max(0, bottom - top)
        img = Image.new("L", (max(w, 1), max(h, 1)), 0)
        ImageDraw.Draw(img).text((-left, -top), ch, font=font, fill=255)
        data = base64.b64encode(img.tobytes()).decode() if w and h else ""
        out[ch] = [round(advance, 3), left, top, w, h, data]
    return {"ascent": ascent, "descent": descent, "glyphs": out}


def main() -> None:
    fonts = {name: glyphs(path) for name, path in FONTS.items()}
    payload = json.dumps(fonts, separators=(",", ":")).encode()
    OUT.write_text(
        json.dumps(
            {
                "about": "Liberation Sans 12 px glyphs (SIL OFL 1.1), made by tools/make_font.py",
                "size": SIZE,
                "zlib_base64": base64.b64encode(zlib.compress(payload, 9)).decode(),
            }
        )
        + "\n"
    )
    print(f"{OUT}: {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
