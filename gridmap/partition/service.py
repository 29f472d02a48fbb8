"""Partition a draft plan on the stored city, and compare plans.

Loads the units (adjacency within communities, households, residents, load, centroids in the
city's metric CRS), runs the engine in full or adjustment mode, gives grids their codes (kept
where a grid is the same as before), and writes the plan's grids, assignment and figures in the
caller's transaction. Dedicated grids and locked grids are kept as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from sqlalchemy import Connection

from gridmap.coverage.service import load_network
from gridmap.crs import metric_crs_of
from gridmap.db import imports
from gridmap.db import plans as plan_rows
from gridmap.db.bulk import read_geoframe
from gridmap.errors import InvalidInput, PlanChanged, Stale
from gridmap.partition.adjust import adjust
from gridmap.partition.codes import inherit_codes
from gridmap.partition.engine import Bounds, Case, Units, grid_radius, partition
from gridmap.partition.reasons import explained
from gridmap.partition.walking import unit_walks
from gridmap.plans import lifecycle
from gridmap.plans.check import PlanCheck, check_plan
from gridmap.plans.lifecycle import JobRef
from gridmap.standards import GRID_BOUNDS, community_kind
from gridmap.units.regions import adjacency

Step = Callable[[str], None]
MODES = ("full", "adjust")


@dataclass(frozen=True)
class PartitionSummary:
    """What a partition produced."""

    plan_id: int
    revision: int
    grids: int
    in_bounds: int
    units_moved: int
    cases: list[Case]
    check: PlanCheck


@dataclass(frozen=True)
class CityUnits:
    """The stored units, ready for the engine."""

    ids: np.ndarray
    community_codes: np.ndarray
    units: Units
    crs: object  # the metric CRS of ``units.xy``, areas and lengths
    codes: np.ndarray | None = None  # each unit's code
    polygons: np.ndarray | None = None  # each unit in metres
    barred: csr_matrix | None = None  # units sharing a boundary along a barrier (motorway, water)


BARRIER_KINDS = ("motorway", "motorway_link")
"""Street kinds no grid reaches across (with water): no one walks over them. Trunk roads and
railways are left out for now: most trunk roads have crossings, and railways cut so many units
apart in a city centre (Helsinki's station yard) that derived communities fall to pieces."""
BARRIER_SHARE = 0.5
"""Units whose shared boundary runs along a barrier for more than this share are not linked."""


def load_units(connection: Connection, *, within: str | None = None) -> CityUnits:
    """Load the units with their adjacency (never across communities or barriers) in metres.

    With ``within`` (a region's code), only the units of that region's communities (grids
    never cross a community, so nothing outside bears on them).
    """
    frame = read_geoframe(
        connection,
        """
        SELECT u.id, u.code, u.households, u.residents, u.governance_load, r.code AS community,
               u.geom
        FROM unit u JOIN region r ON r.id = u.community_id
        WHERE CAST(:within AS text) IS NULL OR starts_with(r.code, :within)
        ORDER BY u.id
    """,
        {"within": within},
    )
    if frame.empty:
        if within is not None:
            raise InvalidInput(f"region: no unit lies in region {within!r}")
        raise InvalidInput("the city has no units: run `gridmap units build` first")
    metric = frame.to_crs(metric_crs_of(frame.geometry.values))
    polygons = np.asarray(metric.geometry.values, dtype=object)
    community_codes, community = np.unique(frame["community"].to_numpy(), return_inverse=True)
    touching = adjacency(polygons).tocoo()
    west, south, east, north = frame.total_bounds
    barriers = read_geoframe(
        connection,
        """
        WITH box AS (SELECT ST_MakeEnvelope(:w, :s, :e, :n, 4326) AS geom)
        SELECT s.geom FROM street s, box WHERE s.kind = ANY(:kinds) AND s.geom && box.geom
        UNION ALL SELECT ST_Boundary(w.geom) FROM water w, box WHERE w.geom && box.geom
    """,
        {"kinds": list(BARRIER_KINDS), "w": west, "s": south, "e": east, "n": north},
    )
    lines = np.asarray(barriers.to_crs(metric.crs).geometry.values, dtype=object)
    crossing = across_barriers(polygons, touching.row, touching.col, lines)
    same = (community[touching.row] == community[touching.col]) & ~crossing
    n = len(frame)
    graph = csr_matrix(
        (touching.data[same], (touching.row[same], touching.col[same])), shape=(n, n)
    )  # each entry: the shared boundary's length
    units = Units(
        graph,
        frame["households"].to_numpy(np.int64),
        frame["residents"].to_numpy(np.int64),
        shapely.get_coordinates(shapely.point_on_surface(polygons)),
        community.astype(np.int64),
        frame["governance_load"].to_numpy(float),
        shapely.area(polygons),
        shapely.length(polygons),
    )
    barred = csr_matrix(
        (np.ones(int(crossing.sum())), (touching.row[crossing], touching.col[crossing])),
        shape=(n, n),
    )
    return CityUnits(
        frame["id"].to_numpy(),
        community_codes[community],
        units,
        metric.crs,
        frame["code"].to_numpy(dtype=object),
        polygons,
        barred,
    )


def with_walks(connection: Connection, city: CityUnits, cutoff_m: float) -> CityUnits:
    """Return the city's units with their walks to each other within ``cutoff_m``.

    Raises
    ------
    InvalidInput
        When the city has no walking network.
    """
    network, _ = load_network(connection, city.crs)
    walks = unit_walks(network, shapely.points(city.units.xy), cutoff_m=cutoff_m)
    return replace(city, units=replace(city.units, walks=walks))


def across_barriers(
    polygons: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    barriers: np.ndarray,
    *,
    width_m: float = 5.0,
) -> np.ndarray:
    """Say which neighbouring pairs share a boundary that mostly runs along a barrier line.

    Pairs linked across a narrow gap (no shared boundary) are across a barrier when the
    shortest line between them meets one.

    Each shared boundary is cut by the buffers of the barriers near it (an R-tree), and the
    pieces of one boundary are merged before they are measured, so two barriers running side
    by side count once: the same length as within the union of every buffer, without that
    union (one polygon with the whole city's barriers, which GEOS took a minute to intersect
    with the 153,898 boundaries of the 1,000,000-building city; 1.7 s this way, the same pairs).
    """
    if not len(barriers) or not len(left):
        return np.zeros(len(left), dtype=bool)
    shared = shapely.intersection(
        shapely.boundary(polygons[left]), shapely.boundary(polygons[right])
    )
    buffers = shapely.buffer(barriers, width_m, quad_segs=2)
    tree = shapely.STRtree(buffers)
    line, near = tree.query(shared, predicate="intersects")
    order = np.lexsort((near, line))
    line, near = line[order], near[order]
    pieces = shapely.intersection(shared[line], buffers[near])
    rows, row_of = np.unique(line, return_inverse=True)
    rank = np.arange(len(line)) - np.searchsorted(line, line)  # each piece's place in its row
    merged = np.full((len(rows), int(rank.max(initial=0)) + 1), None, dtype=object)
    merged[row_of, rank] = pieces
    along = np.zeros(len(shared))
    along[rows] = shapely.length(shapely.union_all(merged, axis=1))
    crossing = along > BARRIER_SHARE * np.maximum(shapely.length(shared), 1e-9)
    facing = shapely.length(shared) == 0  # linked across a narrow gap: does a barrier run in it?
    if facing.any():
        between = shapely.shortest_line(polygons[left[facing]], polygons[right[facing]])
        meets = tree.query(between, predicate="intersects")[0]
        crossing[np.flatnonzero(facing)] = np.isin(np.arange(len(between)), meets)
    return crossing


def partition_plan(
    connection: Connection,
    plan_id: int,
    *,
    mode: str = "full",
    bounds: Bounds | None = None,
    seed: int = 0,
    author: str = "gridmap",
    step: Step | None = None,
    job: JobRef | None = None,
    region: str | None = None,
) -> PartitionSummary:
    """Re-partition a draft plan in place (full, or adjusting its present grids).

    With ``region`` (a region's code), only the units of that district, street or community
    are re-partitioned; every grid outside it is kept as it is. The units are read and the
    engine runs first; the result is written through the plan's
    lifecycle (:func:`gridmap.plans.lifecycle.guard`), under the plan's lock, only if the plan
    is still a draft that no other job works on, at the revision ``job`` started from.

    Raises
    ------
    Conflict
        When the plan is not a draft, or another job works on it.
    PlanChanged
        When the plan changed while ``job`` ran.
    InvalidInput
        On an unknown mode, or adjusting a plan that has no grids.
    """
    say = step or (lambda _: None)
    if mode not in MODES:
        raise InvalidInput(f"mode must be full or adjust (got {mode!r})")
    bounds = bounds or Bounds()
    started = lifecycle.check_writable(connection, plan_id, "partition", job)
    if region is not None and plan_rows.units_without_grid(connection, plan_id, outside=region):
        raise InvalidInput(
            f"region: plan {plan_id} has units outside region {region} in no grid; "
            "re-partition the whole plan, or a copy of a full plan"
        )
    say("loading units")
    city = load_units(connection, within=region)
    if bounds.radius_by == "walk" and bounds.radius_m is not None:
        say("measuring walks between units")
        city = with_walks(connection, city, bounds.radius_m)
    content = plan_rows.plan_content(connection, plan_id).set_index("unit_id").reindex(city.ids)
    if mode == "adjust" and content["code"].isna().all():
        raise InvalidInput(f"plan {plan_id} has no grids to adjust: use mode full")
    kept = (content["kind"].eq("dedicated") | content["locked"].eq(True)).to_numpy()
    say(f"partitioning ({mode})")
    by_kind = kind_bounds(bounds)
    labels, cases = _labels(city, content, kept, mode, by_kind, seed)
    say("coding and writing grids")
    try:  # the plan must be as it was read: at the job's revision, or at the one read here
        lifecycle.guard(
            connection,
            plan_id,
            "partition",
            job=job,
            expected_revision=None if job else started["revision"],
        )
    except Stale:
        raise PlanChanged(
            f"plan {plan_id} changed while it was re-partitioned; nothing was kept: run it again"
        ) from None
    origin = _with_current_codes(connection, plan_id, city, content)
    summary = _write(connection, plan_id, city, content, labels, by_kind, region, origin)
    plan_rows.set_parameters(
        connection,
        plan_id,
        {
            "mode": mode,
            "seed": seed,
            "cases": len(cases),
            "bounds": {kind: asdict(b) for kind, b in by_kind.items()},
        },
    )
    revision = lifecycle.record(
        connection,
        plan_id,
        actor=author,
        action=f"partition {mode}",
        payload={"grids": summary[0], "job": job and job.id},
    )
    moved = int((origin["code"].to_numpy() != summary[2]).sum())
    cases = name_cases(city, cases, labels, summary[2])
    checked = check_plan(connection, plan_id)
    return PartitionSummary(plan_id, revision, summary[0], summary[1], moved, cases, checked)


def kind_bounds(bounds: Bounds | None) -> dict[str, Bounds]:
    """Return the bounds of each grid kind: the given ones for urban and suburban grids.

    Rural grids keep their own household bounds (docs/architecture.md), with the given radius.
    """
    radius = None if bounds is None else bounds.radius_m
    radius_by = "straight" if bounds is None else bounds.radius_by
    by_kind = {
        kind: Bounds(
            b.min_households,
            b.max_households,
            b.target_households,
            b.max_residents,
            radius,
            radius_by,
        )
        for kind, b in GRID_BOUNDS.items()
    }
    if bounds is not None:
        by_kind["urban"] = by_kind["suburban"] = bounds
    return by_kind


def _labels(
    city: CityUnits,
    content: pd.DataFrame,
    kept: np.ndarray,
    mode: str,
    bounds: dict[str, Bounds],
    seed: int,
) -> tuple[np.ndarray, list[Case]]:
    """Return each unit's new grid label, and the cases; kept grids keep their units.

    Communities are partitioned by their own kind's bounds (urban, suburban, rural).
    """
    units = city.units
    old = content["code"].fillna("").to_numpy().astype(str)
    kinds = np.array([community_kind(c) for c in city.community_codes], dtype=object)
    labels = np.full(len(units), -1, dtype=np.int64)
    cases: list[Case] = []
    _, current = np.unique(old, return_inverse=True)
    for kind in np.unique(kinds):
        members = np.flatnonzero((kinds == kind) & ((mode == "adjust") | ~kept))
        if not len(members):
            continue
        sub = units.subset(members)
        if mode == "adjust":
            _, local = np.unique(current[members], return_inverse=True)
            locked = pd.Series(kept[members]).groupby(local).any().to_numpy()
            result = adjust(sub, local, bounds[kind], locked=locked, seed=seed)
            still = set(np.unique(result.labels[kept[members]]).tolist())  # kept as they were
        else:
            result = partition(sub, bounds[kind], seed=seed)
            still = set()
        result = replace(
            result, cases=explained(sub, result.labels, result.cases, bounds[kind], kept=still)
        )
        offset = labels.max() + 1
        labels[members] = result.labels + offset
        cases += [
            replace(
                c,
                units=tuple(int(members[u]) for u in c.units),
                grid=None if c.grid is None else int(c.grid + offset),
            )
            for c in result.cases
        ]
    if mode == "full" and kept.any():
        _, kept_labels = np.unique(old[kept], return_inverse=True)
        labels[kept] = labels.max() + 1 + kept_labels
    return labels, cases


def name_cases(
    city: CityUnits, cases: list[Case], labels: np.ndarray, grid_codes: np.ndarray
) -> list[Case]:
    """Put codes in the cases' messages (units, communities, grids), and say why an island is.

    ``grid_codes`` holds each unit's new grid code; ``labels`` each unit's new grid.
    """
    named = []
    grids, firsts = np.unique(labels, return_index=True)
    first_unit = dict(zip(grids.tolist(), firsts.tolist(), strict=True))
    for case in cases:
        first = case.units[0] if case.units else None
        grid = None if case.grid is None else grid_codes[first_unit[case.grid]]
        unit = city.codes[first] if city.codes is not None and first is not None else first
        community = city.community_codes[first] if first is not None else case.community
        text = case.template.format(unit=unit, community=community, grid=grid)
        if case.kind == "island" and first is not None:
            text = f"{text} ({island_reason(city, first)})"
        named.append(replace(case, message=text))
    return named


def island_reason(city: CityUnits, unit: int) -> str:
    """Say why a unit is linked to no other unit of its community."""
    community = city.community_codes
    polygons = city.polygons
    if polygons is None:
        return "no shared boundary with its community's other units"
    same = np.flatnonzero(community == community[unit])
    same = same[same != unit]
    barred = city.barred[unit].indices if city.barred is not None else np.empty(0, int)
    if np.isin(barred, same).any():
        return "a motorway or water runs along every boundary it shares with its community"
    touching = same[shapely.intersects(polygons[same], polygons[unit])]
    if touching.size:
        return "it touches the other units of its community only at a corner"
    others = np.flatnonzero(shapely.intersects(polygons, polygons[unit]))
    others = others[(others != unit) & (community[others] != community[unit])]
    if others.size:
        names = ", ".join(sorted(set(community[others]))[:3])
        return f"it touches only units of other communities ({names})"
    return "it touches no other unit: water or open ground all round"


def _with_current_codes(
    connection: Connection, plan_id: int, city: CityUnits, content: pd.DataFrame
) -> pd.DataFrame:
    """Return the plan's content with the current plan's grid where the plan has none.

    Codes are inherited from the current plan whatever a draft's parent: a full re-partition
    of an empty draft keeps the codes of the grids that did not change.
    """
    current = plan_rows.current_plan_id(connection)
    missing = content["code"].isna().to_numpy()
    if current is None or current == plan_id or not missing.any():
        return content
    theirs = plan_rows.plan_content(connection, current).set_index("unit_id").reindex(city.ids)
    origin = content.copy()
    columns = ["code", "name", "kind"]
    origin.loc[missing, columns] = theirs.loc[missing, columns].to_numpy()
    origin.loc[missing, "locked"] = False  # the current plan's locks are its own
    return origin


def _write(
    connection: Connection,
    plan_id: int,
    city: CityUnits,
    content: pd.DataFrame,
    labels: np.ndarray,
    bounds: dict[str, Bounds],
    region: str | None = None,
    origin: pd.DataFrame | None = None,
) -> tuple[int, int, np.ndarray]:
    """Replace the plan's grids (those of ``region`` only, when given) by the labelled ones.

    Codes, names and kinds are inherited from ``origin`` (the plan's content, completed from
    the current plan), locks and staff from the plan itself.
    """
    origin = content if origin is None else origin
    units = city.units
    k = int(labels.max()) + 1
    first = np.unique(labels, return_index=True)[1]
    weight = units.households.astype(float) + 1e-9
    total = np.bincount(labels, weights=weight)[:, None]
    centre = (
        np.column_stack([np.bincount(labels, weights=units.xy[:, i] * weight) for i in (0, 1)])
        / total
    )
    used = imports.largest_serials(connection, "grid", 12, within=region).to_dict()
    codes = inherit_codes(
        labels,
        origin["code"].to_numpy(dtype=object),
        units.households,
        city.community_codes[first],
        centre,
        used,
    )
    by_code = origin.dropna(subset=["code"]).drop_duplicates("code").set_index("code")
    communities = imports.regions_by_code(connection)["id"]
    grids = pd.DataFrame(
        {
            "code": codes,
            "name": [by_code["name"].get(c) if c in by_code.index else None for c in codes],
            "kind": [
                by_code["kind"].get(c) if c in by_code.index else community_kind(community)
                for c, community in zip(codes, city.community_codes[first], strict=True)
            ],
            "community_id": communities.loc[city.community_codes[first]].to_numpy(),
        }
    )
    mine = content.dropna(subset=["code"]).drop_duplicates("code").set_index("code")
    locked = {c for c, flag in mine["locked"].items() if flag} if len(mine) else set()
    staff = plan_rows.grid_staff(connection, plan_id)  # a grid that keeps its code keeps its people
    current = plan_rows.current_plan_id(connection)
    if origin is not content and current is not None:  # codes taken from the current plan
        staff = {**plan_rows.grid_staff(connection, current), **staff}
    plan_rows.clear_plan(connection, plan_id, within=region)
    grid_ids = plan_rows.insert_grids(connection, plan_id, grids)
    plan_rows.insert_assignments(connection, plan_id, pd.Series(city.ids), grid_ids.iloc[labels])
    plan_rows.analyze_plans(connection)
    plan_rows.refresh_grid_figures(
        connection, plan_id, None if region is None else grid_ids.tolist()
    )
    straight = grid_radius(replace(units, walks=None), labels)  # the stored figure: a straight
    plan_rows.set_radius(connection, grid_ids, pd.Series(straight))  # line (walks go in the cases)
    if locked:
        plan_rows.set_locked(connection, plan_id, sorted(locked & set(codes)), True)
    plan_rows.set_staff(connection, plan_id, {c: v for c, v in staff.items() if c in set(codes)})
    households = np.bincount(labels, weights=units.households, minlength=k)
    residents = np.bincount(labels, weights=units.residents, minlength=k)
    own = [bounds[community_kind(c)] for c in city.community_codes[first]]
    low = np.array([b.min_households for b in own])
    high = np.array([b.max_households for b in own])
    cap = np.array([b.max_residents or np.inf for b in own])
    fine = (households >= low) & (households <= high) & (residents <= cap)
    return k, int(fine.sum()), codes[labels]


def diff_plans(connection: Connection, a: int, b: int) -> dict[str, Any]:
    """Compare two plans: units moved, grids kept, split, merged, new and retired."""
    left = plan_rows.plan_content(connection, a).set_index("unit_id")["code"]
    right = plan_rows.plan_content(connection, b).set_index("unit_id")["code"]
    both = pd.DataFrame({"a": left, "b": right}).dropna()
    moved = both.loc[both["a"] != both["b"]]
    pairs = both.groupby(["a", "b"]).size().reset_index()
    splits = pairs.groupby("a")["b"].nunique()
    merges = pairs.groupby("b")["a"].nunique()
    figures_a = plan_rows.grid_figures(connection, a).set_index("code")
    figures_b = plan_rows.grid_figures(connection, b).set_index("code")
    retired = sorted(set(left) - set(right))
    return {
        "units_moved": len(moved),
        "households_moved": plan_rows.households_of_units(connection, moved.index.tolist()),
        "kept": sorted(set(left) & set(right)),
        "new": sorted(set(right) - set(left)),
        "retired": retired,
        "staff_without_grid": staff_of(plan_rows.grid_staff(connection, a, retired)),
        "split": sorted(splits.index[splits > 1]),
        "merged": sorted(merges.index[merges > 1]),
        "before": figures_a,
        "after": figures_b,
    }


def staff_of(staff: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the people of each grid, by grid code: its leader's name, its workers' names."""

    def name(person: Any) -> str | None:
        return person.get("name") if isinstance(person, dict) else person

    return [
        {
            "grid": code,
            "leader": name(people.get("leader")),
            "workers": [n for n in map(name, people.get("workers") or []) if n],
        }
        for code, people in sorted(staff.items())
    ]
