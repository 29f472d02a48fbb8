"""Ticket figures for the API, the CLI and reports: a grid's months, hotspots, before and after.

Each function reads through :mod:`gridmap.db.tickets` and computes with
:mod:`gridmap.tickets.stats`. ``prefix`` holds everything to a region (its code): the areas
listed, and the reference they are measured against (the city, or the region for a key held to
one, so that no figure of the rest of the city leaves).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from gridmap.db import tickets as ticket_rows
from gridmap.db.plans import the_current_plan
from gridmap.db.tickets import TicketFilter
from gridmap.errors import InvalidInput, NotFound
from gridmap.standards import HOTSPOT_PERCENTILE
from gridmap.tickets.bins import bin_size, checked_bbox
from gridmap.tickets.stats import Side, before_after, hotspots, months_around, per_thousand

MAX_MONTHS = 36
"""The most months on either side of a change that before-and-after compares."""
MAX_KIND = 64
"""The longest ticket kind (``event.kind``'s length)."""


def ticket_filter(
    kinds: list[str] | tuple[str, ...] | None, since: date | None, until: date | None
) -> TicketFilter:
    """Return the filter of the tickets asked for, each part checked.

    Raises
    ------
    InvalidInput
        Naming ``kind`` (not 1–64 printable characters) or ``until`` (not after ``since``).
    """
    for k in kinds or ():
        if not 0 < len(k) <= MAX_KIND or not k.isprintable():
            raise InvalidInput(
                f"kind: {k[:MAX_KIND]!r} is not a ticket kind (1–64 printable characters)"
            )
    if since is not None and until is not None and until <= since:
        raise InvalidInput(f"until: {until} is not after since ({since})")
    return TicketFilter(tuple(kinds) if kinds else None, since, until)


def _rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), digits)


def grid_months(connection: Connection, code: str, tickets: TicketFilter) -> dict[str, Any]:
    """Return grid ``code``'s tickets (current plan) by month and by kind, per 1,000 households."""
    plan = the_current_plan(connection)
    area = ticket_rows.area_households(connection, plan, "grid", prefix=code)
    area = area.loc[area["code"] == code]
    if area.empty:
        raise NotFound(f"grid {code}: no such grid in the current plan")
    households = int(area["households"].iloc[0])
    counts = ticket_rows.ticket_counts(connection, plan, "grid", tickets, prefix=code, grids=[code])
    counts = counts.loc[counts["code"] == code]
    months = counts.pivot_table(
        index="month", columns="kind", values="tickets", aggfunc="sum", fill_value=0
    )
    rows = []
    for month, by_kind in months.iterrows():  # one row per month: a year is twelve
        total = int(by_kind.sum())
        rows.append(
            {
                "month": str(month),
                "tickets": total,
                "per_1000_households": _rounded(per_thousand([total], [households])[0]),
                "by_kind": {str(k): int(n) for k, n in by_kind.items() if n},
            }
        )
    total = int(counts["tickets"].sum())
    by_kind = counts.groupby("kind")["tickets"].sum().sort_values(ascending=False)
    return {
        "grid": code,
        "name": area["name"].iloc[0],
        "households": households,
        "tickets": total,
        "per_1000_households": _rounded(per_thousand([total], [households])[0]),
        "by_kind": {str(k): int(n) for k, n in by_kind.items()},
        "months": rows,
    }


def hotspot_list(
    connection: Connection,
    level: str,
    tickets: TicketFilter,
    *,
    prefix: str = "",
    percentile: float = HOTSPOT_PERCENTILE,
) -> dict[str, Any]:
    """Return the grids (current plan) or units whose ticket rate stands out, highest first."""
    plan = the_current_plan(connection)
    areas = ticket_rows.area_households(connection, plan, level, prefix=prefix)
    totals = ticket_rows.area_totals(connection, plan, level, tickets, prefix=prefix)
    areas["tickets"] = areas["code"].map(totals.tickets).fillna(0).astype(int)
    found = hotspots(areas, percentile)
    hot = found.areas.loc[found.areas["hot"]].merge(areas[["code", "name"]], on="code")
    return {
        "level": level,
        "reference": prefix or "city",
        "statistic": f"tickets per 1,000 households above the {percentile:g}th percentile "
        f"of the {'region' if prefix else 'city'}'s {level}s with households",
        "percentile": percentile,
        "threshold": _rounded(found.threshold),
        "areas": len(areas),
        "tickets": int(areas["tickets"].sum()),
        "hotspots": [
            {
                "code": r.code,
                "name": r.name,
                "tickets": int(r.tickets),
                "households": int(r.households),
                "per_1000_households": _rounded(r.rate),
            }
            for r in hot.itertuples()
        ],
        "unplaced": None
        if prefix
        else {
            "without_coordinates": totals.without_coordinates,
            "outside_units": totals.outside_units,
        },
    }


def _side(side: Side) -> dict[str, Any]:
    return {"months": side.months, "tickets": side.total}


def compare_before_after(
    connection: Connection,
    codes: list[str],
    day: date,
    months: int,
    kinds: tuple[str, ...] | None = None,
    *,
    prefix: str = "",
) -> dict[str, Any]:
    """Return the tickets of grids ``codes`` in the months before and after ``day``'s month."""
    if not 1 <= months <= MAX_MONTHS:
        raise InvalidInput(f"months: give 1 to {MAX_MONTHS}, not {months}")
    if not codes or len(set(codes)) != len(codes):
        raise InvalidInput("grids: give one or more grid codes, each once")
    plan = the_current_plan(connection)
    known = set(ticket_rows.area_households(connection, plan, "grid", prefix=prefix)["code"])
    missing = [c for c in codes if c not in known]
    if missing:
        raise NotFound(f"grids: {', '.join(missing)} not in the current plan")
    before, _, after = months_around(day, months)
    first, last = pd.Period(before[0], freq="M"), pd.Period(after[-1], freq="M")
    window = TicketFilter(kinds, first.start_time.date(), (last + 1).start_time.date())
    counts = ticket_rows.ticket_counts(connection, plan, "grid", window, prefix=prefix, grids=codes)
    chosen = counts.loc[counts["code"].isin(codes)].groupby("month")["tickets"].sum()
    reference = ticket_rows.monthly_totals(connection, window, prefix=prefix)
    found = before_after(chosen, reference, day, months)
    return {
        "grids": codes,
        "date": day.isoformat(),
        "month": found.month,
        "reference": prefix or "city",
        "before": _side(found.before),
        "after": _side(found.after),
        "change": _rounded(found.change, 4),
        "reference_before": {
            "months": found.city_before.months,
            "tickets": found.city_before.total,
        },
        "reference_after": {"months": found.city_after.months, "tickets": found.city_after.total},
        "reference_change": _rounded(found.city_change, 4),
        "against_reference": _rounded(found.against_city, 4),
    }


def ticket_hexagons(
    connection: Connection,
    bbox: tuple[float, float, float, float],
    zoom: int,
    tickets: TicketFilter,
    *,
    prefix: str = "",
) -> str:
    """Return the GeoJSON FeatureCollection (text) of the hexagons over ``bbox`` with tickets.

    The hexagons' size follows ``zoom`` (:func:`gridmap.tickets.bins.bin_size`); each feature
    has its ``tickets``; the collection its ``zoom``, hexagon ``size_m`` and ``tickets`` in all.
    """
    box = checked_bbox(bbox, zoom)
    size = bin_size(zoom)
    features, total = ticket_rows.hexagon_counts(connection, box, size, tickets, prefix=prefix)
    head = json.dumps(
        {"type": "FeatureCollection", "zoom": zoom, "size_m": round(size, 3), "tickets": total}
    )
    return f'{head[:-1]}, "features": {features}}}'
