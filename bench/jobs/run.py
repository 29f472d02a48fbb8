"""Benchmark: each street re-partitioned as a job of its own, by 1 and by 2 worker processes.

While the jobs run, 8 planners edit drafts and tiles are served.

The city (``--buildings``, 1,000,000 by default) is built once with the CLI a user runs
(``gridmap synth``, then a first plan partitioned and accepted) on a private cluster kept under
``--state`` (a second run reuses it). Then, for each contender (1 worker process, 2 worker
processes; alternated, ``--rounds`` times each):

- one API process (``gridmap serve --job-workers 0``, tile cache off) and the contender's
  ``gridmap worker`` processes start;
- each district has a draft of the current plan (copied once), and its streets are
  re-partitioned in it one after another, each street a job of its own (``region``): a
  district's next job is started when its last one ended (one job at a time works on a draft),
  the districts all at once; the wall time runs from the first job queued to the last one
  ended (``--drafts street``: a draft per street, every job queued at once, as the first runs
  did: copying 330 drafts takes an hour and bloats the grid table);
- meanwhile 8 planners each edit a draft of their own over and over (a unit moved to another
  grid of its community and back, with ``If-Match``): an edit applies (200), or is refused
  while a job works on the draft (409), or arrives after another change (412);
- and wrk (2 threads, 4 connections) reads the ``gridmap`` tiles at zooms 13–16, for which
  the p50/p99 is printed, with the same tiles' p99 with nothing else running.

Printed per round: the load (1-minute load average before and after), the wall time, jobs per
minute, the mean job time, edits applied / 409 / 412, and the tile latency idle and busy.

    python bench/jobs/run.py [--buildings 1000000] [--rounds 2] [--drafts district|street]
                             [--state /tmp/gridmap-bench-jobs]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "tiles"))

from run import free_port, tiles_over, wrk  # noqa: E402  (bench/tiles/run.py)

GRIDMAP = str(Path(sys.executable).with_name("gridmap"))
PLANNERS = 8


def cli(env: dict[str, str], *args: str) -> float:
    """Run a gridmap command; return its wall time."""
    started = time.perf_counter()
    subprocess.run([GRIDMAP, *args], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def build_city(
    state: Path, buildings: int, *, keep_drafts: bool = False
) -> tuple[dict[str, str], str]:
    """Build (or reuse) the city with the CLI; return the environment and an admin key."""
    from gridmap.auth.keys import create_key
    from gridmap.db.engine import make_engine

    env = {
        **os.environ,
        "GRIDMAP_STATE_DIR": str(state),
        "GRIDMAP_TILE_CACHE_MB": "0",
        "GRIDMAP_TILE_STORE_MB": "0",  # tiles built each time, as the figures were measured
    }
    env.pop("DATABASE_URL", None)
    cli(env, "db", "up")
    cli(env, "db", "migrate")
    url = (
        subprocess.run([GRIDMAP, "db", "url"], env=env, check=True, capture_output=True, text=True)
        .stdout.strip()
        .splitlines()[-1]
    )
    engine = make_engine(url)
    with engine.connect() as connection:
        have = connection.exec_driver_sql("SELECT count(*) FROM building").scalar_one()
        current = connection.exec_driver_sql(
            "SELECT id FROM plan WHERE status = 'current'"
        ).scalar()
    if have != buildings:
        took = cli(env, "synth", "--buildings", str(buildings), "--seed", "1", "--replace")
        print(f"gridmap synth --buildings {buildings:,}: {took:.0f} s", flush=True)
        current = None
    if current is None:
        took = cli(env, "plan", "new", "--name", "现状")
        with engine.connect() as connection:
            plan = connection.exec_driver_sql("SELECT max(id) FROM plan").scalar_one()
        took += cli(env, "partition", "--plan", str(plan))
        took += cli(env, "plan", "accept", str(plan))
        print(f"first plan (new, partition, accept): {took:.0f} s", flush=True)
    with engine.begin() as connection:
        key = create_key(connection, name="bench", role="admin").secret
        if not keep_drafts:
            connection.exec_driver_sql("DELETE FROM plan WHERE status = 'draft'")
    engine.dispose()
    env["DATABASE_URL"] = url
    return env, key


def wait_healthy(base: str, seconds: float = 60) -> None:
    """Wait until the API at ``base`` answers ``/health``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(base + "/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the API did not start")
        time.sleep(0.2)


class Processes:
    """One API process and ``workers`` job workers, stopped on exit."""

    def __init__(self, env: dict[str, str], workers: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        serve = [GRIDMAP, "serve", "--port", str(self.port), "--job-workers", "0"]
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        self.children = [subprocess.Popen(serve, env=env, **quiet)]  # type: ignore[call-overload]
        self.children += [
            subprocess.Popen([GRIDMAP, "worker", "--name", f"bench-{i}"], env=env, **quiet)
            for i in range(workers)
        ]  # type: ignore[call-overload]
        wait_healthy(self.base)

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *_: object) -> None:
        for child in self.children:
            child.terminate()
        for child in self.children:
            child.wait(timeout=60)


def plan_edits(client: httpx.Client, plan: int) -> list[tuple[str, str, str]]:
    """Return (unit, its grid, another grid of its community) for a few units of a draft.

    Only units whose grid holds others too: a move that empties a grid removes it, and every
    later move back into it would be refused (400; the run of 2026-12-03 had 9,712 of those).
    """
    units = client.get(f"/plans/{plan}/units").json()
    grids = sorted({g for g in units.values()})
    size = Counter(units.values())
    by_community: dict[str, list[str]] = {}
    for g in grids:
        by_community.setdefault(g[:12], []).append(g)
    moves = [
        (u, g, next(o for o in by_community[g[:12]] if o != g))
        for u, g in sorted(units.items())
        if len(by_community[g[:12]]) > 1 and size[g] > 1
    ]
    return moves[:: max(1, len(moves) // 20)][:20]


def planner(
    base: str,
    key: str,
    plan: int,
    moves: list[tuple[str, str, str]],
    stop: threading.Event,
    tally: Counter[int],
) -> None:
    """Edit a draft over and over until ``stop``: each move there and back again."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        k, etag = 0, None
        while not stop.is_set():
            unit, home, away = moves[k % len(moves)]
            if etag is None:  # as the web map does: read the plan once, then follow the edits
                etag = client.get(f"/plans/{plan}").headers.get("etag", '"0"')
            target = away if (k // len(moves)) % 2 == 0 else home
            answer = client.patch(
                f"/plans/{plan}",
                headers={"If-Match": etag},
                json={"moves": [{"unit": unit, "grid": target}]},
            )
            tally[answer.status_code] += 1
            etag = answer.headers.get("etag") if answer.status_code == 200 else None
            k += 1
            time.sleep(0.2)


def kept_drafts(env: dict[str, str], names: list[str]) -> list[int] | None:
    """Return the drafts an earlier run copied under ``names``, if every name has one."""
    from gridmap.db.engine import make_engine

    url = (
        subprocess.run([GRIDMAP, "db", "url"], env=env, check=True, capture_output=True, text=True)
        .stdout.strip()
        .splitlines()[-1]
    )
    engine = make_engine(url)
    with engine.connect() as connection:
        drafts = "SELECT name, max(id) FROM plan WHERE status = 'draft' GROUP BY name"
        found = dict(connection.exec_driver_sql(drafts).all())
    engine.dispose()
    ids = [found.get(name) for name in names]
    return None if None in ids else [int(i) for i in ids]  # type: ignore[arg-type]


def make_drafts(env: dict[str, str], key: str, names: list[str]) -> tuple[list[int], float]:
    """Copy the current plan once under each name; return the drafts and the seconds taken."""
    headers = {"Authorization": f"Bearer {key}"}
    started = time.perf_counter()
    with (
        Processes(env, 0) as api,
        httpx.Client(base_url=api.base, headers=headers, timeout=600) as client,
    ):
        drafts = [
            client.post("/plans", json={"name": name, "source": "current"}).json()["id"]
            for name in names
        ]
    return drafts, time.perf_counter() - started


def run_in_turn(
    base: str, key: str, plan: int, streets: list[str], seed: int, ended: dict[str, dict]
) -> None:
    """Re-partition ``streets`` in draft ``plan`` one after another, each a job of its own."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=600) as client:
        for k, street in enumerate(streets):
            body = {"plan": plan, "region": street, "mode": "full", "seed": seed + k}
            job = client.post("/jobs/partition", json=body)
            assert job.status_code == 202, job.text
            while True:
                found = client.get(f"/jobs/{job.json()['id']}").json()
                if found["status"] not in ("queued", "running"):
                    ended[street] = found
                    break
                time.sleep(0.5)


def one_round(
    env: dict[str, str],
    key: str,
    workers: int,
    work: dict[int, list[str]],
    planners: list[int],
    tiles: list[str],
    idle_p99: float,
    seed: int,
) -> dict[str, object]:
    """Run every street's job with ``workers`` worker processes; return the figures.

    ``work`` holds each draft's streets, re-partitioned in turn; drafts run side by side.
    """
    load_before = os.getloadavg()[0]
    headers = {"Authorization": f"Bearer {key}"}
    with (
        Processes(env, workers) as api,
        httpx.Client(base_url=api.base, headers=headers, timeout=600) as client,
    ):
        edits = {plan: plan_edits(client, plan) for plan in planners}
        stop, tally = threading.Event(), Counter()
        editors = [
            threading.Thread(target=planner, args=(api.base, key, plan, moves, stop, tally))
            for plan, moves in edits.items()
            if moves
        ]
        busy: dict[str, float] = {}
        reader = threading.Thread(
            target=lambda: busy.update(wrk([api.base + t for t in tiles], 30, connections=4))
        )
        ended: dict[str, dict] = {}
        feeders = [
            threading.Thread(
                target=run_in_turn, args=(api.base, key, plan, streets, seed + 1000 * i, ended)
            )
            for i, (plan, streets) in enumerate(work.items())
        ]
        started = time.perf_counter()
        for thread in (*feeders, *editors, reader):
            thread.start()
        for thread in feeders:
            thread.join()
        wall = time.perf_counter() - started
        stop.set()
        for thread in (*editors, reader):
            thread.join()
    jobs = sum(len(streets) for streets in work.values())
    statuses = Counter(b["status"] for b in ended.values())
    took = [
        (
            time.mktime(time.strptime(b["finished_at"][:19], "%Y-%m-%dT%H:%M:%S"))
            - time.mktime(time.strptime(b["started_at"][:19], "%Y-%m-%dT%H:%M:%S"))
        )
        for b in ended.values()
        if b["started_at"] and b["finished_at"]
    ]
    return {
        "workers": workers,
        "wall": wall,
        "jobs": jobs,
        "statuses": dict(statuses),
        "per min": 60 * jobs / wall,
        "mean job": sum(took) / max(len(took), 1),
        "edits": dict(tally),
        "tile p50": busy.get("p50"),
        "tile p99": busy.get("p99"),
        "idle p99": idle_p99,
        "load": (load_before, os.getloadavg()[0]),
    }


def main() -> None:
    """Build or reuse the city, then alternate 1 and 2 workers, ``--rounds`` times each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buildings", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--state", type=Path, default=Path("/tmp/gridmap-bench-jobs"))
    parser.add_argument(
        "--streets",
        type=int,
        default=0,
        help="The first this many streets (0: all).",
    )
    parser.add_argument(
        "--drafts",
        choices=("district", "street"),
        default="district",
        help="A draft per district, its streets in turn (default), or a draft per street.",
    )
    parser.add_argument(
        "--keep-drafts",
        action="store_true",
        help="Reuse the drafts an earlier run copied (copying 330 takes over an hour).",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/jobs needs wrk: apt-get install wrk")
    env, key = build_city(args.state, args.buildings, keep_drafts=args.keep_drafts)
    from gridmap.db.engine import make_engine

    engine = make_engine(env["DATABASE_URL"])
    with engine.connect() as connection:
        streets = list(
            connection.exec_driver_sql(
                "SELECT code FROM region WHERE level = 'street' ORDER BY code"
            ).scalars()
        )
        units = connection.exec_driver_sql("SELECT count(*) FROM unit").scalar_one()
    engine.dispose()
    if args.streets:
        streets = streets[: args.streets]
    tiles = [
        f"/tiles/gridmap/{z}/{x}/{y}.mvt"
        for z, x, y in tiles_over(env["DATABASE_URL"], 20)
        if z >= 13
    ]
    with Processes(env, 0) as api:
        idle = wrk([api.base + t for t in tiles], 20, connections=4)
    print(
        f"city: {args.buildings:,} buildings, {units:,} units, {len(streets)} streets; "
        f"tiles idle p50 {idle['p50']:.1f} ms, p99 {idle['p99']:.1f} ms",
        flush=True,
    )
    by_draft: dict[str, list[str]] = {}
    for street in streets:  # a district's code is its street's first 6 digits
        name = f"区 {street[:6]}" if args.drafts == "district" else f"街道 {street}"
        by_draft.setdefault(name, []).append(street)
    names = [*by_draft, *(f"规划员 {i + 1}" for i in range(PLANNERS))]
    kept = kept_drafts(env, names) if args.keep_drafts else None
    if kept is not None:
        drafts = kept
        print(f"{len(drafts)} drafts of an earlier run kept", flush=True)
    else:
        drafts, took = make_drafts(env, key, names)
        print(
            f"{len(drafts)} drafts copied from the current plan: {took:.0f} s "
            f"({took / len(drafts):.1f} s each)",
            flush=True,
        )
    work = dict(zip(drafts, by_draft.values(), strict=False))
    planners = drafts[len(by_draft) :]
    print(
        f"{len(work)} drafts hold the {len(streets)} streets' jobs ({args.drafts}); "
        f"{len(planners)} planners edit drafts of their own",
        flush=True,
    )
    rows = []
    for n in range(args.rounds):
        for workers in (1, 2):
            row = one_round(
                env,
                key,
                workers,
                work,
                planners,
                tiles,
                idle["p99"],
                seed=100_000 * n + 10_000 * workers,
            )
            rows.append(row)
            print(row, flush=True)
    print(
        "\n| workers | load before → after | wall s | jobs | jobs/min | mean job s | "
        "edits 200 / 409 / 412 | tile p50 | tile p99 | p99 × idle |"
    )
    print("| ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
    for r in rows:
        e = r["edits"]
        print(
            f"| {r['workers']} | {r['load'][0]:.1f} → {r['load'][1]:.1f} | {r['wall']:.1f} | "  # type: ignore[index]
            f"{r['jobs']} | {r['per min']:.1f} | {r['mean job']:.1f} | "
            f"{e.get(200, 0)} / {e.get(409, 0)} / {e.get(412, 0)} | "  # type: ignore[attr-defined]
            f"{r['tile p50']:.1f} | {r['tile p99']:.1f} | "
            f"{r['tile p99'] / r['idle p99']:.2f} |"
        )  # type: ignore[operator]


if __name__ == "__main__":
    main()
