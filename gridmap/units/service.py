"""Build the city's units and, when it has none, its regions, from the stored base layers.

Loads buildings, streets and water from PostGIS, runs the pure engines of
:mod:`gridmap.units.blocks` and :mod:`gridmap.units.regions` in the city's metric CRS, and writes
regions, units and each building's unit in the caller's transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection

from gridmap.db import city as db
from gridmap.db.bulk import copy_rows
from gridmap.errors import Conflict, InvalidInput
from gridmap.geometry import polygonal_parts
from gridmap.io.crs import local_metric_crs
from gridmap.standards import COMMUNITY_RESIDENTS, GRID_BOUNDS, SLIVER_AREA_M2
from gridmap.units import blocks, regions

Step = Callable[[str], None]
STREET_RESIDENTS = (30_000, 100_000)
"""Residents of a derived street (街道): a township-level office serves tens of thousands."""

_COUNTY_CODE = re.compile(r"^[1-9][0-9]{3}(?!00)[0-9]{2}$")


@dataclass(frozen=True)
class UnitBuildCounts:
    """What a build wrote."""

    units: int
    communities: int
    streets: int
    residents: int
    households: int


def build_units(
    connection: Connection,
    *,
    county_code: str,
    city_name: str = "演示市",
    district_name: str = "演示区",
    max_households: int = GRID_BOUNDS["urban"].max_households,
    sliver_area_m2: float = SLIVER_AREA_M2,
    community_residents: tuple[int, int] = COMMUNITY_RESIDENTS,
    replace: bool = False,
    step: Step | None = None,
) -> UnitBuildCounts:
    """Cut the stored city into units and derive its regions with codes.

    Raises
    ------
    InvalidInput
        When the county code is not a 6-digit GB/T 2260 county code, or there are no buildings.
    Conflict
        When units exist already and ``replace`` is not set.
    """
    say = step or (lambda _: None)
    if not _COUNTY_CODE.match(county_code):
        raise InvalidInput(
            f"county code {county_code!r} is not a 6-digit county code (GB/T 2260, e.g. 510107)"
        )
    existing = db.count_units(connection)
    if existing and not replace:
        raise Conflict(f"the city has {existing} units already; pass replace to rebuild them")
    if existing:
        db.clear_units_and_regions(connection)

    say("loading buildings, streets and water")
    buildings, streets, water = db.load_city_layers(connection)
    if buildings.empty:
        raise InvalidInput("there are no buildings: import an OSM file or a buildings layer first")
    centre = buildings.geometry.union_all().centroid
    metric = local_metric_crs(centre.x, centre.y)
    buildings_m, streets_m = buildings.to_crs(metric), streets.to_crs(metric)

    say("cutting blocks")
    area = blocks.study_area(
        streets_m.geometry.values,
        buildings_m.geometry.values,
        water=water.to_crs(metric).geometry.values,
    )
    barriers = streets_m.loc[streets_m["kind"].isin(blocks.BLOCK_CUTTING)].geometry.values
    faces = blocks.merge_slivers(blocks.cut_blocks(area, barriers), min_area_m2=sliver_area_m2)
    points = shapely.point_on_surface(buildings_m.geometry.values)
    households = buildings["households"].to_numpy()
    units = blocks.split_oversized(faces, points, households, max_households=max_households)
    owner = blocks.locate(units, points)
    unit_households = np.bincount(owner, weights=households, minlength=len(units)).astype(np.int64)
    unit_residents = np.bincount(
        owner, weights=buildings["residents"], minlength=len(units)
    ).astype(np.int64)

    say("deriving communities and streets")
    unit_xy = shapely.get_coordinates(shapely.point_on_surface(units))
    community_of_unit, community_geoms, community_xy, community_weights = _group(
        units, unit_residents.astype(float), unit_xy, community_residents
    )
    street_of_community, street_geoms, street_xy, _ = _group(
        community_geoms, community_weights, community_xy, STREET_RESIDENTS
    )

    say("coding and writing regions and units")

    def add(codes: Sequence[str], names: Sequence[str], level: str, parents: Sequence[int | None],
            geoms: Sequence[object]) -> np.ndarray:  # fmt: skip
        return db.insert_regions(connection, codes=codes, names=names, level=level,
                                 parents=parents, geoms=_to_wgs84(geoms, metric))  # fmt: skip

    city_code = county_code[:4] + "00"
    whole = shapely.union_all(units)
    city_id = add([city_code], [city_name], "city", [None], [whole])[0]
    district_id = add([county_code], [district_name], "district", [city_id], [whole])[0]
    street_codes = regions.serial_codes(county_code, street_xy, digits=3)
    street_names = _names(street_geoms, streets_m, street_codes, "街道")
    street_ids = add(
        street_codes, street_names, "street", [district_id] * len(street_geoms), street_geoms
    )
    community_codes = np.empty(len(community_geoms), dtype=object)
    for s in range(len(street_geoms)):
        mine = np.flatnonzero(street_of_community == s)
        community_codes[mine] = regions.serial_codes(street_codes[s], community_xy[mine], digits=3)
    community_names = _names(community_geoms, streets_m, community_codes, "社区")
    community_ids = add(
        community_codes,
        community_names,
        "community",
        street_ids[street_of_community],
        community_geoms,
    )
    unit_codes = np.empty(len(units), dtype=object)
    for c in range(len(community_geoms)):
        mine = np.flatnonzero(community_of_unit == c)
        unit_codes[mine] = regions.serial_codes(community_codes[c], unit_xy[mine], digits=4)
    unit_ids = db.next_ids(connection, "unit", len(units))
    copy_rows(
        connection,
        "unit",
        pd.DataFrame({
            "id": unit_ids, "code": unit_codes, "community_id": community_ids[community_of_unit],
            "residents": unit_residents, "households": unit_households,
            "geometry": _to_wgs84(units, metric),
        }),
    )  # fmt: skip
    db.link_buildings(connection, buildings["id"].to_numpy(), unit_ids[owner])
    return UnitBuildCounts(
        units=len(units),
        communities=len(community_geoms),
        streets=len(street_geoms),
        residents=int(unit_residents.sum()),
        households=int(unit_households.sum()),
    )


def _group(
    polygons: np.ndarray, weights: np.ndarray, xy: np.ndarray, bounds: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Grow contiguous regions of ``polygons`` within ``bounds`` of weight.

    Returns each polygon's region, and each region's geometry, inner point and weight.
    """
    labels = regions.grow_regions(
        regions.adjacency(polygons), weights, xy,
        target=float(np.mean(bounds)), minimum=float(bounds[0]), maximum=float(bounds[1]),
    )  # fmt: skip
    geoms = blocks.dissolve(polygons, labels)
    inner = shapely.get_coordinates(shapely.point_on_surface(geoms))
    return labels, geoms, inner, np.bincount(labels, weights=weights)


def _names(
    geoms: np.ndarray, streets_m: gpd.GeoDataFrame, codes: np.ndarray, suffix: str
) -> list[str]:
    """Name each region after the named street that runs longest inside it, as cities do."""
    named = streets_m.loc[streets_m["name"].notna()]
    names = []
    taken: set[str] = set()
    for geom, code in zip(geoms, codes, strict=True):
        inside = named.loc[named.intersects(geom)]
        lengths = inside.intersection(geom).length.groupby(inside["name"].to_numpy()).sum()
        choice = next(
            (n for n in lengths.sort_values(ascending=False).index if n not in taken), None
        )
        if choice is None:
            names.append(f"{suffix}{code[-3:]}")
        else:
            taken.add(choice)
            names.append(f"{choice}{suffix}")
    return names


def _to_wgs84(geoms: Sequence[object], metric: object) -> np.ndarray:
    """Return metric polygonal geometries as valid MultiPolygons in EPSG:4326."""
    series = gpd.GeoSeries(list(geoms), crs=metric).to_crs(4326)
    multi, positions = polygonal_parts(np.asarray(series.values, dtype=object))
    if len(positions) != len(series):
        raise InvalidInput("a derived region has no area")
    return multi
