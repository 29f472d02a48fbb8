"""The hexagons' size by zoom and the boxes they may span, worked out by hand."""

from __future__ import annotations

import math

import pytest

from gridmap.errors import InvalidInput
from gridmap.tickets.bins import MAX_BINS, bin_size, checked_bbox

EARTH_RADIUS_M = 6378137.0


def test_a_hexagon_is_18_pixels_from_centre_to_corner_at_every_zoom() -> None:
    # zoom 0: a 512-pixel world 2πR wide
    assert bin_size(0) == pytest.approx(2 * math.pi * EARTH_RADIUS_M / 512 * 18)
    assert bin_size(14) == pytest.approx(bin_size(0) / 2**14)
    assert bin_size(14) == pytest.approx(85.992, abs=1e-3)  # 4.777 m a pixel × 18
    for zoom in (-1, 15):
        with pytest.raises(
            InvalidInput, match=r"zoom: give 0 to 14 \(from 15 tickets are points\)"
        ):
            bin_size(zoom)


def _box_spanning(hexagons: float, zoom: int) -> tuple[float, float, float, float]:
    """A box on the equator whose columns × rows of hexagons (plus one more each side) make
    ``hexagons``: a square of height h, width w with (w/1.5s + 2)(h/√3s + 2) = hexagons."""
    size = bin_size(zoom)
    rows = 10.0  # h / (√3 s)
    columns = hexagons / (rows + 2) - 2
    width_deg = columns * 1.5 * size / (2 * math.pi * EARTH_RADIUS_M) * 360
    half_height_m = rows * math.sqrt(3) * size / 2
    half_height_deg = math.degrees(
        2 * math.atan(math.exp(half_height_m / EARTH_RADIUS_M)) - math.pi / 2
    )
    return (0.0, -half_height_deg, width_deg, half_height_deg)


def test_a_box_is_refused_just_above_the_most_hexagons_not_at_it() -> None:
    assert checked_bbox(_box_spanning(MAX_BINS * (1 - 1e-6), 14), 14)
    with pytest.raises(InvalidInput, match="bbox: spans about 20,000 hexagons at zoom 14"):
        checked_bbox(_box_spanning(MAX_BINS * (1 + 1e-6), 14), 14)


@pytest.mark.parametrize(
    "bbox",
    [
        (10, 0, 10, 1),  # empty
        (11, 0, 10, 1),  # west after east
        (0, 1, 1, 0),  # south after north
        (-180.001, 0, -180, 1),  # just beyond the world, west and east
        (180, 0, 180.001, 1),
        (0, -86, 1, 1),  # beyond Web Mercator
    ],
)
def test_a_box_out_of_range_is_named(bbox: tuple[float, float, float, float]) -> None:
    with pytest.raises(InvalidInput, match=r"^bbox: west,south,east,north in degrees"):
        checked_bbox(bbox, 0)


@pytest.mark.parametrize("bbox", [(0, 0, math.nan, 1), (0, 0, math.inf, 1)])
def test_a_box_of_no_numbers_is_named(bbox: tuple[float, float, float, float]) -> None:
    with pytest.raises(InvalidInput, match=r"^bbox: give four finite numbers"):
        checked_bbox(bbox, 0)


def test_the_edges_of_web_mercator_are_inside() -> None:
    from gridmap.tickets.bins import MAX_LATITUDE

    assert checked_bbox((-180.0, -MAX_LATITUDE, -179.9, -MAX_LATITUDE + 0.1), 0)
    assert checked_bbox((179.9, MAX_LATITUDE - 0.1, 180.0, MAX_LATITUDE), 0)
    for flat in ((10, 5, 11, 5), (10, 5, 10, 6)):  # no height, no width
        with pytest.raises(InvalidInput, match="bbox: "):
            checked_bbox(flat, 10)


def test_a_box_far_from_greenwich_spans_its_own_width() -> None:
    box = _box_spanning(MAX_BINS * (1 - 1e-6), 14)
    shifted = (box[0] + 100, box[1], box[2] + 100, box[3])  # the same width, 100° east
    assert checked_bbox(shifted, 14)


def test_the_bound_is_exact_to_a_billionth() -> None:
    assert checked_bbox(_box_spanning(MAX_BINS * (1 - 1e-9), 14), 14)
    with pytest.raises(InvalidInput, match="bbox: spans about"):
        checked_bbox(_box_spanning(MAX_BINS * (1 + 1e-9), 14), 14)
