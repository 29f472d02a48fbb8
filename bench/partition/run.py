"""Benchmark: the partition engine against spopt's MaxP, RegionKMeans and SKATER, and GerryChain.

All contenders get the same units, the same adjacency (no link across a community boundary)
and, where they accept them, the same bounds (300–500 households): MaxP and SKATER take the
minimum as its threshold; SKATER and RegionKMeans (which take no household bound) take
gridmap's grid count; GerryChain's recursive tree partition runs per community with gridmap's
grid count and a population tolerance of ±25% around the mean (the 300–500 band). Each peer
runs in a forked process and is reported as not finished past the time limit.

Cases: the Helsinki demo's units (built in a private PostGIS), and synthetic cities of 10k and
100k units (Voronoi cells of a jittered lattice, communities of about 40 units, 20–150
households a unit).

    .venv/bin/pip install -e .[bench]
    .venv/bin/python bench/partition/run.py [--cases demo 10k 100k] [--limit 300]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from gridmap.partition.engine import Bounds, Units, partition  # noqa: E402
from gridmap.units.regions import adjacency  # noqa: E402

BOUNDS = Bounds(300, 500, 400, max_residents=None)


def synthetic(n: int, seed: int = 0) -> tuple[Units, np.ndarray]:
    """Return ``n`` Voronoi units of a jittered lattice with communities of about 40 units."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    grid = np.stack(np.meshgrid(np.arange(side), np.arange(side)), -1).reshape(-1, 2)[:n]
    xy = (grid + rng.uniform(-0.35, 0.35, grid.shape)) * 80.0
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(xy)))
    frame = shapely.box(-40, -40, side * 80 + 40, side * 80 + 40)
    cells = shapely.intersection(cells, frame)
    order = shapely.STRtree(cells).query(shapely.points(xy), predicate="within")
    polygons = np.empty(n, dtype=object)
    polygons[order[0]] = cells[order[1]]
    community = (grid[:, 0] // 8) * (side // 5 + 1) + grid[:, 1] // 5
    households = rng.integers(20, 150, n)
    return _units(polygons, households, community), polygons


def demo() -> tuple[Units, np.ndarray]:
    """Return the Helsinki demo's units, built in a private PostGIS cluster."""
    from gridmap.config import DEFAULT_PG_BINDIR
    from gridmap.db import migrate
    from gridmap.db.engine import make_engine
    from gridmap.db.local import LocalCluster
    from gridmap.demo import build_demo_city
    from gridmap.partition.service import load_units
    from tests.conftest import make_temp_root

    cluster = LocalCluster(
        make_temp_root("gridmap-bench-") / "pg", bindir=DEFAULT_PG_BINDIR, fast=True
    )
    cluster.up()
    try:
        engine = make_engine(cluster.url())
        migrate.upgrade(engine)
        with engine.begin() as connection:
            build_demo_city(connection, until="units")
            city = load_units(connection)
            from gridmap.crs import metric_crs_of
            from gridmap.db.bulk import read_geoframe

            frame = read_geoframe(connection, "SELECT id, geom FROM unit ORDER BY id")
            polygons = np.asarray(
                frame.to_crs(metric_crs_of(frame.geometry.values)).geometry.values, dtype=object
            )
        engine.dispose()
    finally:
        cluster.down()
    return city.units, polygons


def _units(polygons: np.ndarray, households: np.ndarray, community: np.ndarray) -> Units:
    touching = adjacency(polygons).tocoo()
    same = community[touching.row] == community[touching.col]
    n = len(polygons)
    graph = csr_matrix(
        (touching.data[same], (touching.row[same], touching.col[same])), shape=(n, n)
    )
    return Units(
        graph,
        households.astype(np.int64),
        np.round(households * 2.62).astype(np.int64),
        shapely.get_coordinates(shapely.point_on_surface(polygons)),
        np.unique(community, return_inverse=True)[1].astype(np.int64),
        None,
        shapely.area(polygons),
        shapely.length(polygons),
    )


def measure(units: Units, polygons: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Return the share in bounds, contiguity, mean Polsby-Popper and households' spread."""
    labels = np.unique(labels, return_inverse=True)[1]
    k = labels.max() + 1
    households = np.bincount(labels, weights=units.households, minlength=k)
    contiguous = 0
    for g in range(k):
        members = np.flatnonzero(labels == g)
        sub = units.adjacency[members][:, members]
        contiguous += connected_components(sub, directed=False)[0] == 1
    shapes = [shapely.union_all(polygons[labels == g]) for g in range(k)]
    area, perimeter = shapely.area(shapes), shapely.length(shapes)
    fits = (households >= BOUNDS.min_households) & (households <= BOUNDS.max_households)
    totals = np.bincount(units.community, weights=units.households)
    feasible = np.ceil(totals / BOUNDS.max_households) <= np.floor(totals / BOUNDS.min_households)
    first = np.unique(labels, return_index=True)[1]
    where = feasible[units.community[first]]  # grids whose community some grid count fits
    return {
        "grids": int(k),
        "in_bounds": float(np.mean(fits)),
        "feasible_in_bounds": float(np.mean(fits[where])) if where.any() else float("nan"),
        "contiguous": contiguous / k,
        "polsby_popper": float(np.mean(4 * np.pi * area / perimeter**2)),
        "households_sd": float(np.std(households)),
    }


def _gerrychain(units: Units, labels: np.ndarray) -> np.ndarray:
    """GerryChain's recursive tree partition, per community, with gridmap's grid counts."""
    import networkx as nx
    from gerrychain import Graph
    from gerrychain.partition.initial_partition_generators import recursive_tree_part

    result = np.full(len(units), -1, dtype=np.int64)
    next_label = 0
    for c in np.unique(units.community):
        members = np.flatnonzero(units.community == c)
        k = len(np.unique(labels[members]))
        sub = units.adjacency[members][:, members].tocoo()
        g = nx.Graph()
        g.add_nodes_from(
            (i, {"households": int(units.households[m])}) for i, m in enumerate(members)
        )
        g.add_edges_from(zip(sub.row.tolist(), sub.col.tolist(), strict=True))
        if k == 1 or not nx.is_connected(g):
            result[members] = next_label
            next_label += 1
            continue
        total = units.households[members].sum()
        parts = recursive_tree_part(
            Graph.from_networkx(g), range(k), total / k, "households", 0.25, rng=0
        )  # 400 ± 25%: the 300–500 bounds
        for node, part in parts.items():
            result[members[node]] = next_label + part
        next_label += k
    return result


def _spopt(name: str, units: Units, polygons: np.ndarray, k: int) -> np.ndarray:
    import geopandas as gpd
    import libpysal
    from spopt.region import MaxPHeuristic, RegionKMeansHeuristic, Skater

    warnings.filterwarnings("ignore")
    frame = gpd.GeoDataFrame(
        {"households": units.households.astype(float), "x": units.xy[:, 0], "y": units.xy[:, 1]},
        geometry=polygons,
    )
    w = libpysal.weights.WSP(units.adjacency).to_W(silence_warnings=True)
    if name == "MaxP":
        model = MaxPHeuristic(
            frame,
            w,
            ["x", "y"],
            "households",
            BOUNDS.min_households,
            top_n=2,
            max_iterations_construction=10,
        )
    elif name == "SKATER":
        model = Skater(
            frame, w, ["x", "y"], n_clusters=k, trace=False, islands="increase"
        )  # its floor counts units, not households
    else:
        model = RegionKMeansHeuristic(frame[["x", "y"]].to_numpy(), k, w)
    model.solve()
    return np.asarray(model.labels_)


def _child(queue, name, units, polygons, k, ours):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    labels = _gerrychain(units, ours) if name == "GerryChain" else _spopt(name, units, polygons, k)
    queue.put((time.perf_counter() - start, labels))


def run_case(
    name: str, units: Units, polygons: np.ndarray, limit_s: float, *, peers: bool = True
) -> None:
    """Print one case's table."""
    print(
        f"\n{name}: {len(units):,} units, {int(units.households.sum()):,} households, "
        f"{len(np.unique(units.community)):,} communities"
    )
    start = time.perf_counter()
    ours = partition(units, BOUNDS, seed=0)
    ours_s = time.perf_counter() - start
    rows = {"gridmap": (ours_s, measure(units, polygons, ours.labels))}
    context = multiprocessing.get_context("fork")
    for peer in ("MaxP", "RegionKMeans", "SKATER", "GerryChain") if peers else ():
        queue = context.Queue()
        arguments = (queue, peer, units, polygons, ours.n_grids, ours.labels)
        child = context.Process(target=_child, args=arguments)
        child.start()
        child.join(limit_s)
        if child.is_alive():
            child.terminate()
            rows[peer] = (None, None)
            continue
        if queue.empty():
            rows[peer] = (None, {"error": 1})
            continue
        seconds, labels = queue.get()
        rows[peer] = (seconds, measure(units, polygons, labels))
    print(
        f"  {'':>13} {'time':>9} {'vs gridmap':>10} {'grids':>6} {'in bounds':>9} "
        f"{'(feasible)':>10} {'contiguous':>10} {'mean PP':>8} {'hh sd':>7}"
    )
    for who, (seconds, m) in rows.items():
        if seconds is None:
            print(f"  {who:>13} {'> ' + str(int(limit_s)) + ' s' if m is None else 'failed':>9}")
            continue
        print(
            f"  {who:>13} {seconds:8.2f}s {seconds / ours_s:9.1f}× {m['grids']:6d} "
            f"{100 * m['in_bounds']:8.1f}% {100 * m['feasible_in_bounds']:9.1f}% "
            f"{100 * m['contiguous']:9.1f}% "
            f"{m['polsby_popper']:8.3f} {m['households_sd']:7.0f}"
        )


def main() -> None:
    """Run the cases asked for."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cases", nargs="+", default=["demo", "10k"], choices=["demo", "2k", "10k", "100k"]
    )
    parser.add_argument("--limit", type=float, default=300.0, help="seconds per peer")
    parser.add_argument("--no-peers", action="store_true", help="time gridmap alone")
    args = parser.parse_args()
    sizes = {"2k": 2_000, "10k": 10_000, "100k": 100_000}
    for name in args.cases:
        units, polygons = demo() if name == "demo" else synthetic(sizes[name])
        run_case(name, units, polygons, args.limit, peers=not args.no_peers)


if __name__ == "__main__":
    main()
