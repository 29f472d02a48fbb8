"""Benchmark: what-if on a stored city, the first request (the city loaded) against the next.

    python bench/coverage/whatif_warm.py DATABASE_URL [--requests 20]

Each request adds one station (a step further east each time) to the city's stations and
answers the rates before and after, city-wide and per community (``whatif_answer``, what
``POST /coverage/whatif`` runs). The first request loads, snaps and walks the whole city; the
next ones fork the city this process keeps warm. The load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from gridmap.coverage.engine import CoverageParameters
from gridmap.coverage.station_planning import StationChanges, whatif_answer
from gridmap.db.engine import make_engine


def main() -> None:
    """Time the cold what-if and the warm ones."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    engine = make_engine(args.url)
    with engine.connect() as connection:
        lon, lat = connection.exec_driver_sql(
            "SELECT ST_X(geom), ST_Y(geom) FROM station ORDER BY code LIMIT 1"
        ).one()
    print(f"load before: {os.getloadavg()[0]:.1f}")
    took = []
    for i in range(args.requests):
        with engine.connect() as connection:
            started = time.perf_counter()
            whatif_answer(
                connection,
                CoverageParameters(),
                StationChanges([(lon + 0.001 * (i + 1), lat)], [], []),
            )
            took.append(time.perf_counter() - started)
    warm = np.array(took[1:]) * 1000
    print(f"first (the city loaded): {took[0]:.1f} s")
    p95 = np.percentile(warm, 95)
    verdict = "met" if p95 <= 200 else "not met"
    print(
        f"next {len(warm)}: median {np.median(warm):.0f} ms, p95 {p95:.0f} ms, "
        f"worst {warm.max():.0f} ms [target p95 <= 200 ms: {verdict}]"
    )
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
