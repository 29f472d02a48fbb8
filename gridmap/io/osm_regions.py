"""Regions from OSM admin boundaries: districts, streets and communities, coded per GB/T 2260.

OSM in China maps county-level districts at ``admin_level=6``, streets and townships at 8 and
communities and villages at 10. OSM carries no statistical codes, so each boundary is coded
here: districts from the configured county code, streets and communities with serials in
reading order inside the parent that holds their largest part. A layer of communities with no
streets above it gets one street per district. Pure: boundaries in, regions out.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.crs import metric_crs_of
from gridmap.geometry import largest_overlap
from gridmap.units.regions import serial_codes

ADMIN_LEVELS = {6: "district", 8: "street", 10: "community"}
"""OSM admin_level of each region level, as OSM China maps them."""


def regions_from_boundaries(
    boundaries: gpd.GeoDataFrame,
    county_code: str,
    *,
    admin_levels: dict[int, str] | None = None,
) -> gpd.GeoDataFrame:
    """Return coded regions (code, name, level, parent_code, geometry) from OSM boundaries.

    Returns an empty frame when the boundaries hold no communities: then units are built and
    regions derived as for a city without boundaries.
    """
    levels = admin_levels or ADMIN_LEVELS
    level = boundaries["admin_level"].map(levels)
    if not (level == "community").any():
        return gpd.GeoDataFrame(
            columns=["code", "name", "level", "parent_code", "geometry"],
            geometry="geometry",
            crs=4326,
        )
    metric = metric_crs_of(boundaries.geometry.values)
    parts = {
        name: boundaries.loc[level == name].to_crs(metric).reset_index(drop=True)
        for name in ("district", "street", "community")
    }
    districts = _districts(parts["district"], parts["community"], county_code)
    streets = parts["street"]
    if streets.empty:  # communities straight under districts: one street per district
        streets = gpd.GeoDataFrame(
            {"name": districts["name"].to_numpy() + "街道"},
            geometry=districts.geometry.values,
            crs=metric,
        )
    streets = _children(streets, districts, digits=3, level="street")
    communities = _children(parts["community"], streets, digits=3, level="community")
    regions = pd.concat([districts, streets, communities], ignore_index=True)
    return gpd.GeoDataFrame(regions, geometry="geometry", crs=metric).to_crs(4326)


def _districts(
    districts: gpd.GeoDataFrame, communities: gpd.GeoDataFrame, county_code: str
) -> gpd.GeoDataFrame:
    if districts.empty:  # one district: the whole mapped area
        whole = shapely.union_all(communities.geometry.values)
        districts = gpd.GeoDataFrame({"name": ["区"]}, geometry=[whole], crs=communities.crs)
    xy = shapely.get_coordinates(shapely.point_on_surface(districts.geometry.values))
    first = int(county_code[4:])
    serials = serial_codes(county_code[:4], xy, digits=2, start=first)
    return gpd.GeoDataFrame(
        {
            "code": serials,
            "name": districts["name"].fillna("区").to_numpy(),
            "level": "district",
            "parent_code": county_code[:4] + "00",
        },
        geometry=districts.geometry.values,
        crs=districts.crs,
    )


def _children(
    children: gpd.GeoDataFrame, parents: gpd.GeoDataFrame, *, digits: int, level: str
) -> gpd.GeoDataFrame:
    """Place each child in the parent holding its largest part; code it after that parent."""
    geoms = np.asarray(children.geometry.values, dtype=object)
    parent, _ = largest_overlap(geoms, np.asarray(parents.geometry.values, dtype=object))
    inside = parent >= 0
    geoms, parent = geoms[inside], parent[inside]
    names = children["name"].to_numpy()[inside]
    xy = shapely.get_coordinates(shapely.point_on_surface(geoms))
    codes = np.empty(len(geoms), dtype=object)
    for p in np.unique(parent):
        mine = np.flatnonzero(parent == p)
        codes[mine] = serial_codes(parents["code"].iloc[p], xy[mine], digits=digits)
    fallback = np.array([f"{level}{c[-3:]}" for c in codes], dtype=object)
    return gpd.GeoDataFrame(
        {
            "code": codes,
            "name": np.where(pd.isna(names), fallback, names),
            "level": level,
            "parent_code": parents["code"].to_numpy()[parent],
        },
        geometry=geoms,
        crs=children.crs,
    )
