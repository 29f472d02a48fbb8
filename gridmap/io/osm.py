"""Read the layers gridmap needs from an OpenStreetMap PBF file (with pyrosm).

:func:`read_osm` returns plain GeoDataFrames in EPSG:4326: buildings with levels and type, the
walking network as nodes and edges with lengths in metres, the street and railway lines that
draw the basemap and cut blocks, water areas, station-capable amenities and admin boundaries.
It touches no database.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from gridmap.errors import InvalidInput
from gridmap.geometry import polygonal_parts
from gridmap.standards import NON_RESIDENTIAL_KEYS

WGS84 = "EPSG:4326"

STATION_AMENITIES = ("community_centre", "social_facility", "library", "townhall", "school")
"""OSM amenity=* values of places that can host a party-mass service station."""

NOT_WALKABLE_WITHOUT_SIDEWALK = ("motorway", "motorway_link", "trunk", "trunk_link")
SIDEWALK_PRESENT = ("both", "left", "right", "yes")
RAILWAYS = ("rail", "light_rail", "narrow_gauge")
WATER_NATURAL = ("water", "bay")
WATER_LANDUSE = ("reservoir", "basin")

_GEOD = pyproj.Geod(ellps="WGS84")
_PBF_HEADER = b"OSMHeader"


@dataclass(frozen=True)
class OsmLayers:
    """The layers of one OSM extract, each a GeoDataFrame in EPSG:4326."""

    buildings: gpd.GeoDataFrame  # osm_id, building_type, levels, use, geometry (polygonal)
    walk_nodes: gpd.GeoDataFrame  # id, geometry (Point)
    walk_edges: gpd.GeoDataFrame  # source, target, length_m, highway, osm_id, geometry
    streets: gpd.GeoDataFrame  # osm_id, kind, name, geometry (LineString)
    water: gpd.GeoDataFrame  # osm_id, kind, name, geometry (polygonal)
    amenities: gpd.GeoDataFrame  # osm_type, osm_id, kind, name, geometry (Point)
    boundaries: gpd.GeoDataFrame  # name, admin_level, geometry (polygonal); may be empty


def geodesic_lengths_m(lines: gpd.GeoSeries) -> np.ndarray:
    """Return the geodesic length in metres of each line of a WGS 84 series, vectorised."""
    coords, index = shapely.get_coordinates(lines.values, return_index=True)
    same_line = index[1:] == index[:-1]
    _, _, dist = _GEOD.inv(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1])
    dist = np.where(same_line, dist, 0.0)
    return np.bincount(index[1:], weights=dist, minlength=len(lines))


def parse_levels(values: pd.Series) -> np.ndarray:
    """Read ``building:levels`` values ("5", "3.5", "4;6", "") as floats, NaN where unusable.

    >>> parse_levels(pd.Series(["5", "3.5", "4;6", "many", None])).tolist()
    [5.0, 4.0, 4.0, nan, nan]
    """
    first = values.astype("string").str.split(";").str[0].str.strip()
    levels = pd.to_numeric(first, errors="coerce").to_numpy(dtype=float)
    levels = np.where(levels > 0, np.round(levels), np.nan)
    return levels


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series(pd.NA, index=frame.index, dtype="string")


def use_tags(raw: pd.DataFrame) -> np.ndarray:
    """Return each building's first use tag (``amenity=school``), None where it has none.

    pyrosm puts some keys in columns of their own and the rest in a JSON ``tags`` column.
    """
    found = np.full(len(raw), None, dtype=object)
    extra = _column(raw, "tags").map(lambda t: json.loads(t) if isinstance(t, str) else {})
    for key in reversed(NON_RESIDENTIAL_KEYS):  # the first key listed wins
        own = _column(raw, key).astype("string")
        value = own.fillna(extra.map(lambda t, k=key: t.get(k)).astype("string"))
        hit = value.notna().to_numpy() & (value.fillna("no") != "no").to_numpy()
        found[hit] = [f"{key}={v}" for v in value[hit]]
    return found


def _polygonal(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Keep the rows of ``frame`` with a polygonal part, as repaired MultiPolygons."""
    geoms, positions = polygonal_parts(frame.geometry.values)
    out = frame.iloc[positions].copy()
    out["geometry"] = geoms
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84)


def _signed_ids(frame: pd.DataFrame) -> np.ndarray:
    """OSM ids made unique across element types: relations negative, ways positive."""
    ids = frame["id"].to_numpy(dtype=np.int64)
    relation = _column(frame, "osm_type").astype("string").eq("relation").fillna(False)
    return np.where(relation.to_numpy(dtype=bool), -ids, ids)


def _empty(columns: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=WGS84)


def _buildings(osm: object) -> gpd.GeoDataFrame:
    raw = osm.get_buildings()  # type: ignore[attr-defined]
    if raw is None or raw.empty:
        return _empty(["osm_id", "building_type", "levels", "use"])
    raw = _polygonal(raw)
    frame = gpd.GeoDataFrame(
        {
            "osm_id": _signed_ids(raw),
            "building_type": _column(raw, "building").fillna("yes").astype(str).to_numpy(),
            "levels": parse_levels(_column(raw, "building:levels")),
            "use": use_tags(raw),
        },
        geometry=raw.geometry.to_numpy(),
        crs=WGS84,
    )
    return frame.drop_duplicates("osm_id").reset_index(drop=True)


def _walking_network(osm: object) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    nodes, edges = osm.get_network(network_type="walking", nodes=True)  # type: ignore[attr-defined]
    if edges is None or edges.empty:
        raise InvalidInput("the OSM file has no walkable streets or paths")
    highway = _column(edges, "highway").astype("string")
    sidewalk = _column(edges, "sidewalk").astype("string")
    unwalkable = highway.isin(NOT_WALKABLE_WITHOUT_SIDEWALK) & ~sidewalk.isin(SIDEWALK_PRESENT)
    edges = edges.loc[~unwalkable.fillna(False).to_numpy(dtype=bool)]
    edges = edges.loc[edges["u"] != edges["v"]]
    walk_edges = gpd.GeoDataFrame(
        {
            "source": edges["u"].to_numpy(dtype=np.int64),
            "target": edges["v"].to_numpy(dtype=np.int64),
            "highway": highway.loc[edges.index].to_numpy(),
            "osm_id": edges["id"].to_numpy(dtype=np.int64),
        },
        geometry=edges.geometry.to_numpy(),
        crs=WGS84,
    )
    walk_edges["length_m"] = geodesic_lengths_m(walk_edges.geometry)
    used = np.union1d(walk_edges["source"], walk_edges["target"])
    nodes = nodes.loc[nodes["id"].isin(used)].drop_duplicates("id")
    walk_nodes = gpd.GeoDataFrame(
        {"id": nodes["id"].to_numpy(dtype=np.int64)},
        geometry=nodes.geometry.to_numpy(),
        crs=WGS84,
    )
    return walk_nodes.reset_index(drop=True), walk_edges.reset_index(drop=True)


def _lines(frame: gpd.GeoDataFrame, kind: pd.Series) -> gpd.GeoDataFrame:
    parts, index = shapely.get_parts(frame.geometry.values, return_index=True)
    is_line = shapely.get_type_id(parts) == 1
    parts, index = parts[is_line], index[is_line]
    return gpd.GeoDataFrame(
        {
            "osm_id": frame["id"].to_numpy(dtype=np.int64)[index],
            "kind": kind.to_numpy()[index],
            "name": _column(frame, "name").to_numpy()[index],
        },
        geometry=parts,
        crs=WGS84,
    )


def _streets(osm: object) -> gpd.GeoDataFrame:
    """All highway lines (for the basemap and for cutting blocks) and surface railways."""
    frames = []
    highways = osm.get_network(network_type="all")  # type: ignore[attr-defined]
    if highways is not None and not highways.empty:
        frames.append(_lines(highways, _column(highways, "highway").astype(str)))
    rail = osm.get_data_by_custom_criteria(  # type: ignore[attr-defined]
        custom_filter={"railway": list(RAILWAYS)}, keep_nodes=False
    )
    if rail is not None and not rail.empty:
        tunnel = _column(rail, "tunnel").astype("string").isin(["yes", "building_passage"])
        rail = rail.loc[~tunnel.fillna(False).to_numpy(dtype=bool)]
        frames.append(_lines(rail, pd.Series("rail", index=rail.index)))
    if not frames:
        return _empty(["osm_id", "kind", "name"])
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=WGS84)


def _water(osm: object) -> gpd.GeoDataFrame:
    raw = osm.get_data_by_custom_criteria(  # type: ignore[attr-defined]
        custom_filter={"natural": list(WATER_NATURAL), "landuse": list(WATER_LANDUSE)},
        keep_nodes=False,
    )
    if raw is None or raw.empty:
        return _empty(["osm_id", "kind", "name"])
    raw = _polygonal(raw)
    kind = _column(raw, "natural").fillna(_column(raw, "landuse")).fillna("water")
    return gpd.GeoDataFrame(
        {
            "osm_id": _signed_ids(raw),
            "kind": kind.astype(str).to_numpy(),
            "name": _column(raw, "name").to_numpy(),
        },
        geometry=raw.geometry.to_numpy(),
        crs=WGS84,
    )


def _amenities(osm: object) -> gpd.GeoDataFrame:
    raw = osm.get_pois(custom_filter={"amenity": list(STATION_AMENITIES)})  # type: ignore[attr-defined]
    if raw is None or raw.empty:
        return _empty(["osm_type", "osm_id", "kind", "name"])
    points = shapely.point_on_surface(shapely.make_valid(raw.geometry.values))
    return gpd.GeoDataFrame(
        {
            "osm_type": _column(raw, "osm_type").fillna("node").astype(str).to_numpy(),
            "osm_id": raw["id"].to_numpy(dtype=np.int64),
            "kind": raw["amenity"].astype(str).to_numpy(),
            "name": _column(raw, "name").to_numpy(),
        },
        geometry=points,
        crs=WGS84,
    ).drop_duplicates(["osm_type", "osm_id"])


def _boundaries(osm: object) -> gpd.GeoDataFrame:
    raw = osm.get_boundaries()  # type: ignore[attr-defined]
    if raw is None or raw.empty:
        return _empty(["name", "admin_level"])
    raw = _polygonal(raw)
    return gpd.GeoDataFrame(
        {
            "name": _column(raw, "name").to_numpy(),
            "admin_level": pd.to_numeric(_column(raw, "admin_level"), errors="coerce").to_numpy(),
        },
        geometry=raw.geometry.to_numpy(),
        crs=WGS84,
    )


def read_osm(path: Path) -> OsmLayers:
    """Read the layers gridmap keeps from an ``.osm.pbf`` file.

    Raises
    ------
    InvalidInput
        When the file is missing, is not an OSM PBF file, or holds no buildings or walkways.
    """
    import pyrosm

    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    with path.open("rb") as handle:
        head = handle.read(64)
    if _PBF_HEADER not in head:
        raise InvalidInput(f"{path}: not an OSM PBF file (no OSMHeader block at its start)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyrosm's pandas and shapely deprecations
        osm = pyrosm.OSM(str(path))
        buildings = _buildings(osm)
        walk_nodes, walk_edges = _walking_network(osm)
        layers = OsmLayers(
            buildings=buildings,
            walk_nodes=walk_nodes,
            walk_edges=walk_edges,
            streets=_streets(osm),
            water=_water(osm),
            amenities=_amenities(osm),
            boundaries=_boundaries(osm),
        )
    if layers.buildings.empty:
        raise InvalidInput(f"{path}: the OSM file has no buildings")
    return layers
