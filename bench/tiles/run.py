"""Benchmark: vector tiles from gridmap against tipg, on the same PostGIS and the same tiles.

For each city (the Helsinki demo, a synthetic city of N buildings) the run builds a fresh
database on a private cluster and picks the tiles over the city (all of them, or a seeded
sample per zoom) in two bands, reported apart: zooms 14–16, where gridmap and tipg both draw
the footprints (like for like), and zooms 12–13, where gridmap draws the blocks (units) the
footprints make up and tipg still every footprint (a different job, so its ratio is not a like
for like one). For each band, on loopback with wrk (2 threads, 8 connections, a fixed time):

- tipg 1.x, pointed at the ``building`` table (its ``geom`` column, the same properties, the
  same buffer, no feature cap), and gridmap's ``buildings`` tileset with its tile cache off,
  alternated ``--rounds`` times (the first of the pair alternating too), the load average
  printed before each run;
- then gridmap with one connection, and with the cache warm;

and times the tile SQL alone, one tile after another: gridmap's (stored web-mercator column),
the plain floor (the simplest query with the same answer: one ``ST_AsMVT`` over the stored
column, no order, no join) and the generic query a server like tipg runs (transform per row).
Each server runs one uvicorn worker. Last, each tile served by gridmap (cache off) is timed
against its own SQL alone, against the floor, and against the service floor (``bare_service.py``:
the same statement answered by a bare ASGI app under the same uvicorn), interleaved tile by tile.

Both cities have units (blocks), which the ``buildings`` tileset draws below zoom 14.

    python bench/tiles/run.py --cases demo 1m --seconds 20 [--per-zoom 80] [--rounds 2]
    python bench/tiles/run.py --cases 1m --served-only   # only the one-tile-at-a-time measure
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
CASES = {"demo": 0, "100k": 100_000, "300k": 300_000, "1m": 1_000_000}
ZOOMS = range(12, 17)
LUA = """
local urls = {}
for line in io.lines(os.getenv("TILE_URLS")) do urls[#urls + 1] = line end
local i = 0
function init(args) i = math.random(#urls) end
function request() i = i % #urls + 1; return wrk.format("GET", urls[i]) end
"""
GENERIC_SQL = """
SELECT ST_AsMVT(q, 'default', 4096, 'geom') FROM (
    SELECT t.id, t.residents, t.households, t.levels,
           ST_AsMVTGeom(ST_Transform(t.geom, 3857), ST_TileEnvelope(%(z)s, %(x)s, %(y)s),
                        4096, 64, true) AS geom
    FROM building t
    WHERE ST_Intersects(t.geom, ST_Transform(
        ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => 64.0 / 4096), 4326))
) q
"""


BANDS = {"z14–16 (like for like)": (14, 15, 16), "z12–13 (blocks against footprints)": (12, 13)}


def floor_sql(z: int) -> str:
    """Return the plainest statement with the same answer as gridmap's tile at ``z``."""
    table, columns, column = (
        ("unit", "t.code, t.residents, t.households", "geom_3857_s")
        if z < 14
        else ("building", "t.id, t.residents, t.households, t.levels", "geom_3857")
    )
    return f"""
SELECT ST_AsMVT(q, 'buildings', 4096, 'geom') FROM (
    SELECT {columns},
           ST_AsMVTGeom(t.{column}, ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4096, 64, true) AS geom
    FROM {table} t
    WHERE t.{column} && ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => 64.0 / 4096)
) q
"""


def load() -> str:
    """Return the 1-minute load average, as printed beside each run."""
    return f"load {os.getloadavg()[0]:.1f}"


def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def build_city(cluster_url: str, case: str) -> str:
    """Make a fresh database holding the case's city; return its SQLAlchemy URL."""
    from gridmap.db import migrate
    from gridmap.db.engine import make_engine

    name = f"bench_tiles_{case}"
    admin = cluster_url.replace("+psycopg", "").rpartition("/")[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = cluster_url.rpartition("/")[0] + "/" + name
    engine = make_engine(url)
    migrate.upgrade(engine)
    started = time.perf_counter()
    with engine.begin() as connection:
        from gridmap.units.service import build_units

        if case == "demo":
            from gridmap.demo import build_demo_city

            build_demo_city(connection, until="units")  # blocks: the buildings below zoom 14
        else:
            from gridmap.synth.city import synthesize
            from gridmap.synth.service import store_city

            store_city(connection, synthesize(CASES[case], seed=1))
            build_units(connection, county_code="990101")
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    engine.dispose()
    print(f"{case}: city built in {time.perf_counter() - started:.0f} s", flush=True)
    return url


def tiles_over(url: str, per_zoom: int, seed: int = 7) -> list[tuple[int, int, int]]:
    """Return the tiles at zooms 12–16 that hold buildings (a seeded sample per zoom)."""
    rng = random.Random(seed)
    chosen = []
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        for z in ZOOMS:
            rows = conn.execute(
                "SELECT DISTINCT floor((ST_X(c) + 180) / 360 * 2 ^ %(z)s)::int AS x, "
                "floor((1 - ln(tan(radians(ST_Y(c))) + 1 / cos(radians(ST_Y(c)))) / pi()) / 2 "
                "* 2 ^ %(z)s)::int AS y FROM (SELECT ST_Centroid(geom) AS c FROM building) b",
                {"z": z},
            ).fetchall()
            tiles = sorted((z, x, y) for x, y in rows)
            chosen += tiles if len(tiles) <= per_zoom else rng.sample(tiles, per_zoom)
    return chosen


class Server:
    """A uvicorn process on a free port, stopped on exit."""

    def __init__(self, app: list[str], env: dict[str, str]) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        command = [
            PYTHON,
            "-m",
            "uvicorn",
            *app,
            "--port",
            str(self.port),
            "--workers",
            "1",
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        self.process = subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT)
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(self.base + "/", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"{app} did not start") from None
                time.sleep(0.2)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def gridmap_server(url: str, cache_mb: int) -> Server:
    """Start gridmap on ``url``, readable without a key, with a tile cache of ``cache_mb``.

    With no cache, the shared tile store is off too: every tile is built.
    """
    return Server(
        ["api.main:create_app", "--factory"],
        {
            "DATABASE_URL": url,
            "GRIDMAP_PUBLIC_READ": "true",
            "GRIDMAP_TILE_CACHE_MB": str(cache_mb),
            "GRIDMAP_TILE_STORE_MB": "2048" if cache_mb else "0",
        },
    )


def bare_server(url: str) -> Server:
    """Start the service floor (:mod:`bare_service`) on ``url``."""
    return Server(
        ["bare_service:app", "--app-dir", str(Path(__file__).parent)], {"DATABASE_URL": url}
    )


def tipg_server(url: str) -> Server:
    """Start tipg on ``url``, serving the building table alone, uncapped, buffer 64."""
    return Server(
        ["tipg.main:app"],
        {
            "DATABASE_URL": url.replace("+psycopg", ""),
            "TIPG_DB_SCHEMAS": '["public"]',
            "TIPG_DB_TABLES": '["public.building"]',
            "TIPG_DB_SPATIAL_EXTENT": "false",
            "TIPG_DB_DATETIME_EXTENT": "false",
            "TIPG_TABLE_CONFIG__public_building__GEOMCOL": "geom",
            "TIPG_TABLE_CONFIG__public_building__PROPERTIES": (
                '["id","residents","households","levels"]'
            ),
            "TIPG_MAX_FEATURES_PER_TILE": "10000000",
            "TIPG_TILE_BUFFER": "64",
            "TIPG_DB_MAX_CONN_SIZE": "10",
        },
    )


def wrk(urls: list[str], seconds: int, connections: int = 8) -> dict[str, float]:
    """Load the URLs round-robin for ``seconds``; return req/s, p50, p99 (ms), errors."""
    with tempfile.TemporaryDirectory() as folder:
        listing, script = Path(folder) / "urls.txt", Path(folder) / "tiles.lua"
        listing.write_text("\n".join(urls) + "\n")
        script.write_text(LUA)
        base = re.match(r"https?://[^/]+", urls[0]).group(0)  # type: ignore[union-attr]
        paths = [u[len(base) :] for u in urls]
        listing.write_text("\n".join(paths) + "\n")
        out = subprocess.run(
            [
                "wrk",
                f"-t{min(2, connections)}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "--latency",
                "-s",
                str(script),
                base,
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "TILE_URLS": str(listing)},
            check=True,
        ).stdout

    def ms(label: str) -> float:
        found = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out)
        assert found is not None, out
        value, unit = found.groups()
        return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": ms("50%"),
        "p99": ms("99%"),
        "timeouts": int(errors.group(4)) if errors else 0,
        "errors": (sum(int(g) for g in errors.groups()[:3]) if errors else 0)
        + (int(non2xx.group(1)) if non2xx else 0),
    }


def sql_alone(url: str, tiles: list[tuple[int, int, int]]) -> dict[str, dict[str, float]]:
    """Time each tile's SQL alone, one after another: gridmap's and the generic one."""
    from gridmap.tiles.tilesets import TILESETS, tile_sql

    timings: dict[str, list[float]] = {"gridmap": [], "floor": [], "generic": []}
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        for z, x, y in tiles * 2:  # the first pass warms the buffers; the second is timed
            ours = tile_sql(TILESETS["buildings"], z, scoped=False)
            assert ours is not None
            ours = ours.replace(":z", "%(z)s").replace(":x", "%(x)s").replace(":y", "%(y)s")
            contenders = (("gridmap", ours), ("floor", floor_sql(z)), ("generic", GENERIC_SQL))
            for name, statement in contenders:
                started = time.perf_counter()
                conn.execute(statement, {"z": z, "x": x, "y": y}).fetchone()
                timings[name].append((time.perf_counter() - started) * 1000)
    half = len(tiles)
    return {
        name: {
            "p50": statistics.median(v[half:]),
            "p99": _p99(v[half:]),
            "mean": statistics.fmean(v[half:]),
        }
        for name, v in timings.items()
    }


class Http:
    """A minimal keep-alive HTTP/1.1 client: GET, then read the head and Content-Length bytes."""

    def __init__(self, host: str, port: int) -> None:
        self.socket = socket.create_connection((host, port), timeout=60)
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.pending = b""

    def get(self, path: str) -> int:
        """Send a GET for ``path``, read the whole answer, return its status."""
        self.socket.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
        while b"\r\n\r\n" not in self.pending:
            self.pending += self._recv()
        head, _, body = self.pending.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        length = next(
            (
                int(v)
                for k, _, v in (line.partition(b":") for line in lines[1:])
                if k.strip().lower() == b"content-length"
            ),
            0,
        )
        while len(body) < length:
            body += self._recv()
        self.pending = body[length:]
        return int(lines[0].split()[1])

    def _recv(self) -> bytes:
        data = self.socket.recv(1 << 16)
        if not data:
            raise ConnectionError("the server closed the connection")
        return data

    def close(self) -> None:
        """Close the connection."""
        self.socket.close()


def served_against_sql(
    url: str, base: str, tiles: list[tuple[int, int, int]], reps: int = 5, bare: str | None = None
) -> dict[str, float]:
    """Time each tile served over HTTP against its SQL alone, interleaved, one at a time.

    The same statement the service runs, with the same session settings, from one client
    connection; a keep-alive HTTP/1.1 connection to the service (cache off), read by a
    minimal client (:class:`Http`: Python's http.client spends about 0.2 ms a request of its
    own, a client's cost, not the service's). The two are taken
    in turn for each tile, the first of the pair alternating between passes, so drift in the
    machine's speed falls on both. Each tile's time is its median over the passes. Returns the
    served-to-SQL ratio over the whole list (total time, the throughput reading), per zoom, and
    the median and 90th percentile of the per-tile ratios.

    With ``bare`` (the base URL of :mod:`bare_service`), the same tiles served by the bare
    service are timed in the same turns: the service floor, what HTTP and the event loop cost
    any Python service, against which gridmap's own additions are read.
    """
    from urllib.parse import urlsplit

    from gridmap.tiles.statement import driver_sql
    from gridmap.tiles.tilesets import TILESETS

    def client(of: str) -> Http:
        where = urlsplit(of)
        return Http(where.hostname or "127.0.0.1", where.port or 80)

    http = client(base)
    bare_http = client(bare) if bare else None
    served: dict[tuple[int, int, int], list[float]] = {t: [] for t in tiles}
    least: dict[tuple[int, int, int], list[float]] = {t: [] for t in tiles}
    alone: dict[tuple[int, int, int], list[float]] = {t: [] for t in tiles}
    plain: dict[tuple[int, int, int], list[float]] = {t: [] for t in tiles}
    with psycopg.connect(
        url.replace("+psycopg", ""), autocommit=True, options="-c max_parallel_workers_per_gather=0"
    ) as conn:

        def run_sql(tile: tuple[int, int, int]) -> None:
            statement = driver_sql(TILESETS["buildings"], tile[0], scoped=False)
            conn.execute(statement, dict(zip("zxy", tile, strict=True))).fetchone()  # type: ignore[arg-type]

        def run_floor(tile: tuple[int, int, int]) -> None:
            conn.execute(floor_sql(tile[0]), dict(zip("zxy", tile, strict=True))).fetchone()

        def fetch(tile: tuple[int, int, int], by: Http = http) -> None:
            status = by.get("/tiles/buildings/{}/{}/{}.mvt".format(*tile))
            assert status in (200, 204), status

        turns: list[tuple[dict[tuple[int, int, int], list[float]], Any]] = [
            (alone, run_sql),
            (plain, run_floor),
            (served, fetch),
        ]
        if bare_http is not None:
            turns.append((least, lambda tile: fetch(tile, bare_http)))
        for n in range(reps + 1):  # the first pass warms them all
            for tile in tiles:
                for times, work in turns if (n + tile[1]) % 2 else turns[::-1]:
                    started = time.perf_counter()
                    work(tile)
                    if n:
                        times[tile].append((time.perf_counter() - started) * 1000)
    http.close()
    if bare_http is not None:
        bare_http.close()
    ours = {t: statistics.median(v) for t, v in served.items()}
    own = {t: statistics.median(v) for t, v in alone.items()}
    floor = {t: statistics.median(v) for t, v in plain.items()}
    ratios = sorted(ours[t] / own[t] for t in tiles)
    figures = {
        "total": sum(ours.values()) / sum(own.values()),
        "total against the floor": sum(ours.values()) / sum(floor.values()),
        "own SQL against the floor": sum(own.values()) / sum(floor.values()),
        "median tile": statistics.median(ratios),
        "p90 tile": ratios[int(0.9 * len(ratios))],
    }
    for z in sorted({t[0] for t in tiles}):
        at = [t for t in tiles if t[0] == z]
        figures[f"z{z}"] = sum(ours[t] for t in at) / sum(own[t] for t in at)
        figures[f"z{z} SQL ms"] = statistics.median(own[t] for t in at)
        figures[f"z{z} beyond ms"] = statistics.median(ours[t] - own[t] for t in at)
        figures[f"z{z} against the floor"] = sum(ours[t] for t in at) / sum(floor[t] for t in at)
        if bare_http is not None:
            bare_ms = {t: statistics.median(least[t]) for t in at}
            figures[f"z{z} service floor against the floor"] = sum(bare_ms.values()) / sum(
                floor[t] for t in at
            )
            figures[f"z{z} against the service floor"] = sum(ours[t] for t in at) / sum(
                bare_ms.values()
            )
            figures[f"z{z} service floor beyond ms"] = statistics.median(
                bare_ms[t] - own[t] for t in at
            )
    return figures


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


def run_case(
    cluster_url: str, case: str, seconds: int, per_zoom: int, rounds: int, served_only: bool
) -> None:
    """Build one city, load both servers with its tiles band by band, print the tables."""
    url = build_city(cluster_url, case)
    every = tiles_over(url, per_zoom)
    print(f"{case}: {len(every)} tiles at z12–16", flush=True)
    for band, zooms in BANDS.items():
        tiles = [t for t in every if t[0] in zooms]
        if tiles and served_only:
            run_served(url, f"{case}, {band}", tiles, rounds)
        elif tiles:
            run_band(url, f"{case}, {band}", tiles, seconds, rounds)


def run_band(
    url: str, title: str, tiles: list[tuple[int, int, int]], seconds: int, rounds: int
) -> None:
    """Alternate tipg and gridmap (cache off) ``rounds`` times on ``tiles``; print the table."""
    alone = sql_alone(url, tiles)
    rows: dict[str, dict[str, float]] = {}
    tipg_urls = [
        f"/collections/public.building/tiles/WebMercatorQuad/{z}/{x}/{y}" for z, x, y in tiles
    ]
    ours_urls = [f"/tiles/buildings/{z}/{x}/{y}.mvt" for z, x, y in tiles]
    with tipg_server(url) as tipg, gridmap_server(url, 0) as ours:
        contenders = [("tipg", tipg.base, tipg_urls), ("gridmap, cache off", ours.base, ours_urls)]
        for n in range(rounds):
            for name, base, paths in contenders if n % 2 == 0 else contenders[::-1]:
                label = f"{name} (round {n + 1}, {load()})"
                rows[label] = wrk([base + p for p in paths], seconds)
        tipg_bytes = len(httpx.get(tipg.base + tipg_urls[len(tiles) // 2], timeout=60).content)
        ours_bytes = len(httpx.get(ours.base + ours_urls[len(tiles) // 2], timeout=60).content)
        label = f"gridmap, cache off, 1 connection ({load()})"
        rows[label] = wrk([ours.base + p for p in ours_urls], seconds, connections=1)
        with bare_server(url) as bare:
            against = served_against_sql(url, ours.base, tiles, bare=bare.base)
    with gridmap_server(url, 1024) as warm:
        for path in ours_urls:  # warm
            httpx.get(warm.base + path, timeout=60)
        rows[f"gridmap, cache warm ({load()})"] = wrk([warm.base + p for p in ours_urls], seconds)
    print(
        f"\n{title}: {len(tiles)} tiles, {seconds} s per run, 2 threads × 8 connections; "
        f"one tile's body: tipg {tipg_bytes:,} B, gridmap {ours_bytes:,} B"
    )
    print(
        f"{'contender':44} {'req/s':>9} {'vs tipg':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'p99 vs tipg':>11} {'errors':>6} {'timeouts':>8}"
    )
    tipg_rows = [r for name, r in rows.items() if name.startswith("tipg")]
    tipg_mean = {
        "rps": statistics.fmean(r["rps"] for r in tipg_rows),
        "p99": statistics.fmean(r["p99"] for r in tipg_rows),
    }
    for name, r in rows.items():
        print(
            f"{name:44} {r['rps']:9.1f} {r['rps'] / tipg_mean['rps']:7.2f}× {r['p50']:8.1f} "
            f"{r['p99']:8.1f} {r['p99'] / tipg_mean['p99']:10.2f}× {r['errors']:6d} "
            f"{r['timeouts']:8d}"
        )
    print("(vs tipg: against the mean of tipg's rounds)")
    for name, t in alone.items():
        print(
            f"tile SQL alone, {name:8} p50 {t['p50']:7.1f} ms  p99 {t['p99']:7.1f} ms  "
            f"mean {t['mean']:7.1f} ms  ({t['mean'] / alone['floor']['mean']:.2f}× the floor)"
        )
    print_served(against)


def print_served(against: dict[str, float]) -> None:
    """Print what :func:`served_against_sql` measured, a row a zoom."""
    print(
        "one tile at a time, interleaved; ratios of total time: gridmap served against its own "
        f"SQL {against['total']:.2f}×, against the floor {against['total against the floor']:.2f}×"
        f" (its SQL {against['own SQL against the floor']:.2f}× the floor)"
    )
    zooms = sorted({k.split()[0] for k in against if k.startswith("z")})
    bare = f"{zooms[0]} against the service floor" in against if zooms else False
    print(
        f"{'zoom':>4} {'SQL ms':>7} {'served/SQL':>10} {'served/floor':>12} {'beyond ms':>9}"
        + (
            f" {'service floor/floor':>19} {'its beyond ms':>13} {'served/service floor':>20}"
            if bare
            else ""
        )
    )
    for z in zooms:
        row = (
            f"{z:>4} {against[z + ' SQL ms']:7.2f} {against[z]:9.2f}× "
            f"{against[z + ' against the floor']:11.2f}× {against[z + ' beyond ms']:9.2f}"
        )
        if bare:
            row += (
                f" {against[z + ' service floor against the floor']:18.2f}× "
                f"{against[z + ' service floor beyond ms']:13.2f} "
                f"{against[z + ' against the service floor']:19.2f}×"
            )
        print(row, flush=True)


def run_served(url: str, title: str, tiles: list[tuple[int, int, int]], rounds: int) -> None:
    """Only the one-tile-at-a-time measure, ``rounds`` times, each server started afresh."""
    for n in range(rounds):
        with gridmap_server(url, 0) as ours, bare_server(url) as bare:
            print(f"\n{title}: {len(tiles)} tiles, round {n + 1} ({load()})")
            print_served(served_against_sql(url, ours.base, tiles, bare=bare.base))


def main() -> None:
    """Run the cases asked for on a private cluster."""
    from gridmap.config import DEFAULT_PG_BINDIR
    from gridmap.db.local import LocalCluster
    from tests.conftest import make_temp_root

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=["demo", "1m"], choices=list(CASES))
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--per-zoom", type=int, default=80)
    parser.add_argument("--rounds", type=int, default=2, help="Alternations of the contenders.")
    parser.add_argument(
        "--served-only",
        action="store_true",
        help="Only time tiles served one at a time against the SQL and the service floor.",
    )
    args = parser.parse_args()
    if not args.served_only and shutil.which("wrk") is None:
        sys.exit("bench/tiles needs wrk: apt-get install wrk")
    root = make_temp_root("gridmap-bench-tiles-")
    cluster = LocalCluster(root / "pg", bindir=DEFAULT_PG_BINDIR, fast=True)
    cluster.up()
    try:
        for case in args.cases:
            run_case(
                cluster.url(), case, args.seconds, args.per_zoom, args.rounds, args.served_only
            )
    finally:
        cluster.down()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
