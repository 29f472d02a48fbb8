"""Benchmark: the hotline-ticket questions against the plain floor, on the city in the state dir.

Each question (a grid's months, hotspots of grids and of units, before and after a change,
the ranking of the city's communities) is timed against the floor every one of them needs:
the plain join of every ticket to the unit it lies in (``count(*)`` of ``event JOIN unit ON
ST_Intersects``). The hexagons of the map below zoom 15 (the whole city in view, at the zooms
that hold it, and a 1920 × 1080 screen at zoom 14) are timed against their own floor: the
plain count of tickets per ``ST_HexagonGrid`` hexagon over the same box (no filter, no single
hexagon per ticket, no GeoJSON), and against reading every ticket in the box as points (what
drawing them without hexagons would fetch).
Contenders alternate, best of 3, twice; the load is printed.

    GRIDMAP_STATE_DIR=/work/state100k gridmap synth --buildings 100000 --seed 1
    gridmap plan new --name t && gridmap partition --plan 1 && gridmap plan accept 1
    GRIDMAP_STATE_DIR=/work/state100k .venv/bin/python bench/tickets/run.py
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from datetime import date

from sqlalchemy import Connection, text

from gridmap.cli.common import engine_from_settings
from gridmap.db.tickets import TicketFilter
from gridmap.errors import InvalidInput
from gridmap.reports.ranking import load_ranking
from gridmap.tickets.bins import TILE_PX, bin_size, checked_bbox
from gridmap.tickets.service import (
    compare_before_after,
    grid_months,
    hotspot_list,
    ticket_hexagons,
)

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


HEXAGON_FLOOR = """
    SELECT h.i, h.j, count(*) FROM ST_HexagonGrid(:size, ST_Transform(
        ST_MakeEnvelope(:w, :s, :e, :n, 4326), 3857)) h
    JOIN event e ON e.geom && ST_Transform(h.geom, 4326)
        AND ST_Intersects(h.geom, ST_Transform(e.geom, 3857))
    GROUP BY 1, 2
"""
POINTS = (
    "SELECT ST_AsGeoJSON(geom, 6) FROM event WHERE geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326)"
)


SCREEN_PX = (1920, 1080)
"""A planner's screen: the view the hexagons of zoom 14 are timed over."""


def screen_box(x: float, y: float, zoom: int) -> tuple[float, ...]:
    """Return the box a screen of :data:`SCREEN_PX` shows at ``zoom``, centred on ``x, y``."""
    degrees = 360 / (TILE_PX * 2**zoom)  # per pixel, east to west
    half_w, half_h = (
        SCREEN_PX[0] / 2 * degrees,
        SCREEN_PX[1] / 2 * degrees * math.cos(math.radians(y)),
    )
    return (x - half_w, y - half_h, x + half_w, y + half_h)


def hexagon_rounds(c: Connection) -> None:
    """Time the hexagons of the whole city (zooms that hold it) and of a screen at zoom 14."""
    city = tuple(
        c.execute(
            text(
                "SELECT ST_XMin(x), ST_YMin(x), ST_XMax(x), ST_YMax(x) "
                "FROM (SELECT ST_Extent(geom) AS x FROM unit) b"
            )
        ).one()
    )
    views = [(f"city z{z}", city, z) for z in (11, 12, 14) if within_bins(city, z)]
    centre = ((city[0] + city[2]) / 2, (city[1] + city[3]) / 2)
    views.append(("screen z14", screen_box(*centre, 14), 14))
    for name, box, zoom in views:
        bound = dict(zip("wsen", box, strict=True))
        points = best(lambda: c.execute(text(POINTS), bound).all())  # noqa: B023
        hexagons_at(c, name, box, bound, zoom, points)


def within_bins(box: tuple[float, ...], zoom: int) -> bool:
    """Say whether the hexagons of ``zoom`` may span ``box``."""
    try:
        checked_bbox(box, zoom)  # type: ignore[arg-type]
    except InvalidInput:
        return False
    return True


def hexagons_at(
    c: Connection,
    name: str,
    box: tuple[float, ...],
    bound: dict[str, float],
    zoom: int,
    points: float,
) -> None:
    """Time the hexagons at ``zoom`` against the plain count, and print both with the points."""
    plain = {**bound, "size": bin_size(zoom)}
    floor = best(lambda: c.execute(text(HEXAGON_FLOOR), plain).all())
    found: list[str] = []
    ms = best(lambda: found.append(ticket_hexagons(c, box, zoom, TicketFilter())))  # type: ignore[arg-type]
    print(
        f"  hexagons, {name} ({len(json.loads(found[0])['features']):,}): {ms:5.0f} ms, "
        f"{ms / floor:4.2f}× the plain count ({floor:.0f} ms), "
        f"{ms / points:4.2f}× reading the points ({points:.0f} ms)"
    )


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
            hexagon_rounds(c)
        print(f"load {os.getloadavg()[:3]}")


if __name__ == "__main__":
    main()
