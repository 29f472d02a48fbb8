"""A plan's integrity check: one function that partition, accept, the API and the report share.

What a plan must be (errors): every unit in exactly one grid; every grid in one community,
holding units, with a code that is its community's 12 digits and a 3-digit serial, used once;
no grid in pieces. What a planner should look at (warnings): a grid whose households are
outside its kind's bounds, saying why when the bounds cannot be met (a single unit over the
maximum, or a community under the minimum); a grid with no households.

A grid is in pieces when the polygons of its geometry (the union of its units, as the map draws
it) do not hang together: two polygons hang together when a stretch of their boundaries runs
closer than a street's width; a corner-only touch does not count
(:func:`gridmap.geometry.pieces`). The check is pure:
frames in, findings out; :func:`check_plan` loads them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from gridmap.crs import metric_crs_of
from gridmap.db import plan_grids
from gridmap.db import plans as plan_rows
from gridmap.geometry import pieces
from gridmap.standards import GRID_BOUNDS

ERROR, WARNING = "error", "warning"
KINDS = {
    "unit without grid": ERROR,
    "unit in two grids": ERROR,
    "grid across communities": ERROR,
    "empty grid": ERROR,
    "invalid code": ERROR,
    "duplicate code": ERROR,
    "grid in pieces": ERROR,
    "out of bounds": WARNING,
    "no households": WARNING,
}
"""Every kind of finding and its severity."""


@dataclass(frozen=True)
class Finding:
    """One thing wrong with (or worth a look in) a plan."""

    kind: str
    severity: str
    message: str
    grid: str | None = None
    unit: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)  # the figures the message names


@dataclass(frozen=True)
class PlanCheck:
    """Every finding of one plan, errors first."""

    plan_id: int
    grids: int
    units: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        """The findings a plan must not have."""
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        """The findings a planner should look at."""
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def ok(self) -> bool:
        """True when the plan has no error (warnings allowed)."""
        return not self.errors

    def counts(self) -> dict[str, int]:
        """How many findings of each kind (every kind listed, zeros included)."""
        found = pd.Series([f.kind for f in self.findings], dtype=object).value_counts()
        return {kind: int(found.get(kind, 0)) for kind in KINDS}

    def as_dict(self) -> dict[str, Any]:
        """Return the check as JSON: whether it passed, counts by kind, every finding."""
        return {
            "plan": self.plan_id,
            "ok": self.ok,
            "grids": self.grids,
            "units": self.units,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "counts": self.counts(),
            "findings": [asdict(f) for f in self.findings],
        }


def _finding(
    kind: str, message: str, *, grid: str | None = None, unit: str | None = None, **detail: Any
) -> Finding:
    return Finding(kind, KINDS[kind], message, grid, unit, detail)


def plan_bounds(parameters: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Return each kind's household bounds: the plan's own (its partition's), or the defaults.

    >>> plan_bounds({})["urban"]
    {'min_households': 300, 'max_households': 500}
    >>> plan_bounds({"bounds": {"urban": {"min_households": 250, "max_households": 450}}})["urban"]
    {'min_households': 250, 'max_households': 450}
    """
    used = parameters.get("bounds") or {}
    return {
        kind: {
            k: int(used.get(kind, {}).get(k) or getattr(b, k))
            for k in ("min_households", "max_households")
        }
        for kind, b in GRID_BOUNDS.items()
    }


def find_problems(
    plan_id: int,
    units: pd.DataFrame,
    grids: pd.DataFrame,
    parts: pd.DataFrame,
    bounds: dict[str, dict[str, int]] | None = None,
) -> PlanCheck:
    """Check a plan against ``bounds`` (:func:`plan_bounds`; the defaults when None).

    ``units``: ``code``, ``community`` and ``grids`` (how many grids of the plan hold it);
    ``grids``: ``code``, ``kind``, ``community``, ``households``, ``units`` (how many),
    ``communities`` (how many communities its units lie in), ``largest_unit`` (households of
    its largest unit), ``community_households``; ``parts``: ``grid`` (code) and ``geometry``,
    one row per polygon of each grid, in metres (a grid drawn as one polygon may be left out:
    it is one piece).
    """
    found: list[Finding] = []
    for code in units.loc[units["grids"] == 0, "code"]:
        found.append(_finding("unit without grid", f"unit {code} is in no grid", unit=code))
    for code, n in units.loc[units["grids"] > 1, ["code", "grids"]].itertuples(index=False):
        found.append(
            _finding("unit in two grids", f"unit {code} is in {n} grids", unit=code, grids=int(n))
        )
    found += _code_findings(grids)
    odd = grids.loc[(grids["units"] == 0) | (grids["communities"] > 1)]  # few: loop over those
    for g in odd.itertuples(index=False):
        if g.units == 0:
            found.append(_finding("empty grid", f"grid {g.code} holds no unit", grid=g.code))
        else:
            found.append(
                _finding(
                    "grid across communities",
                    f"grid {g.code} holds units of {g.communities} communities; a grid lies in one",
                    grid=g.code,
                    communities=int(g.communities),
                )
            )
    pieces = count_pieces(parts)
    for code, n in pieces[pieces > 1].items():
        found.append(
            _finding(
                "grid in pieces",
                f"grid {code} is drawn as {n} separate pieces (no street-wide contact between "
                "them; a corner does not join)",
                grid=str(code),
                pieces=int(n),
            )
        )
    found += _bounds_findings(grids, bounds or plan_bounds({}))
    found.sort(key=lambda f: (f.severity != ERROR, list(KINDS).index(f.kind), f.grid or f.unit))
    return PlanCheck(plan_id, len(grids), len(units), found)


def _code_findings(grids: pd.DataFrame) -> list[Finding]:
    found = []
    codes = grids["code"].astype(str)
    valid = codes.str.fullmatch(r"[0-9]{15}") & (codes.str[:12] == grids["community"].astype(str))
    for code, community in grids.loc[~valid, ["code", "community"]].itertuples(index=False):
        found.append(
            _finding(
                "invalid code",
                f"grid code {code!r} is not its community's code {community} and a 3-digit serial",
                grid=str(code),
                community=str(community),
            )
        )
    for code in sorted(set(codes[codes.duplicated()])):
        found.append(_finding("duplicate code", f"grid code {code} is used twice", grid=code))
    return found


def _bounds_findings(grids: pd.DataFrame, bounds: dict[str, dict[str, int]]) -> list[Finding]:
    found = []
    households = grids["households"]
    lows = grids["kind"].map({k: b["min_households"] for k, b in bounds.items()}).astype(float)
    highs = grids["kind"].map({k: b["max_households"] for k, b in bounds.items()}).astype(float)
    # a kind without bounds (NaN) is never outside them; no households is said whatever the kind
    outside = (households == 0) | (households < lows) | (households > highs)
    for g in grids.loc[(grids["units"] > 0) & outside].itertuples(index=False):  # few
        if g.households == 0:
            found.append(_finding("no households", f"grid {g.code} has no households", grid=g.code))
            continue
        low, high = bounds[g.kind]["min_households"], bounds[g.kind]["max_households"]
        why, because = "", dict[str, Any]()
        if g.households > high and g.largest_unit > high:
            why, because = (
                f": one of its units alone holds {g.largest_unit}",
                {"largest_unit": int(g.largest_unit)},
            )
        elif g.households < low and g.community_households < low:
            why, because = (
                f": its whole community holds {g.community_households}",
                {"community_households": int(g.community_households)},
            )
        found.append(
            _finding(
                "out of bounds",
                f"grid {g.code} holds {g.households} households, outside {low}–{high}{why}",
                grid=g.code,
                households=int(g.households),
                low=low,
                high=high,
                **because,
            )
        )
    return found


def count_pieces(parts: pd.DataFrame) -> pd.Series:
    """Return how many pieces each grid is in (by ``grid``), from its polygons in metres."""
    if parts.empty:
        return pd.Series(dtype=np.int64)
    grid = parts["grid"].to_numpy()
    labels = pieces(np.asarray(parts.geometry.values, dtype=object), grid)
    return pd.Series(labels, index=grid).groupby(level=0).nunique()


def check_plan(connection: Connection, plan_id: int) -> PlanCheck:
    """Load a plan and check it against its own bounds (:func:`find_problems`).

    Raises
    ------
    NotFound
        When there is no such plan.
    """
    units, grids, parts = plan_rows.check_inputs(connection, plan_id)
    if not parts.empty:
        parts = parts.to_crs(metric_crs_of(parts.geometry.values))
    parameters = plan_rows.plan_row(connection, plan_id)["parameters"] or {}
    return find_problems(plan_id, units, grids, parts, plan_bounds(parameters))


def grid_pieces(connection: Connection, plan_id: int, grid_ids: list[int]) -> dict[str, int]:
    """Return how many pieces each of grids ``grid_ids`` is in, as the check counts them.

    Parts touching along a street-wide stretch are one piece; a corner does not join. An edit
    says "now in pieces" or "in pieces already" with this count, the one an accept is held to.
    """
    parts = plan_grids.grid_parts(connection, plan_id, grid_ids)
    if parts.empty:
        return {}
    parts = parts.to_crs(metric_crs_of(parts.geometry.values))
    return {str(code): int(n) for code, n in count_pieces(parts).items()}
