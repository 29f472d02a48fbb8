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

from gridmap.crs import metric_crs_of
from gridmap.db import city as city_rows
from gridmap.db import imports
from gridmap.db.bulk import copy_rows
from gridmap.errors import Conflict, InvalidInput
from gridmap.geometry import largest_overlap, polygonal_parts
from gridmap.standards import COMMUNITY_RESIDENTS, GRID_BOUNDS, SLIVER_AREA_M2
from gridmap.units import blocks, regions
from gridmap.units.division_names import parent_names

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
    city_name: str | None = None,
    district_name: str | None = None,
    max_households: int = GRID_BOUNDS["urban"].max_households,
    sliver_area_m2: float = SLIVER_AREA_M2,
    community_residents: tuple[int, int] = COMMUNITY_RESIDENTS,
    replace: bool = False,
    step: Step | None = None,
) -> UnitBuildCounts:
    """Cut the stored city into units, inside its communities or deriving them.

    Communities that were imported (from a file or OSM) are kept, and units are cut inside each;
    when there are none, streets and communities are derived by clustering units and coded
    from ``county_code``, under a city and district named after it (:func:`parent_names`)
    unless ``city_name`` and ``district_name`` are given.

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
    existing = city_rows.count_units(connection)
    if existing and not replace:
        raise Conflict(f"the city has {existing} units already; pass replace to rebuild them")
    if existing and (grids := city_rows.count_grids(connection)):
        raise Conflict(
            f"{grids} grids of the city's plans are made of its units; rebuilding the units "
            "would break them: import the units instead, or start from an empty database"
        )
    if existing:
        city_rows.clear_units_and_derived_regions(connection)

    say("loading buildings, streets and water")
    city = _load(connection)
    communities = imports.communities(connection)
    say("cutting blocks")
    if communities.empty:
        units = _cut(city, city.area(), max_households, sliver_area_m2)
        say("deriving communities and streets")
        community_of_unit, community_ids, community_codes = _derive_regions(
            connection,
            city,
            units,
            county_code,
            community_residents,
            city_name=city_name,
            district_name=district_name,
        )
    else:
        inside = np.asarray(communities.to_crs(city.metric).geometry.values, dtype=object)
        units = _cut(city, inside, max_households, sliver_area_m2)
        community_of_unit, _ = largest_overlap(units, inside)
        community_ids = communities["id"].to_numpy()
        community_codes = communities["code"].to_numpy()
    say("coding and writing units")
    return _write_units(connection, city, units, community_of_unit, community_ids, community_codes)


@dataclass(frozen=True)
class _City:
    """The stored layers that cut units, in the city's metric CRS."""

    metric: object
    building_ids: np.ndarray
    points: np.ndarray
    households: np.ndarray
    residents: np.ndarray
    buildings: np.ndarray
    streets: gpd.GeoDataFrame
    water: np.ndarray

    def area(self) -> np.ndarray:
        """Return the mapped area as one polygon (the study area), for a city of no regions."""
        return np.array(
            [blocks.study_area(self.streets.geometry.values, self.buildings, water=self.water)],
            dtype=object,
        )


def _load(connection: Connection) -> _City:
    buildings, streets, water = city_rows.load_city_layers(connection)
    if buildings.empty:
        raise InvalidInput("there are no buildings: import an OSM file or a buildings layer first")
    metric = metric_crs_of(buildings.geometry.values)
    footprints = np.asarray(buildings.to_crs(metric).geometry.values, dtype=object)
    return _City(
        metric=metric,
        building_ids=buildings["id"].to_numpy(),
        points=_inner_points(buildings, metric),
        households=buildings["households"].to_numpy(),
        residents=buildings["residents"].to_numpy(),
        buildings=footprints,
        streets=streets.to_crs(metric),
        water=np.asarray(water.to_crs(metric).geometry.values, dtype=object),
    )


def _inner_points(buildings: gpd.GeoDataFrame, metric: object) -> np.ndarray:
    """Return each stored footprint's inner point, in metres.

    The point is found on lon/lat, as PostGIS's ST_PointOnSurface finds it, so that a
    building's unit is the one the database sees its point in.
    """
    inner = shapely.point_on_surface(np.asarray(buildings.geometry.values, dtype=object))
    return np.asarray(gpd.GeoSeries(inner, crs=buildings.crs).to_crs(metric).values, dtype=object)


def _cut(city: _City, areas: np.ndarray, max_households: int, sliver_area_m2: float) -> np.ndarray:
    """Cut each area (a community, or the study area) into blocks, merge slivers, split.

    Streets, railways and shores cut; water inside a community becomes units of its own.
    """
    barriers = city.streets.loc[city.streets["kind"].isin(blocks.BLOCK_CUTTING)].geometry.values
    barriers = np.asarray(barriers, dtype=object)
    barriers = np.concatenate([barriers, shapely.boundary(city.water)])  # shores cut too
    tree = shapely.STRtree(barriers)
    faces, groups = [], []
    for a, area in enumerate(areas):  # one pass per community: a few hundred in a big city
        cut = blocks.cut_blocks(shapely.make_valid(area), barriers[tree.query(area)])
        faces.append(cut)
        groups.append(np.full(len(cut), a))
    merged, _ = blocks.merge_slivers(
        np.concatenate(faces), min_area_m2=sliver_area_m2, groups=np.concatenate(groups)
    )
    paths = city.streets.loc[city.streets["kind"].isin(blocks.MINOR_PATHS)].geometry.values
    units = blocks.split_oversized(
        merged,
        city.points,
        city.households,
        max_households=max_households,
        paths=np.asarray(paths, dtype=object),
    )
    area_of_unit, _ = largest_overlap(units, areas)
    return blocks.whole_units(
        units, min_area_m2=sliver_area_m2, groups=area_of_unit, points=city.points
    )


def _derive_regions(
    connection: Connection,
    city: _City,
    units: np.ndarray,
    county_code: str,
    community_residents: tuple[int, int],
    *,
    city_name: str | None,
    district_name: str | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cluster units into communities and streets, code and write them (source ``derived``).

    Returns each unit's community (a position), and the communities' ids and codes.
    """
    owner = blocks.locate(units, city.points)
    unit_residents = np.bincount(owner, weights=city.residents, minlength=len(units))
    unit_xy = shapely.get_coordinates(shapely.point_on_surface(units))
    community_of_unit, community_geoms, community_xy, community_weights = _group(
        units, unit_residents, unit_xy, community_residents
    )
    street_of_community, street_geoms, street_xy, _ = _group(
        community_geoms, community_weights, community_xy, STREET_RESIDENTS
    )

    def add(
        codes: Sequence[str] | np.ndarray,
        names: Sequence[str] | np.ndarray,
        level: str,
        parents: Sequence[int | None] | np.ndarray,
        geoms: Sequence[object] | np.ndarray,
    ) -> np.ndarray:
        return city_rows.insert_regions(
            connection,
            codes=codes,
            names=names,
            level=level,
            parents=parents,
            geoms=_to_wgs84(geoms, city.metric),
        )

    whole = shapely.union_all(units)
    official_city, official_district = parent_names(county_code)
    city_name, district_name = city_name or official_city, district_name or official_district
    city_id = add([county_code[:4] + "00"], [city_name], "city", [None], [whole])[0]
    district_id = add([county_code], [district_name], "district", [city_id], [whole])[0]
    street_codes = regions.serial_codes(county_code, street_xy, digits=3)
    street_names = _names(street_geoms, city.streets, street_codes, "街道")
    street_ids = add(
        street_codes, street_names, "street", [district_id] * len(street_geoms), street_geoms
    )
    community_codes = _codes_within(street_codes, street_of_community, community_xy, digits=3)
    community_ids = add(
        community_codes,
        _names(community_geoms, city.streets, community_codes, "社区"),
        "community",
        street_ids[street_of_community],
        community_geoms,
    )
    return community_of_unit, community_ids, community_codes


def _codes_within(
    parent_codes: np.ndarray, parent_of: np.ndarray, xy: np.ndarray, *, digits: int
) -> np.ndarray:
    """Code every child after its parent, serials in reading order within each parent."""
    codes = np.empty(len(parent_of), dtype=object)
    for p in np.unique(parent_of):
        mine = np.flatnonzero(parent_of == p)
        codes[mine] = regions.serial_codes(parent_codes[p], xy[mine], digits=digits)
    return codes


def _write_units(
    connection: Connection,
    city: _City,
    units: np.ndarray,
    community_of_unit: np.ndarray,
    community_ids: np.ndarray,
    community_codes: np.ndarray,
) -> UnitBuildCounts:
    """Code units within their communities, write them, and put each building in its unit."""
    owner = blocks.locate(units, city.points)
    households = np.bincount(owner, weights=city.households, minlength=len(units))
    residents = np.bincount(owner, weights=city.residents, minlength=len(units))
    unit_xy = shapely.get_coordinates(shapely.point_on_surface(units))
    codes = _codes_within(community_codes, community_of_unit, unit_xy, digits=4)
    unit_ids = city_rows.next_ids(connection, "unit", len(units))
    copy_rows(
        connection,
        "unit",
        pd.DataFrame(
            {
                "id": unit_ids,
                "code": codes,
                "community_id": community_ids[community_of_unit],
                "kind": _kinds(units, city.water),
                "residents": residents.astype(np.int64),
                "households": households.astype(np.int64),
                "geometry": _to_wgs84(units, city.metric),
            }
        ),
    )
    city_rows.link_buildings(connection, city.building_ids, unit_ids[owner])
    imports.recount_governance_load(connection)
    return UnitBuildCounts(
        units=len(units),
        communities=len(np.unique(community_of_unit)),
        streets=city_rows.count_regions(connection, "street"),
        residents=int(residents.sum()),
        households=int(households.sum()),
    )


def _kinds(units: np.ndarray, water: np.ndarray) -> np.ndarray:
    """Return ``water`` for units that are mostly water, else ``residential``."""
    if not len(water):
        return np.full(len(units), "residential", dtype=object)
    wet = shapely.area(shapely.intersection(units, shapely.union_all(water)))
    return np.where(wet > 0.5 * shapely.area(units), "water", "residential").astype(object)


def _group(
    polygons: np.ndarray, weights: np.ndarray, xy: np.ndarray, bounds: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Grow contiguous regions of ``polygons`` within ``bounds`` of weight.

    Returns each polygon's region, and each region's geometry, inner point and weight.
    """
    labels = regions.grow_regions(
        regions.adjacency(polygons),
        weights,
        xy,
        target=float(np.mean(bounds)),
        minimum=float(bounds[0]),
        maximum=float(bounds[1]),
    )
    geoms = blocks.dissolve(polygons, labels)
    inner = shapely.get_coordinates(shapely.point_on_surface(geoms))
    return labels, geoms, inner, np.bincount(labels, weights=weights)


def _names(
    geoms: np.ndarray, streets_m: gpd.GeoDataFrame, codes: np.ndarray, suffix: str
) -> list[str]:
    """Name each region after the named street that runs longest inside it, as cities do.

    A street names one region only; a region left without one is named by its serial.
    """
    named = streets_m.loc[streets_m["name"].notna()]
    lines = np.asarray(named.geometry.values, dtype=object)
    region, line = shapely.STRtree(lines).query(
        np.asarray(geoms, dtype=object), predicate="intersects"
    )
    lengths = (
        pd.DataFrame(
            {
                "region": region,
                "name": named["name"].to_numpy()[line],
                "length": shapely.length(
                    shapely.intersection(lines[line], np.asarray(geoms)[region])
                ),
            }
        )
        .groupby(["region", "name"], as_index=False)["length"]
        .sum()
    )
    ranked = lengths.sort_values(["region", "length"], ascending=[True, False])
    names = [f"{suffix}{code[-3:]}" for code in codes]
    taken: set[str] = set()
    for r, candidates in ranked.groupby("region", sort=True)["name"]:  # small groups
        choice = next((n for n in candidates if n not in taken), None)
        if choice is not None:
            taken.add(choice)
            names[r] = f"{choice}{suffix}"
    return names


def _to_wgs84(geoms: Sequence[object] | np.ndarray, metric: object) -> np.ndarray:
    """Return metric polygonal geometries as valid MultiPolygons in EPSG:4326."""
    series = gpd.GeoSeries(list(geoms), crs=metric).to_crs(4326)
    multi, positions = polygonal_parts(np.asarray(series.values, dtype=object))
    if len(positions) != len(series):
        raise InvalidInput("a derived region has no area")
    return multi
