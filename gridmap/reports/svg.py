"""A small map as inline SVG: lon/lat shapes drawn in a local metric frame, fitted to a box.

Pure: geometries in, SVG text out. No tiles and no network, so a printed card or report
draws the same on an intranet as anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class Shape:
    """One geometry to draw, with its SVG presentation attributes."""

    geometry: BaseGeometry
    fill: str = "none"
    stroke: str = "#333333"
    stroke_width: float = 1.0
    opacity: float = 1.0
    radius: float = 5.0  # for points, in pixels
    title: str | None = None
    text: str | None = None  # a label drawn at a point (no marker then)


def _frame(shapes: list[Shape]) -> tuple[float, float]:
    everything = shapely.union_all([s.geometry for s in shapes if not s.geometry.is_empty])
    centre = everything.centroid
    return float(centre.x), float(centre.y)


def _projector(lon0: float, lat0: float) -> Callable[[np.ndarray], np.ndarray]:
    scale = np.pi / 180 * EARTH_RADIUS_M
    cos = np.cos(np.radians(lat0))

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack([(xy[:, 0] - lon0) * scale * cos, (xy[:, 1] - lat0) * scale])

    return project


def _path(geometry: BaseGeometry, to_px: Callable[[np.ndarray], np.ndarray]) -> str:
    parts = []
    for polygon in getattr(geometry, "geoms", [geometry]):
        rings = (
            [polygon.exterior, *polygon.interiors] if polygon.geom_type == "Polygon" else [polygon]
        )
        for ring in rings:
            px = to_px(np.asarray(ring.coords)[:, :2])
            closed = "Z" if polygon.geom_type == "Polygon" else ""
            parts.append("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in px) + closed)
    return " ".join(parts)


def map_svg(
    shapes: list[Shape],
    *,
    width: int = 360,
    height: int = 260,
    pad: int = 12,
    label: str = "",
    north: str = "北",
) -> str:
    """Return an ``<svg>`` drawing ``shapes`` (WGS 84), the first fitted to the box, north up.

    A scale bar of a round length in metres sits in the lower left, a north arrow (``north``,
    北 or N) in the upper right.
    """
    lon0, lat0 = _frame(shapes)
    project = _projector(lon0, lat0)
    bounds = np.array(shapes[0].geometry.bounds).reshape(2, 2)
    lo, hi = project(bounds)
    span = np.maximum(hi - lo, 1.0)
    scale = min((width - 2 * pad) / span[0], (height - 2 * pad) / span[1])
    offset = np.array([width, height]) / 2 - (lo + hi) / 2 * np.array([1, -1]) * scale

    def to_px(xy: np.ndarray) -> np.ndarray:
        metres = project(xy)
        return metres * np.array([scale, -scale]) + offset

    body = []
    for s in shapes:
        attrs = (
            f'fill="{s.fill}" stroke="{s.stroke}" stroke-width="{s.stroke_width}" '
            f'opacity="{s.opacity}"'
        )
        title = f"<title>{escape(s.title)}</title>" if s.title else ""
        if s.geometry.geom_type == "Point" and s.text:
            x, y = to_px(np.array([[s.geometry.x, s.geometry.y]]))[0]
            body.append(
                f'<text x="{x:.1f}" y="{y:.1f}" font-size="11" text-anchor="middle" '
                f'fill="{s.stroke}" stroke="#ffffff" stroke-width="3" '
                f'paint-order="stroke">{escape(s.text)}</text>'
            )
        elif s.geometry.geom_type == "Point":
            x, y = to_px(np.array([[s.geometry.x, s.geometry.y]]))[0]
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{s.radius}" {attrs}>{title}</circle>'
            )
        elif not s.geometry.is_empty:
            body.append(
                f'<path d="{_path(s.geometry, to_px)}" {attrs} fill-rule="evenodd">{title}</path>'
            )
    bar_m = _round_length((width - 2 * pad) / scale / 4)
    bar_px = bar_m * scale
    y = height - pad
    body.append(
        f'<path d="M{pad},{y} h{bar_px:.1f}" stroke="#111" stroke-width="2"/>'
        f'<text x="{pad}" y="{y - 4}" font-size="10">{bar_m:g} m</text>'
    )
    x = width - pad - 6  # a north arrow in the upper right: the map is drawn north up
    arrow = f'<path d="M{x},{pad} l6,16 l-6,-4 l-6,4 Z" fill="#111"/>'
    letter = (
        f'<text x="{x}" y="{pad + 28}" font-size="10" text-anchor="middle">{escape(north)}</text>'
    )
    body.append(f'<g class="north">{arrow}{letter}</g>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(label)}">'
        + "".join(body)
        + "</svg>"
    )


def _round_length(metres: float) -> float:
    """Return the largest 1, 2 or 5 × 10ⁿ metres not above ``metres``.

    >>> _round_length(137.0), _round_length(9.9), _round_length(2500)
    (100.0, 5.0, 2000.0)
    """
    power = 10 ** np.floor(np.log10(max(metres, 1e-9)))
    for step in (5, 2, 1):
        if step * power <= metres:
            return float(step * power)
    return float(power)
