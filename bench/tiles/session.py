"""Benchmark: a planner's session replayed on a large city, with and without the tile store.

The city (``--buildings``, 1,000,000 by default) is built once with the CLI a user runs, as
bench/jobs does (``gridmap synth``, a first plan partitioned and accepted), under ``--state``.
The session works in one street (the one with the most units) and is the same for both
contenders, which alternate ``--rounds`` times each (the first of the pair alternating too):

- ``store``: two API processes (``gridmap serve``) with the tile store (migration 0011) and
  their memory caches;
- ``memory``: the same two processes with the store off (``GRIDMAP_TILE_STORE_MB=0``): each
  process keeps its own cache, keyed by the revisions of every table a tileset reads, as
  before the store.

Tile requests alternate between the two processes (a load balancer in front of them), six at
a time (a browser's connections). The session:

1. *yesterday*: the current plan viewed over the street (every tile the session asks for
   below: the viewports at zooms 14–16, the street at 12 and 13): residents and planners looked
   at it before (a replayed session); not counted;
2. *open*: a new draft of the current plan, viewed over the zoom-15 viewports (a copied plan
   starts with its source's stored tiles), counted apart;
3. *edit*: 50 edits, each a unit moved to a neighbouring grid of its community (``PATCH``
   with ``If-Match``), its viewport (5 × 4 tiles at zoom 15) viewed before the edit (a pan)
   and again after it (the map redraws), every fifth step also zoomed out to 14 and in to 16;
4. *accept*: the draft accepted (``POST /plans/{id}/accept``); after 2 s (the planner reads
   the answer), the current plan viewed over every fifth viewport and the street at zooms 12
   and 13.

Printed per contender and round: the load average, and for each phase the tile requests, the
share answered without building (from memory or the store: the hit ratio), the tiles built
(of which: never asked before in the session; built again with the bytes they had when last
asked: changed and changed back, as by a move undone, or else dropped needlessly; within 3 m
of a unit moved since the tile was last asked: what any client drawing the plan's units or grid
lines from tiles must build again, the floor of the misses), and the p50
and p99 latency seen by the client; the session's hit ratio
and p99 are those of phases 3 and 4 together.

The client draws the plans from the ``gridmap`` tileset (the grids' figures in the tiles), or
with ``--tilesets plan`` from the ``plan`` tileset (grids by shape and code: the figures from
the API, the whole draft's when it opens, the two grids' in each edit's answer); given both,
each is a contender of its own, their order reversed every other round.

    python bench/tiles/session.py [--buildings 1000000] [--rounds 2] [--state DIR]
        [--only store|memory] [--tilesets gridmap,plan]
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import statistics
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "tiles"))

from run import free_port, load  # noqa: E402  (bench/tiles/run.py)


def _jobs_bench() -> object:
    """bench/jobs/run.py, whose ``build_city`` builds the city as a user would."""
    spec = importlib.util.spec_from_file_location("bench_jobs", ROOT / "bench" / "jobs" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


JOBS = _jobs_bench()


GRIDMAP = str(Path(sys.executable).with_name("gridmap"))
EDITS = 50
BROWSER = 6  # connections a browser opens to one host
VIEW = (5, 4)  # tiles across and down at zoom 15 (a 1280 × 1024 map of 256-pixel tiles)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """Return the column and row of the tile at zoom ``z`` holding a lon/lat point."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def viewport(lon: float, lat: float, z: int) -> list[tuple[int, int, int]]:
    """Return the tiles a map of :data:`VIEW` tiles centred on a point shows at zoom ``z``."""
    cx, cy = tile_of(lon, lat, z)
    w, h = VIEW
    return [
        (z, x, y)
        for x in range(cx - w // 2, cx - w // 2 + w)
        for y in range(cy - h // 2, cy - h // 2 + h)
    ]


def covering(bbox: tuple[float, float, float, float], z: int) -> list[tuple[int, int, int]]:
    """Every tile at zoom ``z`` over a lon/lat box."""
    x0, y1 = tile_of(bbox[0], bbox[1], z)
    x1, y0 = tile_of(bbox[2], bbox[3], z)
    return [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


@dataclass(frozen=True)
class Move:
    """A unit moved from its grid to a neighbouring one, and where it lies."""

    unit: str
    home: str
    away: str
    lon: float
    lat: float


def session_plan(url: str) -> tuple[list[Move], tuple[float, float, float, float]]:
    """Return 50 moves spread over the street with the most units, and its lon/lat box."""
    with psycopg.connect(url) as connection:
        found = connection.execute("""
            SELECT s.id, ARRAY[ST_XMin(s.geom), ST_YMin(s.geom), ST_XMax(s.geom), ST_YMax(s.geom)]
            FROM region s
            WHERE s.level = 'street'
            ORDER BY (SELECT count(*) FROM unit u JOIN region c ON c.id = u.community_id
                      WHERE c.parent_id = s.id) DESC, s.code
            LIMIT 1
        """).fetchone()
        assert found is not None, "the city has no street"
        street, bbox = found
        rows = connection.execute(
            """
            SELECT DISTINCT ON (u.code) u.code, g.code, t.code,
                   ST_X(ST_PointOnSurface(u.geom)), ST_Y(ST_PointOnSurface(u.geom))
            FROM grid g JOIN assignment a ON a.grid_id = g.id JOIN unit u ON u.id = a.unit_id
            JOIN region c ON c.id = g.community_id
            JOIN grid t ON t.plan_id = g.plan_id AND t.community_id = g.community_id
                       AND t.id <> g.id AND ST_Touches(t.geom, u.geom)
            WHERE g.plan_id = (SELECT id FROM plan WHERE status = 'current')
              AND c.parent_id = %s
              AND (SELECT count(*) FROM assignment b WHERE b.grid_id = g.id) > 1
            ORDER BY u.code, t.code
            """,
            (street,),
        ).fetchall()
    rows = sorted(rows, key=lambda r: (r[3], r[4]))  # west to east: a planner's pan
    spread = rows[:: max(1, len(rows) // EDITS)][:EDITS]
    moves, used = [], set()
    for unit, home, away, lon, lat in spread:  # one move per grid: each edit its own
        if home in used or away in used:
            continue
        used |= {home, away}
        moves.append(Move(unit, home, away, lon, lat))
    return moves, tuple(bbox)


@dataclass
class Phase:
    """A phase of the session: each tile's latency and where it came from."""

    name: str
    latencies: list[float] = field(default_factory=list)
    sources: Counter[str] = field(default_factory=Counter)
    cold: int = 0  # built at their first request in the session (no cache could hold them)
    needless: int = 0  # built again with the bytes they had when last asked
    forced: int = 0  # built where a unit moved since the tile was last asked (any client must)
    rebuilt: list[tuple[tuple[int, int, int], frozenset[str]]] = field(default_factory=list)
    """Each tile built again: its z/x/y and the units moved since it was last asked."""

    def line(self) -> str:
        """Return the phase's figures on one line."""
        n = len(self.latencies)
        hits = self.sources["memory"] + self.sources["store"]
        p50 = statistics.median(self.latencies) * 1000 if n else 0
        p99 = sorted(self.latencies)[max(0, math.ceil(0.99 * n) - 1)] * 1000 if n else 0
        return (
            f"{self.name:>8}: {n:5d} tiles, hit ratio {hits / n if n else 0:6.1%} "
            f"(memory {self.sources['memory']}, store {self.sources['store']}, "
            f"built {self.sources['built']}: {self.cold} never asked before, "
            f"{self.needless} as when last asked, {self.forced} on a unit moved since), "
            f"p50 {p50:6.1f} ms, p99 {p99:6.1f} ms"
        )


class Processes:
    """Two API processes on the city, the tile store on or off."""

    def __init__(self, env: dict[str, str], store: bool) -> None:
        env = {**env, "GRIDMAP_TILE_STORE_MB": "2048" if store else "0"}
        env.pop("GRIDMAP_TILE_CACHE_MB", None)  # the default memory cache in both
        self.bases, self.children = [], []
        for _ in range(2):
            port = free_port()
            self.bases.append(f"http://127.0.0.1:{port}")
            self.children.append(
                subprocess.Popen(
                    [GRIDMAP, "serve", "--port", str(port), "--job-workers", "0"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for base in self.bases:
            JOBS.wait_healthy(base)  # type: ignore[attr-defined]

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *_: object) -> None:
        for child in self.children:
            child.terminate()
        for child in self.children:
            child.wait(timeout=60)


class Map:
    """A browser's map: tiles asked six at a time, alternately of the two processes."""

    def __init__(self, bases: list[str], key: str, tileset: str = "gridmap") -> None:
        headers = {"Authorization": f"Bearer {key}", "Accept-Encoding": "gzip"}
        self.tileset = tileset
        self.clients = [httpx.Client(base_url=b, headers=headers, timeout=120) for b in bases]
        self.pool = ThreadPoolExecutor(BROWSER)
        self.turn = 0
        self.seen: dict[tuple[object, ...], str] = {}  # the ETag each tile had last
        self.moved: list[str] = []  # the units moved so far, in order
        self.asked_at: dict[tuple[object, ...], int] = {}  # len(moved) at a tile's last ask

    def view(self, tiles: list[tuple[int, int, int]], plan: int | None, phase: Phase) -> None:
        """Ask for ``tiles`` of ``plan`` (None: the current one), counting them in ``phase``."""
        query = f"?plan={plan}" if plan else ""
        tileset = self.tileset

        def one(k: int, tile: tuple[int, int, int]) -> tuple[float, str, str]:
            client = self.clients[(self.turn + k) % len(self.clients)]
            started = time.perf_counter()
            reply = client.get(f"/tiles/{tileset}/" + "{}/{}/{}.mvt".format(*tile) + query)
            took = time.perf_counter() - started
            assert reply.status_code in (200, 204), reply.text
            timing = reply.headers.get("server-timing", 'tile;desc="?"')
            return took, timing.split('"')[1], reply.headers.get("etag", "")

        for tile, (took, source, etag) in zip(
            tiles, self.pool.map(lambda a: one(*a), enumerate(tiles)), strict=True
        ):
            phase.latencies.append(took)
            phase.sources[source] += 1
            key = (*tile, plan)
            phase.cold += source == "built" and key not in self.seen
            phase.needless += source == "built" and self.seen.get(key) == etag
            if source == "built" and key in self.asked_at:
                since = frozenset(self.moved[self.asked_at[key] :])
                phase.rebuilt.append((tile, since))
            self.seen[key] = etag
            self.asked_at[key] = len(self.moved)
        self.turn += 1

    def close(self) -> None:
        """Close the connections."""
        self.pool.shutdown()
        for client in self.clients:
            client.close()


def one_session(
    env: dict[str, str], key: str, url: str, store: bool, tileset: str = "gridmap"
) -> dict[str, Phase]:
    """Replay the session on fresh processes, the store on or off; return its phases.

    With the ``plan`` tileset, the client draws grids by shape from the tiles and takes their
    figures from the API: the whole plan's when the draft opens (``GET /plans/{id}/grids``,
    timed in the phase ``figures``), the two grids' from each edit's answer.
    """
    moves, bbox = session_plan(url)
    phases = {name: Phase(name) for name in ("open", "edit", "accept")}
    with Processes(env, store) as processes:
        api = httpx.Client(
            base_url=processes.bases[0], headers={"Authorization": f"Bearer {key}"}, timeout=600
        )
        browser = Map(processes.bases, key, tileset)
        yesterday = Phase("before")
        low = covering(bbox, 12) + covering(bbox, 13)
        # every tile the session asks for, of the current plan: the edits' camera path (they go
        # over the moves twice, and every fifth step falls on other moves the second time)
        for k, move in enumerate(moves * 2):
            browser.view(viewport(move.lon, move.lat, 15), None, yesterday)
            if k % 5 == 0:
                browser.view(viewport(move.lon, move.lat, 14), None, yesterday)
                browser.view(viewport(move.lon, move.lat, 16), None, yesterday)
        browser.view(low, None, yesterday)
        made = api.post("/plans", json={"name": "瓦片会话", "source": "current"})
        assert made.status_code == 201, made.text
        plan, etag = made.json()["id"], made.headers["etag"]
        if tileset == "plan":  # the figures the tiles leave out, for the whole draft
            phases["figures"] = Phase("figures")
            started = time.perf_counter()
            figures = api.get(f"/plans/{plan}/grids")
            assert figures.status_code == 200, figures.text
            phases["figures"].latencies.append(time.perf_counter() - started)
            phases["figures"].sources[f"{len(figures.content) / 1e6:.1f} MB"] += 1
        for move in moves:
            browser.view(viewport(move.lon, move.lat, 15), plan, phases["open"])
        edits = 0
        for k, move in enumerate(moves * 2):
            if edits >= EDITS:
                break
            here = viewport(move.lon, move.lat, 15)
            browser.view(here, plan, phases["edit"])
            if k % 5 == 0:
                browser.view(viewport(move.lon, move.lat, 14), plan, phases["edit"])
                browser.view(viewport(move.lon, move.lat, 16), plan, phases["edit"])
            # a move; undone at once when the answer says it cut a grid in pieces (the check
            # an accept is held to), as a planner would
            for target in (move.away, move.home):
                edited = api.patch(
                    f"/plans/{plan}",
                    headers={"If-Match": etag},
                    json={"moves": [{"unit": move.unit, "grid": target}]},
                )
                assert edited.status_code == 200, edited.text
                etag, edits = edited.headers["etag"], edits + 1
                browser.moved.append(move.unit)
                browser.view(here, plan, phases["edit"])
                cut = [
                    g
                    for g in edited.json()["grids"]
                    if g.get("pieces", 1) > 1 and (g.get("pieces_before") or 1) <= 1
                ]
                if not cut or target == move.home or edits >= EDITS:
                    break
        started = time.perf_counter()
        accepted = api.post(f"/plans/{plan}/accept", headers={"If-Match": etag})
        assert accepted.status_code == 200, accepted.text
        print(f"    accept: {time.perf_counter() - started:.1f} s", flush=True)
        time.sleep(2)
        for move in moves[::5]:
            browser.view(viewport(move.lon, move.lat, 15), None, phases["accept"])
        browser.view(low, None, phases["accept"])
        browser.close()
        api.close()
    for phase in phases.values():
        phase.forced = on_moved_units(url, phase.rebuilt)
    return phases


def on_moved_units(url: str, rebuilt: list[tuple[tuple[int, int, int], frozenset[str]]]) -> int:
    """Count the tiles built again within 3 m of a unit moved since they were last asked.

    Those any client drawing a plan's units or grid lines from tiles must build again: the
    unit's grid, or a grid's outline, changed there (3 m: the store's own reach, migration
    0011, for a simplified shape's stray).
    """
    with psycopg.connect(url) as connection:
        return sum(
            bool(
                units
                and connection.execute(
                    "SELECT bool_or(ST_DWithin(ST_TileEnvelope(%s, %s, %s, margin => %s), "
                    "u.geom_3857, 3)) FROM unit u WHERE u.code = ANY(%s)",
                    (*tile, 64 / 4096, list(units)),
                ).fetchone()[0]  # type: ignore[index]
            )
            for tile, units in rebuilt
        )


def city_and_contenders(
    description: str,
) -> tuple[dict[str, str], str, str, list[bool], argparse.Namespace]:
    """Read the arguments and build (or reuse) the city.

    Return the city's environment, an admin key, its libpq URL, the contenders' order
    (True: the store), the pair alternated round by round, and the arguments.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--buildings", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--state", type=Path, default=Path("/tmp/gridmap-bench-jobs"))
    parser.add_argument("--only", choices=("store", "memory"), help="one contender (a trial)")
    parser.add_argument(
        "--tilesets",
        default="gridmap",
        help="the tilesets the client draws the plans from, comma-separated, each a contender "
        "with the store and without (gridmap: the figures in the tiles; plan: shapes and "
        "codes, the figures from the API)",
    )
    args = parser.parse_args()
    env, key = JOBS.build_city(args.state, args.buildings)  # type: ignore[attr-defined]
    url = env["DATABASE_URL"].replace("+psycopg", "")
    order = [
        store
        for k in range(args.rounds)
        for store in ((True, False) if k % 2 == 0 else (False, True))
    ]
    if args.only:
        order = [args.only == "store"] * args.rounds
    return env, key, url, order, args


def main() -> None:
    """Run the contenders in turn and print their figures."""
    env, key, url, order, args = city_and_contenders(__doc__.splitlines()[0])
    tilesets = args.tilesets.split(",")
    totals: dict[str, Phase] = {}
    for k, store in enumerate(order):
        for tileset in tilesets if k % 2 == 0 else tilesets[::-1]:
            run_one(env, key, url, store, tileset, totals)
    print("all rounds, phases 3 and 4:")
    for total in totals.values():
        print("  " + total.line())


def run_one(
    env: dict[str, str],
    key: str,
    url: str,
    store: bool,
    tileset: str,
    totals: dict[str, Phase],
) -> None:
    """Replay one session and print its phases; add phases 3 and 4 to ``totals``."""
    name = ("store" if store else "memory") + ("" if tileset == "gridmap" else f", {tileset}")
    print(f"{name} ({load()}):", flush=True)
    phases = one_session(env, key, url, store, tileset)
    figures = phases.pop("figures", None)
    if figures is not None:
        (size,) = figures.sources
        took = figures.latencies[0] * 1000
        print(f"   figures: GET /plans/{{id}}/grids, {size}, {took:.0f} ms", flush=True)
    for phase in phases.values():
        print("  " + phase.line(), flush=True)
    both = Phase("session")
    for part in ("edit", "accept"):
        both.latencies += phases[part].latencies
        both.sources += phases[part].sources
        both.cold += phases[part].cold
        both.needless += phases[part].needless
        both.forced += phases[part].forced
    print("  " + both.line(), flush=True)
    total = totals.setdefault(name, Phase(name))
    total.latencies += both.latencies
    total.sources += both.sources
    total.cold += both.cold
    total.needless += both.needless
    total.forced += both.forced


if __name__ == "__main__":
    main()
