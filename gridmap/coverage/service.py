"""Run coverage on the stored city and save it: the thin layer between PostGIS and the engine.

Loads the walking network, buildings and stations, runs the engine in the city's metric CRS,
and writes the run (parameters and city figures), each building's walk, each unit's covered
residents, each station's network circle and Euclidean disc with its load, and the gaps, in the
caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from sqlalchemy import Connection

from gridmap.coverage import engine
from gridmap.coverage.circles import euclidean_discs, network_circles
from gridmap.coverage.engine import CoverageParameters, Reach
from gridmap.coverage.gaps import Gaps, gap_areas
from gridmap.coverage.reach import station_reach
from gridmap.crs import metric_crs_of
from gridmap.db import coverage as coverage_rows
from gridmap.errors import InvalidInput
from gridmap.geometry import polygonal_parts
from gridmap.network import Snapped, WalkNetwork, snap

Step = Callable[[str], None]


@dataclass(frozen=True)
class City:
    """The inputs of a coverage run, in the city's metric CRS."""

    crs: object
    network: WalkNetwork
    buildings: pd.DataFrame  # id, unit_id, residents, households (no footprints: see gaps)
    points: np.ndarray  # each building's inner point, metres
    stations: gpd.GeoDataFrame  # id, code, name, capacity_residents; points in metres


@dataclass(frozen=True)
class CoverageSummary:
    """What a run found, city-wide."""

    run_id: int
    figures: dict[str, float]


def load_city(connection: Connection) -> City:
    """Load the network, buildings and stations, projected to the city's metric CRS.

    Raises
    ------
    InvalidInput
        When there is no walking network or no building.
    """
    network, crs = load_network(connection)
    buildings = coverage_rows.load_buildings(connection)
    if buildings.empty:
        raise InvalidInput("there are no buildings: import some first")
    to_metric = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    x, y = to_metric.transform(buildings.pop("lon").to_numpy(), buildings.pop("lat").to_numpy())
    return City(
        crs,
        network,
        buildings,
        shapely.points(x, y),
        coverage_rows.load_stations(connection).to_crs(crs),
    )


def load_network(connection: Connection, crs: object = None) -> tuple[WalkNetwork, object]:
    """Load the walking network in ``crs`` (the city's metric CRS when None); return both.

    Raises
    ------
    InvalidInput
        When there is no walking network.
    """
    nodes, edges = coverage_rows.load_network(connection)
    if edges.empty:
        raise InvalidInput("there is no walking network: import an OSM file or synthesize a city")
    crs = crs if crs is not None else metric_crs_of(nodes.geometry.values)
    nodes_m, edges_m = nodes.to_crs(crs), edges.to_crs(crs)
    network = WalkNetwork.from_arrays(
        nodes["id"].to_numpy(),
        shapely.get_coordinates(nodes_m.geometry.values),
        edges["source"].to_numpy(),
        edges["target"].to_numpy(),
        edges["length_m"].to_numpy(),
        np.asarray(edges_m.geometry.values, dtype=object),
    )
    return network, crs


def run_coverage(
    connection: Connection,
    parameters: CoverageParameters | None = None,
    *,
    plan_id: int | None = None,
    step: Step | None = None,
) -> CoverageSummary:
    """Compute coverage of the stored city and save the run; return its id and figures."""
    say = step or (lambda _: None)
    parameters = parameters or CoverageParameters()
    budget = parameters.budget_m
    say("loading the network, buildings and stations")
    city = load_city(connection)
    say("snapping and walking")
    station_points = np.asarray(city.stations.geometry.values, dtype=object)
    sites = snap(city.network, station_points, max_snap_m=parameters.max_snap_m)
    buildings = snap(city.network, city.points, max_snap_m=parameters.max_snap_m)
    reach = engine.nearest_stations(city.network, sites, buildings, budget_m=budget)
    disc = engine.euclidean_reach(station_points, city.points, budget_m=budget)
    say("drawing circles")
    with ThreadPoolExecutor(1) as reader:  # the gaps' footprints are read as circles are drawn:
        uncovered = reader.submit(_uncovered_footprints, connection, city, reach)
        circles = _circles(city, sites, reach, disc, budget)  # (no database work here, so the
        say("grouping gaps")  # reader has the connection to itself until it is done)
        left, footprints = uncovered.result()
    gaps = _gaps(city, left, footprints)
    say("saving")
    figures = _figures(city, reach, disc, sites)
    run_id = coverage_rows.insert_run(
        connection,
        minutes=parameters.minutes,
        speed_m_per_min=parameters.speed_m_per_min,
        budget_m=budget,
        max_snap_m=parameters.max_snap_m,
        plan_id=plan_id if plan_id is not None else coverage_rows.current_plan_id(connection),
        figures=figures,
    )
    coverage_rows.save_details(
        connection,
        run_id,
        buildings=_building_rows(city, buildings, reach),
        units=_unit_rows(city, reach),
        circles=circles,
        gaps=pd.DataFrame(
            {
                "rank": np.arange(len(gaps.residents)),
                "residents": gaps.residents,
                "households": gaps.households,
                "buildings": gaps.buildings,
                "area_m2": shapely.area(gaps.geometry),
                "geometry": polygonal_parts(_to_wgs84(gaps.geometry, city.crs))[0],
            }
        ),
    )
    return CoverageSummary(run_id, figures)


def _uncovered_footprints(
    connection: Connection, city: City, reach: Reach
) -> tuple[np.ndarray, np.ndarray]:
    """Return the uncovered buildings with residents (positions) and their metric footprints."""
    left = np.flatnonzero(~reach.covered & (city.buildings["residents"].to_numpy() > 0))
    footprints = coverage_rows.load_footprints(
        connection, city.buildings["id"].to_numpy()[left], srid=_epsg(city.crs)
    )
    return left, footprints


def _gaps(city: City, left: np.ndarray, footprints: np.ndarray) -> Gaps:
    """Group the uncovered buildings with residents (``left``) by their footprints."""
    residents = city.buildings["residents"].to_numpy()[left]
    households = city.buildings["households"].to_numpy()[left]
    return gap_areas(footprints, residents, households, np.zeros(len(left), dtype=bool))


def _figures(city: City, reach: Reach, disc: Reach, sites: Snapped) -> dict[str, float]:
    residents = city.buildings["residents"].to_numpy()
    households = city.buildings["households"].to_numpy()
    total_r, total_h = int(residents.sum()), int(households.sum())
    return {
        "residents": total_r,
        "households": total_h,
        "covered_residents": int(residents[reach.covered].sum()),
        "covered_households": int(households[reach.covered].sum()),
        "rate_residents": _rate(residents[reach.covered].sum(), total_r),
        "rate_households": _rate(households[reach.covered].sum(), total_h),
        "euclidean_rate_residents": _rate(residents[disc.covered].sum(), total_r),
        "buildings": len(residents),
        "unreachable_buildings": int((~reach.reachable).sum()),
        "unreachable_residents": int(residents[~reach.reachable].sum()),
        "stations": len(sites),
        "unreachable_stations": int((~sites.reachable).sum()),
    }


def _rate(part: float, whole: float) -> float:
    return float(part) / float(whole) if whole else 0.0


def _circles(city: City, sites: Snapped, reach: Reach, disc: Reach, budget: float) -> pd.DataFrame:
    residents = city.buildings["residents"].to_numpy()
    households = city.buildings["households"].to_numpy()
    n = len(city.stations)
    reached = station_reach(city.network, sites, budget_m=budget)
    drawn = network_circles(city.network, sites, reached, budget_m=budget)
    discs = euclidean_discs(
        np.asarray(city.stations.geometry.values, dtype=object), budget_m=budget
    )
    rows = []
    for method, shapes, result in (("network", drawn, reach), ("euclidean", discs, disc)):
        load_r, load_h = engine.station_load(result, residents, households, n)
        multi, kept = polygonal_parts(_to_wgs84(shapes, city.crs))
        rows.append(
            pd.DataFrame(
                {
                    "station_id": city.stations["id"].to_numpy()[kept],
                    "method": method,
                    "area_m2": shapely.area(shapes[kept]),
                    "residents": load_r[kept],
                    "households": load_h[kept],
                    "geometry": multi,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def _building_rows(city: City, snapped: Snapped, reach: Reach) -> pd.DataFrame:
    station_id = pd.array([pd.NA] * len(reach.covered), dtype="Int64")
    station_id[reach.covered] = city.stations["id"].to_numpy()[reach.station[reach.covered]]
    return pd.DataFrame(
        {
            "building_id": city.buildings["id"].to_numpy(),
            "reachable": reach.reachable,
            "covered": reach.covered,
            "snap_m": np.where(np.isfinite(snapped.snap_m), snapped.snap_m, np.nan),
            "walk_m": np.where(reach.covered, reach.walk_m, np.nan),
            "station_id": station_id,
        }
    )


def _unit_rows(city: City, reach: Reach) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "unit_id": city.buildings["unit_id"],
            "residents": city.buildings["residents"],
            "households": city.buildings["households"],
            "covered_residents": np.where(reach.covered, city.buildings["residents"], 0),
            "covered_households": np.where(reach.covered, city.buildings["households"], 0),
            "weighted_walk": np.where(
                reach.covered, reach.walk_m * city.buildings["residents"], 0.0
            ),
            "station": reach.station,
        }
    ).dropna(subset=["unit_id"])
    sums = frame.groupby("unit_id")[
        ["residents", "households", "covered_residents", "covered_households", "weighted_walk"]
    ].sum()
    nearest = (
        frame.loc[frame["station"] >= 0]
        .groupby(["unit_id", "station"])["covered_residents"]
        .sum()
        .sort_values(ascending=False)
        .reset_index()
        .drop_duplicates("unit_id")
        .set_index("unit_id")["station"]
    )
    station_ids = city.stations["id"].to_numpy()
    walk = sums["weighted_walk"] / sums["covered_residents"].where(sums["covered_residents"] > 0)
    return pd.DataFrame(
        {
            "unit_id": sums.index.astype(np.int64),
            "residents": sums["residents"].astype(np.int64),
            "households": sums["households"].astype(np.int64),
            "covered_residents": sums["covered_residents"].astype(np.int64),
            "covered_households": sums["covered_households"].astype(np.int64),
            "walk_m": walk.to_numpy(),
            "nearest_station_id": pd.array(
                nearest.reindex(sums.index).map(lambda s: station_ids[int(s)], na_action="ignore"),
                dtype="Int64",
            ),
        }
    )


def _to_wgs84(geoms: np.ndarray, crs: object) -> np.ndarray:
    return np.asarray(gpd.GeoSeries(geoms, crs=crs).to_crs(4326).values, dtype=object)


def _epsg(crs: Any) -> int:
    """Return the EPSG code of the city's metric CRS (a UTM zone: PostGIS knows them all)."""
    code = pyproj.CRS(crs).to_epsg()
    if code is None:  # pragma: no cover - local_metric_crs always gives a UTM zone
        raise ValueError(f"the city's CRS has no EPSG code: {crs}")
    return int(code)
