"""Benchmark: the hotline-ticket questions against the plain floor, on the city in the state dir.

Each question (a grid's months, hotspots of grids and of units, before and after a change,
the ranking of the city's communities) is timed against the floor every one of them needs:
the plain join of every ticket to the unit it lies in (``count(*)`` of ``event JOIN unit ON
ST_Intersects``). Contenders alternate, best of 3, twice; the load is printed.

    GRIDMAP_STATE_DIR=/work/state100k gridmap synth --buildings 100000 --seed 1
    gridmap plan new --name t && gridmap partition --plan 1 && gridmap plan accept 1
    GRIDMAP_STATE_DIR=/work/state100k .venv/bin/python bench/tickets/run.py
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import date

from sqlalchemy import Connection, text

from gridmap.cli.common import engine_from_settings
from gridmap.db.tickets import TicketFilter
from gridmap.reports.ranking import load_ranking
from gridmap.tickets.service import compare_before_after, grid_months, hotspot_list

FLOOR = "SELECT count(*) FROM event e JOIN unit u ON ST_Intersects(u.geom, e.geom)"


def best(work: Callable[[], object], n: int = 3) -> float:
    """Return the best of ``n`` wall times of ``work``, in ms."""
    times = []
    for _ in range(n):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


def questions(c: Connection) -> dict[str, Callable[[], object]]:
    """Return each question, asked of the current plan's first grid and of the whole city."""
    code = c.execute(
        text(
            "SELECT g.code FROM grid g JOIN plan p ON p.id = g.plan_id "
            "AND p.status = 'current' ORDER BY g.code LIMIT 1"
        )
    ).scalar_one()
    city = c.execute(text("SELECT code FROM region WHERE parent_id IS NULL")).scalar_one()
    year = TicketFilter(None, date(2025, 11, 1), None)
    return {
        "a grid's months": lambda: grid_months(c, code, year),
        "hotspots, grids": lambda: hotspot_list(c, "grid", year),
        "hotspots, units": lambda: hotspot_list(c, "unit", year),
        "before/after, a grid": lambda: compare_before_after(c, [code], date(2026, 5, 1), 6),
        "ranking, communities": lambda: load_ranking(c, city, "community", year),
    }


def main() -> None:
    """Time every question against the floor, twice, with the load."""
    with engine_from_settings() as engine, engine.connect() as c:
        counts = (
            c.execute(text("SELECT count(*) FROM event")).scalar_one(),
            c.execute(text("SELECT count(*) FROM unit")).scalar_one(),
        )
        print(f"{counts[0]:,} tickets, {counts[1]:,} units; load {os.getloadavg()[:3]}")
        asked = questions(c)
        for round_ in (1, 2):
            floor = best(lambda: c.execute(text(FLOOR)).scalar())
            print(f"round {round_}: floor (every ticket to its unit) {floor:.0f} ms")
            for name, work in asked.items():
                ms = best(work)
                print(f"  {name:<22} {ms:6.0f} ms  {ms / floor:5.2f}× the floor")
        print(f"load {os.getloadavg()[:3]}")


if __name__ == "__main__":
    main()
