"""Benchmark: tiles served while jobs run, jobs in processes of their own against jobs in threads.

On the demo city (Helsinki, a current plan), one uvicorn worker with its tile cache off serves
the ``gridmap`` and ``buildings`` tiles at zooms 12–16 to wrk (2 threads, 4 connections); the
latency is taken idle, then while jobs run back to back: re-partitions (a draft copied from the
current plan, re-partitioned whole, discarded), then coverage runs. Two servers in one run:

- gridmap as it is: each job in a child process;
- the peer: the same server with each job run in one of its own threads, as jobs ran before
  (``in_thread.py`` beside this file patches the runner).

Printed: tile p50/p99 idle and under jobs, and the jobs finished in the window.

    python bench/jobs/run.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import threading
import time
from pathlib import Path

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "tiles"))

from run import Server, tiles_over, wrk  # noqa: E402  (bench/tiles/run.py)


def build_city(cluster_url: str) -> tuple[str, str]:
    """Make the demo city with a current plan; return its URL and a planner's key."""
    import psycopg
    from psycopg import sql

    from gridmap.auth.keys import create_key
    from gridmap.db import migrate
    from gridmap.db.demo import helsinki_pbf
    from gridmap.db.engine import make_engine
    from gridmap.io.osm import read_osm
    from gridmap.io.osm_import import import_osm_layers
    from gridmap.partition.service import accept_plan, new_plan, partition_plan
    from gridmap.stations import seed_stations_from_amenities
    from gridmap.units.service import build_units

    admin = cluster_url.replace("+psycopg", "").rpartition("/")[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS bench_jobs")
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier("bench_jobs")))
    url = cluster_url.rpartition("/")[0] + "/bench_jobs"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        import_osm_layers(connection, read_osm(helsinki_pbf()))
        build_units(connection, county_code="990101")
        seed_stations_from_amenities(connection)
        plan = new_plan(connection, name="现状", source=None, author="bench")
        partition_plan(connection, plan, seed=0, author="bench")
        accept_plan(connection, plan, actor="bench")
        key = create_key(connection, name="bench", role="planner").secret
    engine.dispose()
    return url, key


def drive_jobs(base: str, key: str, kind: str, stop: threading.Event, done: list[float]) -> None:
    """Run jobs of ``kind`` back to back until ``stop``; note each one's seconds."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        seed = 0
        while not stop.is_set():
            started = time.perf_counter()
            if kind == "partition":
                draft = client.post("/plans", json={"name": "bench", "source": "current"})
                plan = draft.json()["id"]
                job = client.post("/jobs/partition", json={"plan": plan, "seed": seed})
            else:
                job = client.post("/jobs/coverage", json={"minutes": 5})
            location = job.headers["location"]
            while (state := client.get(location).json()["status"]) in ("queued", "running"):
                time.sleep(0.05)
            assert state == "succeeded", client.get(location).json()
            if kind == "partition":
                client.delete(f"/plans/{plan}")
            done.append(time.perf_counter() - started)
            seed += 1


def measure(url: str, key: str, app: list[str], kind: str, seconds: int) -> dict[str, object]:
    """Tile latency idle and under back-to-back jobs of ``kind``, for one server."""
    env = {"DATABASE_URL": url, "GRIDMAP_PUBLIC_READ": "true", "GRIDMAP_TILE_CACHE_MB": "0",
           "PYTHONPATH": str(ROOT / "bench" / "jobs")}  # fmt: skip
    with Server(app, env) as server:
        tiles = tiles_over(url, 40)
        urls = [f"{server.base}/tiles/{name}/{z}/{x}/{y}.mvt"
                for z, x, y in tiles for name in ("gridmap", "buildings")]  # fmt: skip
        wrk(urls, 3, connections=4)  # warm
        idle = wrk(urls, seconds, connections=4)
        stop, done = threading.Event(), []
        driver = threading.Thread(target=drive_jobs, args=(server.base, key, kind, stop, done))
        driver.start()
        time.sleep(2)  # the first job under way
        busy = wrk(urls, seconds, connections=4)
        stop.set()
        driver.join()
    return {"idle": idle, "busy": busy, "jobs": len(done),
            "job s": sum(done) / max(len(done), 1)}  # fmt: skip


def main() -> None:
    """Build the city on a private cluster and measure both servers."""
    from gridmap.config import DEFAULT_PG_BINDIR
    from gridmap.db.local import LocalCluster
    from tests.conftest import make_temp_root

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/jobs needs wrk: apt-get install wrk")
    root = make_temp_root("gridmap-bench-jobs-")
    cluster = LocalCluster(root / "pg", bindir=DEFAULT_PG_BINDIR, fast=True)
    cluster.up()
    try:
        url, key = build_city(cluster.url())
        rows = {}
        for kind in ("partition", "coverage"):
            for runner, app in (
                ("a process (gridmap)", "api.main"),
                ("a thread (peer)", "in_thread"),
            ):
                rows[f"{kind} jobs in {runner}"] = measure(
                    url, key, [f"{app}:create_app", "--factory"], kind, args.seconds)  # fmt: skip
    finally:
        cluster.down()
        shutil.rmtree(root, ignore_errors=True)
    print(f"\ntiles (cache off, wrk 2 threads × 4 connections, {args.seconds} s) idle and while "
          "jobs run back to back")  # fmt: skip
    print(f"{'server':38} {'idle p50':>9} {'idle p99':>9} {'busy p50':>9} {'busy p99':>9} "
          f"{'p99 ×':>6} {'req/s ×':>8} {'jobs':>5} {'s a job':>8}")  # fmt: skip
    for name, r in rows.items():
        idle, busy = r["idle"], r["busy"]
        print(
            f"{name:30} {idle['p50']:9.1f} {idle['p99']:9.1f} {busy['p50']:9.1f} "  # type: ignore[index]
            f"{busy['p99']:9.1f} {busy['p99'] / idle['p99']:6.2f} "  # type: ignore[index]
            f"{busy['rps'] / idle['rps']:8.2f} {r['jobs']:5d} {r['job s']:8.2f}"
        )  # type: ignore[index]


if __name__ == "__main__":
    main()
