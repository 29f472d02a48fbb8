"""The ranking of a region's communities or grids: coverage, tickets, staffing and size together.

Each part of the region (its communities, or its grids in the current plan) gets four scores
from 0 to 100, and their weighted sum (:data:`WEIGHTS`, printed in the report):

- **coverage**: its 5-minute coverage rate by residents in the latest coverage run, × 100;
- **tickets**: its hotline tickets per 1,000 households over the window, the fewest scoring 100
  and the most 0, in proportion between (min-max over the parts ranked);
- **staffing**: its residents per grid worker, scored the same way (fewer is better; a part
  with residents and no worker scores 0);
- **bounds**: the share of its grids whose households lie within their kind's bounds
  (:data:`~gridmap.standards.GRID_BOUNDS`; dedicated grids count as within), × 100.

A figure that cannot be had (no coverage run, no households) scores 0. The parts are ranked by
their total, highest first; the last :data:`~gridmap.reports.coverage_report.BOTTOM` are named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from gridmap.db import coverage as coverage_db
from gridmap.db import reports as report_rows
from gridmap.db import tickets as ticket_rows
from gridmap.db.plans import GRID_WORKERS, the_current_plan
from gridmap.db.tickets import TicketFilter
from gridmap.errors import NotFound
from gridmap.reports.coverage_report import BOTTOM
from gridmap.standards import GRID_BOUNDS, code_prefix
from gridmap.tickets.stats import per_thousand

WEIGHTS = {"coverage": 0.4, "tickets": 0.3, "staffing": 0.15, "bounds": 0.15}
"""Each score's weight in the total (they sum to 1)."""
LEVELS = ("community", "grid")


def lower_is_better(values: pd.Series) -> np.ndarray:
    """Score values 0–100 by min-max, the least 100; all equal: 100; not finite: 0."""
    x = values.to_numpy(dtype=float)
    finite = np.isfinite(x)
    if not finite.any():
        return np.zeros(len(x))
    low, high = x[finite].min(), x[finite].max()
    scores = np.full(len(x), 100.0) if high == low else 100.0 * (high - x) / (high - low)
    return np.where(finite, scores, 0.0)


def scored(parts: pd.DataFrame, weights: dict[str, float] = WEIGHTS) -> pd.DataFrame:
    """Return ``parts`` scored and ranked, highest total first, the bottom ones marked.

    ``parts`` holds ``code, name, households, residents, workers, coverage`` (0–1 or NaN),
    ``tickets`` and ``within`` (0–1).
    """
    out = parts.copy()
    out["per_1000"] = per_thousand(out["tickets"], out["households"])
    residents = out["residents"].to_numpy(dtype=float)
    workers = out["workers"].to_numpy(dtype=float)
    per_worker = np.full(len(out), np.nan)
    np.divide(residents, workers, out=per_worker, where=workers > 0)  # none: the worst score
    out["per_worker"] = per_worker
    out["score_coverage"] = (out["coverage"].astype(float) * 100).fillna(0.0)
    out["score_tickets"] = lower_is_better(out["per_1000"])
    out["score_staffing"] = lower_is_better(out["per_worker"])
    out["score_bounds"] = (out["within"].astype(float) * 100).fillna(0.0)
    out["score"] = sum(w * out[f"score_{name}"] for name, w in weights.items())
    out = out.sort_values(["score", "code"], ascending=[False, True]).reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    out["bottom"] = (out["rank"] > len(out) - BOTTOM) & (len(out) > BOTTOM)
    return out


@dataclass(frozen=True)
class Ranking:
    """Everything a ranking report shows."""

    region: dict[str, Any]  # code, name, level
    level: str  # what is ranked: community or grid
    run: int | None  # the coverage run read (None: none yet)
    tickets: TicketFilter
    weights: dict[str, float]
    parts: pd.DataFrame  # scored, highest first

    @property
    def bottom(self) -> list[str]:
        """The names (or codes) of the bottom parts, lowest last."""
        rows = self.parts.loc[self.parts["bottom"]]
        return [str(n or c) for n, c in zip(rows["name"], rows["code"], strict=True)]


_GRIDS = text(f"""
    SELECT g.code, g.name, g.kind, g.households, g.residents, c.code AS community,
           c.name AS community_name, {GRID_WORKERS} AS workers
    FROM grid g JOIN region c ON c.id = g.community_id
    WHERE g.plan_id = :plan AND g.code LIKE :prefix || '%'
    ORDER BY g.code
""")


def within_bounds(grids: pd.DataFrame) -> np.ndarray:
    """Return 1 for each grid (``kind``, ``households``) within its bounds, else 0."""
    low = grids["kind"].map(lambda k: GRID_BOUNDS[k].min_households if k in GRID_BOUNDS else 0)
    high = grids["kind"].map(
        lambda k: GRID_BOUNDS[k].max_households if k in GRID_BOUNDS else np.inf
    )
    h = grids["households"].astype(float)
    return ((h >= low) & (h <= high)).to_numpy(dtype=float)


def covered_share(parts: pd.DataFrame) -> pd.Series:
    """Return each part's share of its residents within a walk of a station.

    ``covered_residents / run_residents`` (both of the coverage run), missing where the run
    counted no resident.

    >>> covered_share(pd.DataFrame({"covered_residents": [0, 1, 3], "run_residents": [0, 1, 4]}))
    0     NaN
    1    1.00
    2    0.75
    dtype: float64
    """
    residents = parts["run_residents"]
    return parts["covered_residents"] / residents.where(residents > 0)


def load_ranking(connection: Connection, code: str, level: str, tickets: TicketFilter) -> Ranking:
    """Read and score the communities or grids of region ``code`` (the current plan's grids).

    Raises
    ------
    NotFound
        When the region does not exist or there is no current plan.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    region = report_rows.region_by_code(connection, code).iloc[0]
    plan = the_current_plan(connection)
    prefix = code_prefix(code)
    grids = pd.read_sql(_GRIDS, connection, params={"plan": plan, "prefix": prefix})
    try:
        run: int | None = int(report_rows.run_row(connection, None)["id"])
    except NotFound:
        run = None
    covered = (
        coverage_db.grid_rates(connection, run, plan)[["code", "residents", "covered_residents"]]
        if run is not None
        else pd.DataFrame({"code": [], "residents": [], "covered_residents": []})
    ).rename(columns={"residents": "run_residents"})
    grids = grids.merge(covered, on="code", how="left")
    counts = ticket_rows.area_totals(connection, plan, "grid", tickets, prefix=prefix).tickets
    grids["tickets"] = grids["code"].map(counts).fillna(0)
    grids["within"] = within_bounds(grids)
    if level == "grid":
        parts = grids.assign(coverage=covered_share(grids))
    else:
        parts = grids.groupby(["community", "community_name"], as_index=False).agg(
            households=("households", "sum"),
            residents=("residents", "sum"),
            workers=("workers", "sum"),
            tickets=("tickets", "sum"),
            within=("within", "mean"),
            run_residents=("run_residents", "sum"),
            covered_residents=("covered_residents", "sum"),
        )
        parts = parts.rename(columns={"community": "code", "community_name": "name"})
        parts["coverage"] = covered_share(parts)
    columns = ["code", "name", "households", "residents", "workers", "coverage", "tickets"]
    return Ranking(
        region={k: region[k] for k in ("code", "name", "level")},
        level=level,
        run=run,
        tickets=tickets,
        weights=dict(WEIGHTS),
        parts=scored(parts[[*columns, "within"]]),
    )
