"""Hexagons that count tickets where the map is too far out to draw each one (below zoom 15).

Hexagons of Web Mercator (EPSG:3857), as PostGIS's ``ST_HexagonGrid`` lays them from the
projection's origin, so a hexagon is the same wherever the map is panned at a zoom. Their size
follows the zoom: :data:`BIN_PX` screen pixels from centre to corner on MapLibre's 512-pixel
tiles, so they look alike at every zoom.
"""

from __future__ import annotations

import math

from gridmap.errors import InvalidInput

WORLD_M = 2 * math.pi * 6378137.0
"""The width of the Web Mercator world in its metres."""
TILE_PX = 512
"""The pixels of a tile in MapLibre: the world is 512 × 2^zoom pixels wide."""
BIN_PX = 18
"""A hexagon's size (centre to corner, so its edge) in screen pixels."""
BINS_MAXZOOM = 14
"""The last zoom of hexagons: from zoom 15 the tickets are points (the tiles' events layer)."""
MAX_BINS = 20_000
"""The most hexagons one request may span (a bbox too large for its zoom is refused)."""
MAX_LATITUDE = 85.05112878
"""Web Mercator's edge."""


def bin_size(zoom: int) -> float:
    """Return the hexagons' edge in Web Mercator metres at ``zoom`` (0 to :data:`BINS_MAXZOOM`)."""
    if not 0 <= zoom <= BINS_MAXZOOM:
        raise InvalidInput(
            f"zoom: give 0 to {BINS_MAXZOOM} (from {BINS_MAXZOOM + 1} tickets are points)"
        )
    return WORLD_M / (TILE_PX * 2**zoom) * BIN_PX


def mercator_y(latitude: float) -> float:
    """Return Web Mercator's northing of ``latitude`` (degrees)."""
    return 6378137.0 * math.log(math.tan(math.pi / 4 + math.radians(latitude) / 2))


def checked_bbox(bbox: tuple[float, float, float, float], zoom: int) -> tuple[float, ...]:
    """Return ``bbox`` (west, south, east, north in degrees) when it is one that bins can span.

    Raises
    ------
    InvalidInput
        Naming ``bbox``: out of range, empty, or spanning more than :data:`MAX_BINS` hexagons
        at ``zoom``.
    """
    west, south, east, north = bbox
    if not all(math.isfinite(v) for v in bbox):
        raise InvalidInput("bbox: give four finite numbers")
    if not (-180 <= west < east <= 180 and -MAX_LATITUDE <= south < north <= MAX_LATITUDE):
        raise InvalidInput(
            f"bbox: west,south,east,north in degrees, west < east, south < north, latitudes "
            f"within ±{MAX_LATITUDE:.4f} (got {','.join(f'{v:g}' for v in bbox)})"
        )
    size = bin_size(zoom)
    width = (east - west) / 360 * WORLD_M
    height = mercator_y(north) - mercator_y(south)
    spanned = (width / (1.5 * size) + 2) * (height / (math.sqrt(3) * size) + 2)
    if spanned > MAX_BINS:
        raise InvalidInput(
            f"bbox: spans about {spanned:,.0f} hexagons at zoom {zoom} (at most {MAX_BINS:,}); "
            "ask for a smaller box or a lower zoom"
        )
    return west, south, east, north
