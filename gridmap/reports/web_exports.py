"""Exports other portals host as static files.

A PMTiles archive of a region's vector tiles, and a self-contained folium (Leaflet) map of its
grids, stations, circles and gaps.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
import numpy as np
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import write
from sqlalchemy import Connection

from gridmap.db import reports as report_rows
from gridmap.errors import InvalidInput
from gridmap.features.collections import COLLECTIONS
from gridmap.features.query import FeatureQuery, features
from gridmap.reports.leaflet import blank_map, self_contained
from gridmap.standards import GRID_BOUNDS
from gridmap.tiles.service import TileRequest, build_tile
from gridmap.tiles.tilesets import MAX_ZOOM, tileset, vector_layers

Progress = Callable[[int, int], None]
"""Told how many tiles are done, of how many."""


@dataclass(frozen=True)
class ArchiveSummary:
    """What a PMTiles export wrote."""

    tiles: int  # tiles with features
    visited: int  # tiles looked at
    bytes: int


def tile_range(bounds: tuple[float, float, float, float], z: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the x and y of every tile at zoom ``z`` that covers ``(west, south, east, north)``.

    >>> xs, ys = tile_range((24.93, 60.16, 24.96, 60.18), 14)
    >>> (int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max()))
    (9326, 9327, 4741, 4743)
    """
    west, south, east, north = bounds
    n = 2**z

    def x_of(lon: float) -> int:
        return min(n - 1, max(0, int((lon + 180) / 360 * n)))

    def y_of(lat: float) -> int:
        lat = max(min(lat, 85.0511), -85.0511)
        return min(
            n - 1, max(0, int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n))
        )

    xs, ys = np.meshgrid(
        np.arange(x_of(west), x_of(east) + 1), np.arange(y_of(north), y_of(south) + 1)
    )
    return xs.ravel(), ys.ravel()


def export_pmtiles(
    connection: Connection,
    region_code: str,
    path: Path,
    *,
    minzoom: int = 12,
    maxzoom: int = 16,
    tileset_name: str = "gridmap",
    progress: Progress | None = None,
) -> ArchiveSummary:
    """Write the tiles of a region (clipped to it, as an embed key sees them) to ``path``.

    Raises
    ------
    InvalidInput
        On zooms outside 0–22 or a minimum above the maximum.
    NotFound
        When there is no such region.
    """
    if not 0 <= minzoom <= maxzoom <= MAX_ZOOM:
        raise InvalidInput(
            f"zooms must satisfy 0 <= minzoom <= maxzoom <= {MAX_ZOOM} "
            f"(got {minzoom} and {maxzoom})"
        )
    region = report_rows.region_by_code(connection, region_code).iloc[0]
    west, south, east, north = (float(v) for v in region["geometry"].bounds)
    bounds = (west, south, east, north)
    tiles = tileset(tileset_name)
    wanted = []
    for z in range(minzoom, maxzoom + 1):
        xs, ys = tile_range(bounds, z)
        wanted += [
            (zxy_to_tileid(z, int(x), int(y)), z, int(x), int(y))
            for x, y in zip(xs, ys, strict=True)
        ]
    wanted.sort()  # a clustered archive: tiles in tile-id order
    written = 0
    with write(str(path)) as writer:
        for number, (tile_id, z, x, y) in enumerate(wanted):
            if progress is not None and number % 50 == 0:
                progress(number, len(wanted))
            data = build_tile(connection, TileRequest(tiles, z, x, y, scope=int(region["id"])))
            if data:
                writer.write_tile(tile_id, gzip.compress(data))
                written += 1
        if progress is not None:
            progress(len(wanted), len(wanted))
        west, south, east, north = bounds
        writer.finalize(
            {
                "tile_type": TileType.MVT,
                "tile_compression": Compression.GZIP,
                "min_zoom": minzoom,
                "max_zoom": maxzoom,
                "min_lon_e7": int(west * 1e7),
                "min_lat_e7": int(south * 1e7),
                "max_lon_e7": int(east * 1e7),
                "max_lat_e7": int(north * 1e7),
                "center_zoom": minzoom + (maxzoom - minzoom) // 2,
            },
            {
                "name": f"gridmap {region['name']}",
                "attribution": "© OpenStreetMap contributors",
                "vector_layers": vector_layers(tiles),
            },
        )
    return ArchiveSummary(written, len(wanted), path.stat().st_size)


def _collection(connection: Connection, name: str, region_id: int) -> dict[str, Any]:
    page = features(
        connection, COLLECTIONS[name], FeatureQuery(limit=10_000, scope_region=region_id)
    )
    return {"type": "FeatureCollection", "features": [json.loads(f) for f in page.features]}


def export_folium(connection: Connection, region_code: str) -> str:
    """Return a self-contained HTML map of a region: grids by households, stations, circles, gaps.

    Leaflet is inlined and no tile service is used, so the file opens with no network.
    """
    region = report_rows.region_by_code(connection, region_code).iloc[0]
    region_id = int(region["id"])
    west, south, east, north = (float(v) for v in region["geometry"].bounds)
    m = blank_map((west, south, east, north))
    urban = GRID_BOUNDS["urban"]

    def grid_style(feature: dict) -> dict[str, object]:
        h = feature["properties"]["households"]
        colour = (
            "#9ecae1"
            if h < urban.min_households
            else "#fb6a4a"
            if h > urban.max_households
            else "#74c476"
        )
        return {"color": "#08519c", "weight": 1.5, "fillColor": colour, "fillOpacity": 0.45}

    layers = [
        (
            "circles",
            "5分钟服务圈",
            lambda _: {"color": "#2171b5", "weight": 1, "fillOpacity": 0.2},
            ["station", "residents"],
        ),
        (
            "gaps",
            "服务盲区",
            lambda _: {
                "color": "#a50f15",
                "weight": 1,
                "fillColor": "#de2d26",
                "fillOpacity": 0.45,
            },
            ["rank", "residents"],
        ),
        ("grids", "网格", grid_style, ["code", "households", "residents", "coverage"]),
    ]
    for name, title, style, fields in layers:
        data = _collection(connection, name, region_id)
        if name == "circles":
            data["features"] = [
                f for f in data["features"] if f["properties"]["method"] == "network"
            ]
        if data["features"]:
            folium.GeoJson(
                data, name=title, style_function=style, tooltip=folium.GeoJsonTooltip(fields=fields)
            ).add_to(m)
    stations = _collection(connection, "stations", region_id)
    for f in stations["features"]:
        lon, lat = f["geometry"]["coordinates"]
        folium.CircleMarker(
            [lat, lon],
            radius=7,
            color="#ffffff",
            fill=True,
            fill_color="#d7301f",
            fill_opacity=1,
            tooltip=f"{f['properties']['name']}（{f['properties']['code']}）",
        ).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    page = self_contained(m)
    return page.replace("<head>", f"<head><title>{region['name']} · 网格地图</title>", 1)
