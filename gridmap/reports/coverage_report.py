"""The coverage-rate report of a region: city, district, street or community.

It holds the rates by residents, households and units, the sub-regions ranked (the bottom
five marked), the largest gaps, a map of the circles and gaps, and the new station that would
help most.

Every figure is read from one saved coverage run, so the report equals the run to the person.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection

from gridmap.coverage.engine import CoverageParameters
from gridmap.coverage.station_planning import suggest_sites
from gridmap.db import coverage as coverage_db
from gridmap.db import reports as report_rows
from gridmap.errors import InvalidInput

BOTTOM = 5
"""How many of the lowest sub-regions a report marks."""
LARGEST_GAPS = 10
MEASURES = ("residents", "households", "units")
LEVEL_NAMES = {
    "city": "市",
    "district": "区县",
    "street": "街道",
    "community": "社区",
    "grid": "网格",
}


@dataclass(frozen=True)
class Site:
    """The suggested new station and what it would add."""

    name: str
    lon: float
    lat: float
    gain_residents: int
    rate_after: float  # the city's rate by residents with it


@dataclass(frozen=True)
class CoverageReport:
    """Everything a coverage-rate report shows."""

    region: dict[str, Any]  # code, name, level, parent
    run: dict[str, Any]  # id, created_at, minutes, speed_m_per_min, budget_m
    rates: dict[str, dict[str, float]]  # measure → covered, total, rate
    parts: pd.DataFrame  # sub-regions or grids, lowest rate first, with rank and bottom
    part_level: str
    gaps: gpd.GeoDataFrame  # largest first
    circles: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame
    boundary: Any  # shapely, WGS 84
    part_shapes: gpd.GeoDataFrame
    site: Site | None
    basemap: gpd.GeoDataFrame | None = None  # streets and water inside the region


def with_rates(frame: pd.DataFrame) -> pd.DataFrame:
    """Add ``rate_<measure>`` (covered ÷ total; None when the total is 0) for each measure.

    >>> with_rates(pd.DataFrame({"residents": [10, 0], "covered_residents": [4, 0],
    ...     "households": [4, 0], "covered_households": [1, 0], "units": [2, 0],
    ...     "covered_units": [1, 0]}))["rate_residents"].tolist()
    [0.4, nan]
    """
    out = frame.copy()
    for m in MEASURES:
        total = out[m].astype(float)
        out[f"rate_{m}"] = out[f"covered_{m}"].astype(float) / total.where(total > 0)
    return out


def ranked(parts: pd.DataFrame) -> pd.DataFrame:
    """Rank parts by their rate by residents, lowest first; mark the bottom :data:`BOTTOM`.

    Parts without residents come last and are never marked.
    """
    order = parts.sort_values(["rate_residents", "code"], na_position="last").reset_index(drop=True)
    order["rank"] = range(1, len(order) + 1)
    rated = order["rate_residents"].notna()
    order["bottom"] = rated & (order["rank"] <= BOTTOM) & (len(order) > BOTTOM)
    return order


def load_coverage_report(
    connection: Connection, code: str, *, run_id: int | None = None, siting: bool = True
) -> CoverageReport:
    """Read the report of region ``code`` from run ``run_id`` (the latest when None).

    Raises
    ------
    NotFound
        When the region or the run does not exist.
    InvalidInput
        When the run has no figures for the region (none of its units has residents).
    """
    region = report_rows.region_by_code(connection, code).iloc[0]
    run = report_rows.run_row(connection, run_id)
    rates = with_rates(coverage_db.region_rates(connection, run["id"]))
    own = rates.loc[rates["code"] == code]
    if own.empty:
        raise InvalidInput(f"region: run {run['id']} has no residents in region {code}")
    if region["level"] == "community":
        shapes, level = report_rows.grids_of_community(connection, int(region["id"])), "grid"
        plan = coverage_db.current_plan_id(connection)
        pool = with_rates(coverage_db.grid_rates(connection, run["id"], plan)) if plan else rates
    else:
        shapes = report_rows.children(connection, int(region["id"]))
        level, pool = (shapes["level"].iloc[0] if len(shapes) else "community"), rates
    parts = ranked(pool.loc[pool["code"].isin(shapes["code"])].drop(columns="level"))
    row = own.iloc[0]
    figures = {
        m: {
            "covered": int(row[f"covered_{m}"]),
            "total": int(row[m]),
            "rate": float(row[f"rate_{m}"]),
        }
        for m in MEASURES
    }
    budget = float(run["budget_m"])
    return CoverageReport(
        region={k: region[k] for k in ("code", "name", "level", "parent")},
        run=run,
        rates=figures,
        parts=parts,
        part_level=level,
        gaps=report_rows.gaps_within(connection, run["id"], int(region["id"])).head(LARGEST_GAPS),
        circles=report_rows.circles_near(connection, run["id"], int(region["id"])),
        stations=report_rows.stations_near(connection, int(region["id"]), budget),
        boundary=region["geometry"],
        part_shapes=shapes,
        site=_site(connection, run, int(region["id"])) if siting else None,
        basemap=report_rows.basemap_within(connection, int(region["id"])),
    )


def _site(connection: Connection, run: dict[str, Any], region_id: int) -> Site | None:
    snap = run["max_snap_m"] or CoverageParameters().max_snap_m
    parameters = CoverageParameters(run["minutes"], run["speed_m_per_min"], snap)
    try:
        found = suggest_sites(connection, parameters, k=1, within=region_id)
    except InvalidInput:  # no candidate site in the region
        return None
    if found.sites.empty:
        return None
    best = found.sites.iloc[0]
    return Site(
        str(best["name"] or best["label"]),
        float(best["lon"]),
        float(best["lat"]),
        int(best["gain"]),
        float(found.greedy.rate),
    )
