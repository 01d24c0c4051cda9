"""The carbon label: the certified footprint per declared unit, the certificate's number,
standard and validity, and a QR code pointing at its public verification page; as SVG (for
print and the web) and PNG (for packaging artwork and marketplaces that refuse SVG).

Pure: it takes what the label says and draws it. The QR modules are drawn from segno's
matrix on both paths, so the two images carry the same code.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import segno

GREEN = "#1b7a43"
WIDTH, HEIGHT = 360, 200  # SVG user units; the PNG is drawn at SCALE times this
SCALE = 3
QR_SIZE = 104


@dataclass(frozen=True)
class Label:
    value: float  # kg CO2e per declared unit
    declared_amount: float
    declared_unit: str
    product: str
    standard: str
    number: str
    valid_until: date
    issuer: str
    verify_url: str


def amount_text(value: float) -> str:
    """Three significant figures without exponent notation: 0.0123, 1.23, 123, 12,300."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    places = 2 - math.floor(math.log10(abs(value)))
    if abs(round(value, places)) >= 10 ** (3 - places):  # 0.9996 rounds up to 1.00
        places -= 1
    return f"{round(value, places):,.{max(0, places)}f}"


# The label is printed on products sold in China and abroad: its words are in both
# languages, and a unit people read as a word is given in both.
UNIT_WORDS = {"piece": "件 piece", "pcs": "件 piece"}


def per_text(label: Label) -> str:
    unit = UNIT_WORDS.get(label.declared_unit, label.declared_unit)
    return f"{label.declared_amount:g} {unit}"


def _fit(text: str, width: int) -> str:
    """``text`` cut to about ``width`` Latin letters (a Chinese character counts two), with
    an ellipsis where it was cut, so it never runs under the code."""
    used = 0
    out: list[str] = []
    for ch in text:
        used += 2 if ord(ch) > 0x2E80 else 1
        if used > width:
            return "".join(out).rstrip() + "…"
        out.append(ch)
    return text


def _modules(url: str) -> list[tuple[int, int]]:
    """Dark modules (x, y) of the code, quiet zone excluded."""
    qr = segno.make(url, error="m", micro=False)
    return [(x, y) for y, row in enumerate(qr.matrix) for x, dark in enumerate(row) if dark]


def _side(modules: list[tuple[int, int]]) -> int:
    return max(max(x, y) for x, y in modules) + 1


def _lines(label: Label) -> list[tuple[str, float, float, int, str, str]]:
    """(text, x, y, size, weight, colour) of every text line, in SVG units."""
    return [
        ("碳足迹 Carbon Footprint", 12, 25, 15, "bold", "#fff"),
        (amount_text(label.value), 14, 82, 34, "bold", GREEN),
        ("kg CO2e / " + per_text(label), 14, 102, 12, "normal", "#222"),
        (_fit(label.product, 38), 14, 124, 11, "normal", "#222"),
        (label.standard, 14, 142, 10, "normal", "#444"),
        (f"证书编号 No. {label.number}", 14, 158, 10, "normal", "#444"),
        (f"有效期至 valid until {label.valid_until.isoformat()}", 14, 174, 10, "normal",
         "#444"),
        (_fit(label.issuer, 36), 14, 190, 9, "normal", "#666"),
    ]


def svg(label: Label) -> bytes:
    modules = _modules(label.verify_url)
    side = _side(modules)
    cell = QR_SIZE / side
    qx, qy = WIDTH - QR_SIZE - 14, 50
    path = "".join(f"M{qx + x * cell:.2f},{qy + y * cell:.2f}h{cell:.2f}v{cell:.2f}"
                   f"h-{cell:.2f}z" for x, y in modules)
    texts = "".join(
        f'<text x="{x}" y="{y}" font-size="{size}" font-weight="{weight}" fill="{colour}">'
        f"{escape(text)}</text>" for text, x, y, size, weight, colour in _lines(label))
    title = f"{amount_text(label.value)} kg CO2e / {per_text(label)} — {label.number}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label={quoteattr(title)}>'
        f"<title>{escape(title)}</title>"
        f'<rect width="{WIDTH}" height="{HEIGHT}" rx="10" fill="#fff" stroke="{GREEN}" '
        f'stroke-width="3"/><rect width="{WIDTH}" height="36" rx="10" fill="{GREEN}"/>'
        f'<g font-family="Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, '
        f'DejaVu Sans, sans-serif">{texts}</g>'
        f'<rect x="{qx - 4}" y="{qy - 4}" width="{QR_SIZE + 8}" height="{QR_SIZE + 8}" '
        f'fill="#fff"/><path d="{path}" fill="#000"/>'
        f'<text x="{qx + QR_SIZE / 2}" y="{qy + QR_SIZE + 16}" font-size="8" '
        f'text-anchor="middle" fill="#444" font-family="DejaVu Sans, sans-serif">'
        f"scan to verify · 扫码验证</text></svg>").encode()


def _font(size: int, bold: bool) -> object:
    from matplotlib import get_data_path
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(Path(get_data_path()) / "fonts" / "ttf" / name), size)


def png(label: Label) -> bytes:
    """The same label as a bitmap. Drawn with the DejaVu fonts matplotlib ships, which have
    no Chinese glyphs: the PNG's texts are the label's Latin ones (the SVG carries both)."""
    from PIL import Image, ImageDraw

    s = SCALE
    img = Image.new("RGB", (WIDTH * s, HEIGHT * s), "white")
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((0, 0, WIDTH * s - 1, HEIGHT * s - 1), radius=10 * s,
                           outline=GREEN, width=3 * s)
    draw.rounded_rectangle((0, 0, WIDTH * s - 1, 36 * s), radius=10 * s, fill=GREEN)
    for text, x, y, size, weight, colour in _lines(label):
        if not text.isascii():
            text = text.encode("ascii", "ignore").decode().strip()
        draw.text((x * s, y * s), text, fill=colour, anchor="ls",
                  font=_font(size * s, weight == "bold"))  # type: ignore[arg-type]
    modules = _modules(label.verify_url)
    cell = QR_SIZE * s / _side(modules)
    qx, qy = (WIDTH - QR_SIZE - 14) * s, 50 * s
    for x, y in modules:
        draw.rectangle((qx + x * cell, qy + y * cell, qx + (x + 1) * cell - 1,
                        qy + (y + 1) * cell - 1), fill="black")
    draw.text((qx + QR_SIZE * s / 2, qy + (QR_SIZE + 16) * s), "scan to verify", fill="#444",
              anchor="ms", font=_font(8 * s, False))  # type: ignore[arg-type]
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()
