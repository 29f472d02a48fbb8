"""Benchmark: what the database driver costs a tile, sync psycopg against the asynchronous ones.

Is the service floor's 0.6 ms a tile at zoom 16 (README) the driver's? Each tile's statement
(gridmap's own, as its builder runs it) is timed one tile after another, in one process, over
one connection per contender: psycopg sync (how the bench times "the SQL alone"), psycopg
asynchronous on uvloop (gridmap's tile builder), both also with binary results (no hex bytea),
and asyncpg 0.32 (not a dependency of gridmap: ``pip install asyncpg``), plain and as a
prepared statement. The contenders take turns tile by tile, their order reversed every other
tile and pass; the first pass warms, each tile's time is its median over the other passes, the
ratio is of total time against psycopg sync. Load printed.

    python bench/tiles/drivers.py --url postgresql://… [--zooms 14 15 16] [--passes 5]

``--url``: a database holding a gridmap city (run.py's ``bench_tiles_1m``, or any other);
without it the 1M city is built on a private cluster first (about 200 s).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
import run  # bench/tiles/run.py: the city, the tiles, the load

SESSION = "-c max_parallel_workers_per_gather=0"
Tile = tuple[int, int, int]


def dollar_sql(z: int) -> str:
    """Return gridmap's tile statement at ``z`` in asyncpg's placeholders ($1 z, $2 x, $3 y)."""
    from gridmap.tiles.statement import PARAMETER
    from gridmap.tiles.tilesets import TILESETS, tile_sql

    sql = tile_sql(TILESETS["buildings"], z, scoped=False)
    assert sql is not None
    order = {"z": 1, "x": 2, "y": 3}  # the unscoped buildings tiles take no other parameter
    return PARAMETER.sub(lambda m: f"${order[m.group(1)]}::int", sql)


async def time_drivers(url: str, z: int, tiles: list[Tile], passes: int) -> None:
    """Time the contenders on the tiles of zoom ``z`` and print their totals."""
    import asyncpg

    from gridmap.tiles.statement import driver_sql
    from gridmap.tiles.tilesets import TILESETS

    ours = driver_sql(TILESETS["buildings"], z, scoped=False)
    assert ours is not None
    dollar = dollar_sql(z)
    sync = psycopg.connect(url, autocommit=True, options=SESSION)
    aconn = await psycopg.AsyncConnection.connect(url, autocommit=True, options=SESSION)
    apg = await asyncpg.connect(url, server_settings={"max_parallel_workers_per_gather": "0"})
    prepared = await apg.prepare(dollar)

    async def psycopg_sync(t: Tile, binary: bool = False) -> None:
        sync.execute(ours, dict(zip("zxy", t, strict=True)), binary=binary).fetchone()

    async def psycopg_async(t: Tile, binary: bool = False) -> None:
        cursor = await aconn.execute(ours, dict(zip("zxy", t, strict=True)), binary=binary)
        await cursor.fetchone()

    async def asyncpg_plain(t: Tile) -> None:
        await apg.fetchval(dollar, *t)

    async def asyncpg_prepared(t: Tile) -> None:
        await prepared.fetchval(*t)

    contenders: dict[str, Callable[[Tile], Awaitable[None]]] = {
        "psycopg sync": psycopg_sync,
        "psycopg sync, binary": lambda t: psycopg_sync(t, True),
        "psycopg async": psycopg_async,
        "psycopg async, binary": lambda t: psycopg_async(t, True),
        "asyncpg": asyncpg_plain,
        "asyncpg, prepared": asyncpg_prepared,
    }
    times: dict[str, dict[Tile, list[float]]] = {n: {t: [] for t in tiles} for n in contenders}
    print(f"\nz{z}: {len(tiles)} tiles, {passes} passes ({run.load()})")
    for n in range(passes + 1):  # the first pass warms
        for tile in tiles:
            turns = list(contenders.items())
            for name, work in turns if (n + tile[1]) % 2 else turns[::-1]:
                started = time.perf_counter()
                await work(tile)
                if n:
                    times[name][tile].append((time.perf_counter() - started) * 1000)
    sync.close()
    await aconn.close()
    await apg.close()
    medians = {name: {t: statistics.median(v) for t, v in by.items()} for name, by in times.items()}
    base = sum(medians["psycopg sync"].values())
    for name, by in medians.items():
        total = sum(by.values())
        print(
            f"  {name:22s} total {total:8.1f} ms  {total / base:.3f}× psycopg sync"
            f"  median tile {statistics.median(by.values()):6.3f} ms"
        )


def main() -> None:
    """Time the drivers on the city at ``--url``, or on a 1M city built for the run."""
    import uvloop

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="A database holding a gridmap city.")
    parser.add_argument("--zooms", type=int, nargs="+", default=[14, 15, 16])
    parser.add_argument("--per-zoom", type=int, default=80)
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    root = cluster = None
    if args.url is None:
        from gridmap.config import DEFAULT_PG_BINDIR
        from gridmap.db.local import LocalCluster
        from tests.conftest import make_temp_root

        root = make_temp_root("gridmap-bench-drivers-")
        cluster = LocalCluster(root / "pg", bindir=DEFAULT_PG_BINDIR, fast=True)
        cluster.up()
        args.url = run.build_city(cluster.url(), "1m")
    url = args.url.replace("+psycopg", "")
    try:
        tiles = run.tiles_over(url, args.per_zoom)
        for z in args.zooms:
            at = [t for t in tiles if t[0] == z]
            uvloop.run(time_drivers(url, z, at, args.passes))
    finally:
        if cluster is not None and root is not None:
            cluster.down()
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
