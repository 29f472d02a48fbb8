"""What a what-if changes on the map: circles of the stations placed, buildings that changed.

The circles are the stations' walking circles; the buildings those newly covered or no longer
covered, as points in WGS 84. The web map draws them over its tiles, so that a station dragged
or added redraws its circle and the buildings it wins or loses, not only the rate.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import NDArray

from gridmap.coverage.circles import network_circles
from gridmap.coverage.reach import station_reach
from gridmap.coverage.service import City
from gridmap.coverage.whatif import WhatIf
from gridmap.network import snap

MAX_BUILDINGS = 20_000
"""The most changed buildings an answer lists (the counts are exact whatever the list holds)."""


def changes_on_map(
    city: City,
    whatif: WhatIf,
    communities: pd.Index,
    placed: list[tuple[str, float, float]],
    was_covered: NDArray[np.bool_],
    prefix: str | None = None,
    *,
    clip: Any = None,
) -> dict[str, Any]:
    """Return the circles of the stations ``placed`` (code, lon, lat) and the changed buildings.

    ``was_covered`` is each building's coverage before the changes; with ``prefix`` (a
    region's code), only the buildings of that region's communities are listed, and the
    circles are cut to ``clip`` (the region's shape, WGS 84): a key held to a region sees
    nothing beyond it.
    """
    now = whatif.covered
    changed = np.flatnonzero(was_covered != now)
    if prefix is not None:
        community = np.asarray(communities.astype(str))[whatif.groups[changed]]
        changed = changed[np.char.startswith(community.astype(str), prefix)]
    gained = int(now[changed].sum())
    listed = changed[:MAX_BUILDINGS]
    to_wgs84 = pyproj.Transformer.from_crs(city.crs, 4326, always_xy=True)
    xy = shapely.get_coordinates(city.points[listed])
    lon, lat = to_wgs84.transform(xy[:, 0], xy[:, 1]) if len(xy) else ([], [])
    buildings = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(x, 7), round(y, 7)]},
            "properties": {"covered": bool(c)},
        }
        for x, y, c in zip(
            np.asarray(lon).tolist(), np.asarray(lat).tolist(), now[listed].tolist(), strict=True
        )
    ]
    return {
        "circles": _circles(city, whatif, placed, clip),
        "buildings": {"type": "FeatureCollection", "features": buildings},
        "buildings_gained": gained,
        "buildings_lost": int(len(changed) - gained),
    }


def _circles(
    city: City, whatif: WhatIf, placed: list[tuple[str, float, float]], clip: Any = None
) -> dict[str, Any]:
    """Return the walking circle of each placed station as GeoJSON features named by its code."""
    if not placed:
        return {"type": "FeatureCollection", "features": []}
    to_metric = pyproj.Transformer.from_crs(4326, city.crs, always_xy=True)
    x, y = to_metric.transform([lon for _, lon, _ in placed], [lat for _, _, lat in placed])
    points = shapely.points(np.column_stack([x, y]))
    sites = snap(city.network, points, max_snap_m=whatif.max_snap_m)
    reach = station_reach(city.network, sites, budget_m=whatif.budget_m)
    shapes = network_circles(city.network, sites, reach, budget_m=whatif.budget_m)
    drawn = gpd.GeoSeries(shapes, crs=city.crs).to_crs(4326)
    if clip is not None:
        drawn = drawn.intersection(clip)
    features = [
        {
            "type": "Feature",
            "geometry": shapely.geometry.mapping(shape),
            "properties": {"station": code, "reachable": bool(ok)},
        }
        for (code, _, _), shape, ok in zip(placed, drawn.values, sites.reachable, strict=True)
        if not shape.is_empty
    ]
    return {"type": "FeatureCollection", "features": features}
