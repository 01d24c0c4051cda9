"""The round report's charts as SVG, drawn by matplotlib on the server.

The report is a document: its HTML page and its PDF must show the same figures, and the
PDF cannot run the browser's chart library. Text is drawn as outlines (matplotlib's
default), so the SVG needs no font and carries no markup from user input; labels are
participant codes and numbers only — names, which may be Chinese, stay in the HTML.

The PDF takes each chart as a PNG (``fmt="png"``): WeasyPrint lays out an SVG element by
element, thousands of glyph outlines per chart, which made most of a report's rendering
time; a picture at print resolution is one image to place.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Literal

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from scipy.stats import gaussian_kde

GOOD, WARN, BAD, OWN = "#15803d", "#b45309", "#b91c1c", "#1d4ed8"
Format = Literal["svg", "png"]
PRINT_DPI = 160


def _svg(fig: Figure, fmt: Format, margins: dict[str, float]) -> str:
    """The figure as markup for a page: inline SVG, or an <img> of a PNG for print. The
    PNG takes fixed ``margins`` (fractions of the figure) instead of a tight bounding
    box, which would draw the figure twice."""
    if fmt == "png":
        data = io.BytesIO()
        fig.subplots_adjust(**margins)
        fig.savefig(data, format="png", dpi=PRINT_DPI, metadata={"Software": None})
        encoded = base64.b64encode(data.getvalue()).decode("ascii")
        width = fig.get_size_inches()[0]
        return (f'<img class="chart-image" alt="" style="width: {width:.2f}in; max-width: 100%" '
                f'src="data:image/png;base64,{encoded}">')
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg"):]  # no XML prologue inside an HTML page


def _colour(z: float) -> str:
    a = abs(z)
    return GOOD if a <= 2 else WARN if a < 3 else BAD


def histogram(values: Sequence[float], x_pt: float | None, sigma_pt: float | None,
              unit: str = "", fmt: Format = "svg") -> str:
    """Results as a histogram with a kernel density estimate, the assigned value and the
    ±2σ_pt and ±3σ_pt limits."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    fig = Figure(figsize=(6.4, 2.8))
    ax = fig.subplots()
    # Results near a double's limit (1e308) are finite, but their spread or variance is not:
    # then there is nothing to bin or smooth, and the chart keeps only x_pt and its limits.
    with np.errstate(over="ignore", invalid="ignore"):
        spread_finite = bool(v.size and np.isfinite(np.ptp(v)) and np.isfinite(v.var()))
    if spread_finite:
        bins = min(30, max(5, int(np.sqrt(v.size)) * 2))
        ax.hist(v, bins=bins, density=True, color="#cbd5e1", edgecolor="#94a3b8")
        if v.size >= 3 and np.ptp(v) > 0:
            grid = np.linspace(v.min() - 0.1 * np.ptp(v), v.max() + 0.1 * np.ptp(v), 300)
            ax.plot(grid, gaussian_kde(v)(grid), color=OWN, linewidth=1.5, label="KDE")
    if x_pt is not None:
        ax.axvline(x_pt, color="black", linewidth=1.2, label="x_pt")
        if sigma_pt:
            for k, colour in ((2, WARN), (3, BAD)):
                for sign in (-1, 1):
                    ax.axvline(x_pt + sign * k * sigma_pt, color=colour, linestyle="--",
                               linewidth=0.9)
    ax.set_xlabel(unit)
    ax.set_yticks([])
    ax.spines[["top", "right", "left"]].set_visible(False)
    return _svg(fig, fmt, {"left": 0.02, "right": 0.98, "top": 0.97, "bottom": 0.17})


def ordered_z(codes: Sequence[str], z: Sequence[float | None],
              own: Sequence[str] = (), fmt: Format = "svg") -> str:
    """Participants' scores in rising order, coloured by class, the caller's own outlined."""
    pairs = sorted((float(s), c) for c, s in zip(codes, z, strict=True)
                   if s is not None and np.isfinite(s))
    fig = Figure(figsize=(max(6.4, 0.14 * len(pairs)), 2.8))
    ax = fig.subplots()
    if pairs:
        scores = [p[0] for p in pairs]
        shown = np.clip(scores, -6, 6)  # a wild score would flatten the rest
        bars = ax.bar(range(len(pairs)), shown, color=[_colour(s) for s in scores])
        for bar, (_, code) in zip(bars, pairs, strict=True):
            if code in own:
                bar.set_edgecolor(OWN)
                bar.set_linewidth(2.5)
        ax.set_xticks(range(len(pairs)), [p[1] for p in pairs], rotation=90, fontsize=7)
    for k, colour in ((2, WARN), (3, BAD)):
        ax.axhline(k, color=colour, linestyle="--", linewidth=0.9)
        ax.axhline(-k, color=colour, linestyle="--", linewidth=0.9)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylim(-6.5, 6.5)
    ax.set_ylabel("z")
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig, fmt, {"left": 0.6 / fig.get_figwidth(), "right": 0.98, "top": 0.97,
                           "bottom": 0.2})


def youden(codes: Sequence[str], za: Sequence[float | None], zb: Sequence[float | None],
           item_a: str, item_b: str, own: Sequence[str] = (), fmt: Format = "svg") -> str:
    """A Youden plot of paired items in z units: points along the diagonal share a
    systematic error, points across it a random one."""
    fig = Figure(figsize=(4.2, 4.2))
    ax = fig.subplots()
    for k, colour in ((2, WARN), (3, BAD)):
        ax.add_patch(_square(k, colour))
    pts = [(float(a), float(b), c) for c, a, b in zip(codes, za, zb, strict=True)
           if a is not None and b is not None and np.isfinite(a) and np.isfinite(b)]
    for a, b, c in pts:
        colour = OWN if c in own else _colour(max(abs(a), abs(b)))
        ax.scatter([np.clip(a, -6, 6)], [np.clip(b, -6, 6)], color=colour, s=18, zorder=3)
        ax.annotate(c, (np.clip(a, -6, 6), np.clip(b, -6, 6)), fontsize=6,
                    xytext=(3, 3), textcoords="offset points")
    ax.plot([-6, 6], [-6, 6], color="#94a3b8", linewidth=0.8)
    ax.set_xlim(-6.5, 6.5)
    ax.set_ylim(-6.5, 6.5)
    ax.set_aspect("equal")
    ax.set_xlabel(f"z ({item_a})")
    ax.set_ylabel(f"z ({item_b})")
    return _svg(fig, fmt, {"left": 0.14, "right": 0.97, "top": 0.97, "bottom": 0.12})


def _square(k: float, colour: str) -> Rectangle:
    return Rectangle((-k, -k), 2 * k, 2 * k, fill=False, edgecolor=colour, linestyle="--",
                     linewidth=0.9)
