"""Geometry helpers shared by importers and engines (shapely 2, vectorised)."""

from __future__ import annotations

import numpy as np
import shapely


def polygonal_parts(geometries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Repair ``geometries`` and return each one's polygonal part as a MultiPolygon.

    Returns the MultiPolygons and the positions (into ``geometries``) they came from; a
    geometry with no polygonal part (a line, a point, an empty) is left out.
    """
    valid = shapely.make_valid(geometries)
    parts, first = shapely.get_parts(valid, return_index=True)  # collections → members
    parts, second = shapely.get_parts(parts, return_index=True)  # multipolygons → polygons
    index = first[second]
    keep = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
    parts, index = parts[keep], index[keep]
    if parts.size == 0:
        return np.empty(0, dtype=object), np.empty(0, dtype=np.int64)
    positions, dense = np.unique(index, return_inverse=True)
    return shapely.multipolygons(parts, indices=dense), positions
