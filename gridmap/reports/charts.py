"""Small charts as inline SVG: a histogram against bounds. Numbers in, SVG text out."""

from __future__ import annotations

from html import escape

import numpy as np


def histogram_svg(
    values: np.ndarray,
    *,
    low: float,
    high: float,
    bins: int = 12,
    width: int = 640,
    height: int = 220,
    unit: str = "户",
    label: str = "户数分布",
) -> str:
    """Draw a histogram of ``values`` with the band ``low``–``high`` shaded and bars outside it red.

    The bins span the values and the bounds, so the band always shows.
    """
    values = np.asarray(values, dtype=float)
    lo = min(float(values.min()) if values.size else low, low)
    hi = max(float(values.max()) if values.size else high, high)
    edges = np.linspace(lo, hi + 1e-9, bins + 1)
    counts, _ = np.histogram(values, bins=edges)
    pad_l, pad_b, pad_t = 36, 28, 10
    plot_w, plot_h = width - pad_l - 10, height - pad_b - pad_t
    x = lambda v: pad_l + (v - lo) / (hi - lo or 1) * plot_w  # noqa: E731
    top = max(int(counts.max()) if counts.size else 1, 1)
    parts = [
        f'<rect x="{x(low):.1f}" y="{pad_t}" width="{x(high) - x(low):.1f}" '
        f'height="{plot_h}" fill="#dcfce7"/>'
    ]
    for count, left, right in zip(counts, edges[:-1], edges[1:], strict=True):
        bar_h = count / top * plot_h
        inside = left >= low - 1e-9 and right <= high + 1e-6
        parts.append(
            f'<rect x="{x(left) + 1:.1f}" y="{pad_t + plot_h - bar_h:.1f}" '
            f'width="{max(x(right) - x(left) - 2, 1):.1f}" height="{bar_h:.1f}" '
            f'fill="{"#74c476" if inside else "#fb6a4a"}"><title>{left:.0f}–{right:.0f} '
            f"{escape(unit)}: {count}</title></rect>"
        )
    base = pad_t + plot_h
    parts.append(f'<path d="M{pad_l},{base} H{pad_l + plot_w}" stroke="#374151"/>')
    for v in (lo, low, high, hi):
        parts.append(
            f'<text x="{x(v):.1f}" y="{base + 16}" font-size="10" '
            f'text-anchor="middle">{v:.0f}</text>'
        )
    parts.append(f'<text x="4" y="{pad_t + 10}" font-size="10">{top}</text>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(label)}">'
        + "".join(parts)
        + "</svg>"
    )
