"""Benchmark: siting on a stored city, on the city kept warm against the city loaded each time.

    python bench/coverage/siting_warm.py DATABASE_URL [--rounds 2] [--k 5]

Each request asks for ``k`` new stations among the amenities (``suggest_sites``, what
``POST /coverage/siting`` runs). Contenders, alternated ``--rounds`` times: *cold*, the warm
city dropped before the request (so it loads, snaps and walks the whole city, as every siting
request did before), and *warm*, the city this process keeps. Both must choose the same sites.
The load average is printed before each.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from gridmap.coverage import station_planning
from gridmap.coverage.engine import CoverageParameters
from gridmap.db.engine import make_engine


def main() -> None:
    """Time siting cold and warm, alternately."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()
    engine = make_engine(args.url)
    chosen: set[tuple[str, ...]] = set()
    took: dict[str, list[float]] = {"cold": [], "warm": []}
    for k in range(args.rounds):
        for name in ("cold", "warm") if k % 2 == 0 else ("warm", "cold"):
            if name == "cold":
                station_planning._warm.clear()
            with engine.connect() as connection:
                load = os.getloadavg()[0]
                started = time.perf_counter()
                report = station_planning.suggest_sites(connection, CoverageParameters(), k=args.k)
                took[name].append(time.perf_counter() - started)
            chosen.add(tuple(report.sites["label"]))
            print(f"{name} (load {load:.1f}): {took[name][-1]:.2f} s", flush=True)
    cold, warm = sum(took["cold"]) / args.rounds, sum(took["warm"]) / args.rounds
    print(f"mean cold {cold:.2f} s, warm {warm:.2f} s: warm {cold / warm:.1f}× faster")
    print(f"the same sites every time: {len(chosen) == 1}")


if __name__ == "__main__":
    main()
