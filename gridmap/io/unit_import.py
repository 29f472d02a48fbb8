"""Importing units and grids: the layers that hang off communities and off each other.

Units are placed in the community that holds their largest part (or the one a ``community``
column names) and coded after it. Grids become a plan: every unit goes to the grid that holds
its largest part, every grid must lie in one community, and grids without a code get the next
free serial of their community (codes of retired grids are never reused).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection

from gridmap.crs import metric_crs_of
from gridmap.db import imports as import_rows
from gridmap.db import plans
from gridmap.geometry import largest_overlap
from gridmap.io.options import ImportOptions, Prepared, column
from gridmap.io.overlaps import overlaps_within, stored_overlaps
from gridmap.io.problems import Problems
from gridmap.standards import PERSONS_PER_HOUSEHOLD
from gridmap.units.regions import serial_codes

UNIT_SERIAL_DIGITS = 4
GRID_SERIAL_DIGITS = 3
COMMUNITY_CODE_DIGITS = 12


def _metric(frame: gpd.GeoDataFrame, *others: gpd.GeoDataFrame) -> list[np.ndarray]:
    """Return the geometries of ``frame`` and ``others`` in the local metric CRS."""
    present = frame.geometry.dropna()
    crs = metric_crs_of((present if not present.empty else others[0].geometry).values)
    return [np.asarray(f.geometry.to_crs(crs).values, dtype=object) for f in (frame, *others)]


def _fill_codes(
    codes: pd.Series,
    parents: pd.Series,
    xy: np.ndarray,
    used: pd.Series,
    *,
    digits: int,
    problems: Problems,
) -> pd.Series:
    """Give rows without a code the next free serials of their parent, in reading order.

    Serials are never reused: they start after the highest one stored or in the file.
    """
    codes = codes.copy()
    given = codes.dropna()
    serial = pd.to_numeric(given.str[-digits:], errors="coerce")  # bad codes are reported apart
    in_file = pd.Series(serial.to_numpy(), index=given.str[:-digits]).dropna().astype(int)
    highest = pd.concat([used, in_file]).groupby(level=0).max()
    missing = codes.isna() & parents.notna()
    for parent in pd.unique(parents[missing]):
        mine = np.flatnonzero((missing & (parents == parent)).to_numpy())
        start = int(highest.get(parent, 0)) + 1
        if start + len(mine) > 10**digits:
            problems.add(parent, f"no free {digits}-digit serials left for {len(mine)} more codes")
            continue
        codes.iloc[mine] = serial_codes(parent, xy[mine], digits=digits, start=start)
    return codes


def _check_prefix(
    code: pd.Series, community: pd.Series, labels: np.ndarray, problems: Problems
) -> None:
    """Report codes that do not start with their community's code."""
    wrong = code.notna() & community.notna() & (code.str[:COMMUNITY_CODE_DIGITS] != community)
    problems.add_where(
        labels,
        wrong.to_numpy(),
        [
            f"code {c} does not start with its community's code {m}"
            for c, m in zip(code[wrong], community[wrong], strict=True)
        ],
    )


def prepare_units(
    connection: Connection, frame: gpd.GeoDataFrame, problems: Problems, options: ImportOptions
) -> Prepared:
    """Place units in communities, check and complete their codes."""
    labels = frame["label"].to_numpy()
    communities = import_rows.communities(connection)
    if communities.empty:
        problems.add("file", "the city has no communities: import regions first")
        return lambda c: 0, []
    units_m, communities_m = _metric(frame, communities)
    zone, _ = largest_overlap(units_m, communities_m)
    named = column(frame, "community")
    by_code = pd.Series(communities["id"].to_numpy(), index=communities["code"].to_numpy())
    unknown = named.notna() & ~named.isin(by_code.index)
    problems.add_where(
        labels, unknown.to_numpy(), [f"community {c!r} does not exist" for c in named[unknown]]
    )
    placed = pd.Series(
        np.where(zone >= 0, communities["code"].to_numpy()[np.maximum(zone, 0)], None),
        index=frame.index,
    )
    community = named.where(named.notna() & ~unknown, placed)
    outside = community.isna() & ~unknown & frame.geometry.notna()
    problems.add_where(labels, outside.to_numpy(), "lies in no community")
    code = column(frame, "code")
    _check_prefix(code, community, labels, problems)
    xy = _inner_xy(units_m)
    used = import_rows.largest_serials(connection, "unit", COMMUNITY_CODE_DIGITS)
    code = _fill_codes(code, community, xy, used, digits=UNIT_SERIAL_DIGITS, problems=problems)
    counted = column(frame, "residents").notna() | column(frame, "households").notna()
    given_residents = pd.to_numeric(column(frame, "residents"))
    given_households = pd.to_numeric(column(frame, "households"))
    residents = given_residents.fillna(given_households * PERSONS_PER_HOUSEHOLD)
    households = given_households.fillna(residents / PERSONS_PER_HOUSEHOLD)
    rows = pd.DataFrame(
        {
            "code": code,
            "community_id": pd.array(community.map(by_code), dtype="Int64"),
            "kind": column(frame, "kind").fillna("residential"),
            "residents": pd.array(residents.fillna(0).round(), dtype="Int64"),
            "households": pd.array(households.fillna(0).round(), dtype="Int64"),
            "governance_load": pd.to_numeric(column(frame, "governance_load")).fillna(0.0),
            "geometry": frame.geometry.values,
        }
    )
    summed = rows.loc[~counted.to_numpy(), "code"].tolist()
    note = f"{int(counted.sum())} units with counts from the file, {len(summed)} summed"
    overlaps_within(frame, problems, "unit")
    replaced = stored_overlaps(
        connection,
        "unit",
        frame,
        code,
        key_column="code",
        problems=problems,
        replace=options.replace,
    )

    def write(connection: Connection) -> int:
        written = import_rows.upsert_units(connection, rows, sum_codes=summed)
        if replaced:
            for plan_id in import_rows.replace_units(connection, replaced):
                plans.refresh_grid_figures(connection, plan_id)
                plans.bump_revision(connection, plan_id)
                payload = {"source": problems.source, "replaced": len(replaced)}
                plans.add_audit(
                    connection,
                    actor="import",
                    action="replace units",
                    table="plan",
                    target_id=plan_id,
                    payload=payload,
                )
            import_rows.link_buildings_to_units(connection, only_unlinked=True)
            import_rows.sum_buildings_into_units(connection, codes=summed)
        return written

    notes = [note]
    if replaced:
        notes.append(
            f"{len(replaced)} stored units replaced: the new units over them took their grids "
            "in every plan (run `gridmap coverage` again for figures by unit)"
        )
    return write, notes


def _inner_xy(geoms_m: np.ndarray) -> np.ndarray:
    """Return each geometry's inner point (0, 0 for a missing one), for reading order."""
    present = ~shapely.is_missing(geoms_m)
    xy = np.zeros((len(geoms_m), 2))
    xy[present] = shapely.get_coordinates(shapely.point_on_surface(geoms_m[present]))
    return xy


def prepare_grids(
    connection: Connection, frame: gpd.GeoDataFrame, problems: Problems, options: ImportOptions
) -> Prepared:
    """Assign every unit to the grid holding its largest part; check and complete grid codes."""
    labels = frame["label"].to_numpy()
    units = import_rows.units_with_communities(connection)
    if units.empty:
        problems.add("file", "the city has no units: run `gridmap units build` first")
        return lambda c: 0, []
    grids_m, units_m = _metric(frame, units)
    grids = np.asarray(grids_m, dtype=object).copy()
    grids[shapely.is_missing(grids)] = None
    grid_of_unit, _ = largest_overlap(units_m, grids)
    loose = grid_of_unit < 0
    for code in units.loc[loose, "code"]:
        problems.add(f"unit {code}", "lies in no grid of the file (every unit needs a grid)")
    placed = pd.DataFrame(
        {"grid": grid_of_unit[~loose], "community": units.loc[~loose, "community_code"]}
    )
    per_grid = placed.groupby("grid")["community"]
    community = per_grid.agg(lambda c: c.value_counts().index[0]).reindex(range(len(frame)))
    spread = per_grid.nunique().reindex(range(len(frame)), fill_value=0)
    empty = (spread == 0).to_numpy() & frame.geometry.notna().to_numpy()
    problems.add_where(labels, empty, "holds the larger part of no unit")
    across = (spread > 1).to_numpy()
    names = per_grid.agg(lambda c: ", ".join(sorted(pd.unique(c)))).reindex(range(len(frame)))
    problems.add_where(
        labels,
        across,
        [f"spans communities {n}; a grid lies in one community" for n in names[across]],
    )
    community.index = frame.index
    code = column(frame, "code")
    _check_prefix(code, community, labels, problems)
    used = import_rows.largest_serials(connection, "grid", COMMUNITY_CODE_DIGITS)
    code = _fill_codes(
        code, community, _inner_xy(grids_m), used, digits=GRID_SERIAL_DIGITS, problems=problems
    )
    by_code = units.drop_duplicates("community_code").set_index("community_code")["community_id"]
    grids = pd.DataFrame(
        {
            "code": code,
            "name": column(frame, "name"),
            "kind": column(frame, "kind").fillna("urban"),
            "community_id": pd.array(community.map(by_code), dtype="Int64"),
        }
    )
    name = options.plan_name or f"imported from {problems.source}"
    status = "current" if options.make_current else "draft"

    def write(connection: Connection) -> int:
        plan_id = plans.insert_plan(
            connection, name=name, author="import", parameters={"source": problems.source}
        )
        grid_ids = plans.insert_grids(connection, plan_id, grids)
        plans.insert_assignments(
            connection, plan_id, units.loc[~loose, "id"], grid_ids.iloc[grid_of_unit[~loose]]
        )
        plans.analyze_plans(connection)
        plans.refresh_grid_figures(connection, plan_id)
        if status == "current":
            plans.make_current(connection, plan_id)
        plans.add_audit(
            connection,
            actor="import",
            action="import grids",
            table="plan",
            target_id=plan_id,
            payload={"source": problems.source, "grids": len(grids), "status": status},
        )
        return len(grids)

    return write, [f"plan {name!r} ({status}): {int((~loose).sum())} units in grids"]
