"""Multi-net alignment (多网合一): where a special net's zones cut across the base grids.

And how each zone would snap to whole grids.

Pure: zones, grids and units in a metric CRS in; frames of figures out. A zone *cuts* a grid
when it covers more than :data:`CUT_SHARE` and less than ``1 - CUT_SHARE`` of the grid's area.
Snapping gives each grid to the zone of the net that covers most of it (at least half), so a
zone becomes a set of whole grids: it gains the cut grids it mostly covers and drops the others.
The households affected are those of the units in cut grids whose zone changes by snapping.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

CUT_SHARE = 0.05
"""Shares of a grid below this (or above 1 minus this) are slivers, not cuts."""


@dataclass(frozen=True)
class Alignment:
    """Per zone: its cuts and snapping; per (zone, grid) pair: the overlap."""

    zones: pd.DataFrame  # net, code, name, grids_touched, grids_cut, cut_area_m2,
    #                      households_affected, snapped (codes), adds, drops
    pairs: pd.DataFrame  # zone, grid, area_m2, share, cut


def align(zones: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> Alignment:
    """Compare one net's ``zones`` (code, name, net) with ``grids`` (code) and ``units``.

    ``units`` holds each unit's grid code (``grid``), ``households`` and a point inside it;
    all three frames share one metric CRS.
    """
    z_geom, g_geom = zones.geometry.to_numpy(), grids.geometry.to_numpy()
    tree = shapely.STRtree(g_geom)
    zi, gi = tree.query(z_geom, predicate="intersects")
    area = shapely.area(shapely.intersection(z_geom[zi], g_geom[gi]))
    share = area / shapely.area(g_geom[gi])
    keep = area > 0
    pairs = pd.DataFrame(
        {"zone": zi[keep], "grid": gi[keep], "area_m2": area[keep], "share": share[keep]}
    )
    pairs["cut"] = (pairs["share"] > CUT_SHARE) & (pairs["share"] < 1 - CUT_SHARE)
    best = pairs.sort_values(["grid", "share"], ascending=[True, False]).drop_duplicates("grid")
    owner = pd.Series(-1, index=range(len(grids)))
    owned = best.loc[best["share"] >= 0.5]
    owner[owned["grid"].to_numpy()] = owned["zone"].to_numpy()

    # each unit: the zone its point lies in now, and the zone its grid goes to by snapping
    grid_index = pd.Series(range(len(grids)), index=grids["code"].to_numpy())
    u_grid = grid_index.reindex(units["grid"].to_numpy()).to_numpy()
    z_tree = shapely.STRtree(z_geom)
    ui, uz = z_tree.query(units.geometry.to_numpy(), predicate="within")
    now = np.full(len(units), -1)
    now[ui] = uz
    valid = ~np.isnan(u_grid)
    after = np.full(len(units), -1)
    after[valid] = owner.to_numpy()[u_grid[valid].astype(int)]
    cut = pd.MultiIndex.from_arrays(
        [pairs.loc[pairs["cut"], "zone"], pairs.loc[pairs["cut"], "grid"]]
    )
    changed = valid & (now != after)
    households = units["households"].to_numpy(dtype=float)
    affected = np.zeros(len(zones))
    for side in (now, after):  # a unit counts for the zone it leaves and the one it enters,
        pick = changed & (side >= 0)  # where that zone cuts the unit's grid
        inside = pd.MultiIndex.from_arrays([side[pick], u_grid[pick].astype(int)]).isin(cut)
        np.add.at(affected, side[pick][inside], households[pick][inside])

    codes = grids["code"].to_numpy()
    rows = []
    for z in range(len(zones)):
        mine = pairs.loc[pairs["zone"] == z]
        cut = mine.loc[mine["cut"]]
        snapped = sorted(codes[owner.index[owner == z]])
        adds = sorted(set(codes[cut["grid"]]) & set(snapped))
        drops = sorted(set(codes[cut["grid"]]) - set(snapped))
        rows.append(
            {
                "grids_touched": int((mine["share"] > CUT_SHARE).sum()),
                "grids_cut": len(cut),
                "cut_area_m2": float(cut["area_m2"].sum()),
                "households_affected": int(affected[z]),
                "snapped": snapped,
                "adds": adds,
                "drops": drops,
            }
        )
    table = pd.concat(
        [zones[["net", "code", "name"]].reset_index(drop=True), pd.DataFrame(rows)], axis=1
    )
    pairs = pairs.assign(zone=zones["code"].to_numpy()[pairs["zone"]], grid=codes[pairs["grid"]])
    return Alignment(table, pairs)
