"""Benchmark: import plus units and walking network, for Helsinki and synthetic cities.

Each case runs in a fresh process (so its peak memory is its own) against a fresh database on
a private PostGIS cluster started for the run, and reports wall time per stage and the peak
resident memory of the Python process. The peer, measured in the same run on the same rows, is
the usual Python way to put a GeoDataFrame into PostGIS: ``GeoDataFrame.to_postgis`` (GeoAlchemy2
INSERTs); gridmap writes with COPY.

    python bench/import/run.py                  # helsinki, 100k
    python bench/import/run.py --cases 1m       # one case
    python bench/import/run.py --cases helsinki 100k 1m
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

CASES = {"helsinki": 0, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}
TARGET_1M = {"seconds": 600, "peak_gb": 6.0}


def _fresh_database(cluster_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(cluster_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base, _, _ = cluster_url.rpartition("/")
    return f"{base}/{name}"


def run_case(case: str, url: str) -> dict[str, object]:
    """Run one case in this process; return its stages' seconds and the peak memory."""
    from gridmap.db import migrate
    from gridmap.db.engine import make_engine

    engine = make_engine(url)
    migrate.upgrade(engine)
    stages: dict[str, float] = {}
    clock = time.perf_counter()

    def stage(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[name] = round(now - clock, 2)
        clock = now

    with engine.begin() as connection:
        if case == "helsinki":
            from gridmap.demo import helsinki_pbf
            from gridmap.io.osm import read_osm
            from gridmap.io.osm_import import import_osm_layers

            layers = read_osm(helsinki_pbf())
            stage("read")
            import_osm_layers(connection, layers)
            stage("import")
            buildings = len(layers.buildings)
        else:
            from gridmap.synth.city import synthesize
            from gridmap.synth.service import store_city

            city = synthesize(CASES[case], seed=1)
            stage("generate")
            store_city(connection, city)
            stage("import")
            buildings = len(city.buildings)
        from gridmap.units.service import build_units

        built = build_units(connection, county_code="990101")
        stage("units")
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    result = {
        "case": case,
        "buildings": buildings,
        "units": built.units,
        "stages_s": stages,
        "total_s": round(sum(stages.values()), 1),
        "peak_gb": round(peak_gb, 2),
    }
    if case != "helsinki":
        result["peer"] = _peer(engine, city)
    engine.dispose()
    return result


def _peer(engine: object, city: object) -> dict[str, float]:
    """Write the same buildings with COPY (gridmap) and with GeoDataFrame.to_postgis."""
    import geopandas as gpd

    from gridmap.db.bulk import copy_rows

    frame = gpd.GeoDataFrame(
        {"levels": city.buildings["levels"]}, geometry=city.buildings.geometry, crs=4326
    )
    with engine.begin() as connection:  # type: ignore[attr-defined]
        connection.exec_driver_sql(
            "CREATE TABLE bench_copy (levels int, geom geometry(Polygon, 4326))"
        )
        start = time.perf_counter()
        copy_rows(connection, "building", frame, into="bench_copy")
        ours = time.perf_counter() - start
    start = time.perf_counter()
    frame.rename_geometry("geom").to_postgis("bench_peer", engine, chunksize=10_000)
    peer = time.perf_counter() - start
    return {
        "gridmap_copy_s": round(ours, 2),
        "to_postgis_s": round(peer, 2),
        "speedup": round(peer / ours, 1),
    }


def main() -> None:
    """Start a private cluster, run each case in a child process, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=["helsinki", "100k"], choices=list(CASES))
    parser.add_argument("--child", nargs=2, metavar=("CASE", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_case(*args.child)))
        return

    from gridmap.config import DEFAULT_PG_BINDIR
    from gridmap.db.local import LocalCluster
    from tests.conftest import make_temp_root

    root = make_temp_root("gridmap-bench-")
    cluster = LocalCluster(root / "pg", bindir=DEFAULT_PG_BINDIR, fast=True)
    cluster.up()
    try:
        for case in args.cases:
            url = _fresh_database(cluster.url(), f"bench_{case}")
            out = subprocess.run(
                [sys.executable, __file__, "--child", case, url],
                check=True,
                capture_output=True,
                text=True,
            )
            result = json.loads(out.stdout.strip().splitlines()[-1])
            print(_describe(result), flush=True)
    finally:
        cluster.down()
        shutil.rmtree(root, ignore_errors=True)


def _describe(r: dict[str, object]) -> str:
    stages = ", ".join(f"{k} {v} s" for k, v in r["stages_s"].items())  # type: ignore[union-attr]
    line = (
        f"{r['case']:>8}: {r['buildings']:>9,} buildings → {r['units']:>7,} units in "
        f"{r['total_s']} s ({stages}); peak {r['peak_gb']} GB"
    )
    if r["case"] == "1m":
        ok = r["total_s"] < TARGET_1M["seconds"] and r["peak_gb"] < TARGET_1M["peak_gb"]
        line += f"  [target < 600 s and < 6 GB: {'met' if ok else 'MISSED'}]"
    if "peer" in r:
        p = r["peer"]
        line += (
            f"\n          buildings written: gridmap COPY {p['gridmap_copy_s']} s vs "
            f"GeoDataFrame.to_postgis {p['to_postgis_s']} s: {p['speedup']}× faster"
        )  # type: ignore[index]
    return line


if __name__ == "__main__":
    main()
