"""Ticket statistics as pure functions: counts in, rates and comparisons out.

A rate is tickets per 1,000 households (none for an area without households). A hotspot is an
area whose rate lies above the city's :data:`~gridmap.standards.HOTSPOT_PERCENTILE` th
percentile of rates (numpy's linear interpolation, over the areas with households, those
without tickets included). Before and after compares the whole calendar months before the month
of a change with those after it; the month of the change itself is left out (it holds both).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from gridmap.standards import HOTSPOT_PERCENTILE


def per_thousand(tickets: np.ndarray | pd.Series, households: np.ndarray | pd.Series) -> np.ndarray:
    """Return tickets per 1,000 households; NaN where there are no households."""
    t = np.asarray(tickets, dtype=float)
    h = np.asarray(households, dtype=float)
    out = np.full(t.shape, np.nan)
    np.divide(t * 1000.0, h, out=out, where=h > 0)
    return out


@dataclass(frozen=True)
class Hotspots:
    """Each area's tickets, households and rate, whether it stands out, and the threshold."""

    areas: pd.DataFrame  # code, tickets, households, rate, hot; the highest rates first
    threshold: float | None  # the city's percentile of rates (None: no area with households)
    percentile: float


def hotspots(areas: pd.DataFrame, percentile: float = HOTSPOT_PERCENTILE) -> Hotspots:
    """Return the areas (``code``, ``tickets``, ``households``) ranked, hotspots marked.

    An area is hot when its rate is strictly above the threshold: where most areas have no
    ticket the threshold is 0 and every area with one is hot, as it stands out.
    """
    if not 0 <= percentile <= 100:
        raise ValueError(f"percentile must lie within 0–100, not {percentile}")
    out = areas.loc[:, ["code", "tickets", "households"]].copy()
    out["rate"] = per_thousand(out["tickets"], out["households"])
    rates = out["rate"].to_numpy()
    known = rates[~np.isnan(rates)]
    threshold = float(np.percentile(known, percentile)) if len(known) else None
    out["hot"] = (rates > threshold) if threshold is not None else False
    out = out.sort_values(["rate", "tickets", "code"], ascending=[False, False, True])
    return Hotspots(out.reset_index(drop=True), threshold, percentile)


def month_of(day: date) -> str:
    """Return the month of ``day`` as ``YYYY-MM``."""
    return f"{day.year:04d}-{day.month:02d}"


def months_around(day: date, months: int) -> tuple[list[str], str, list[str]]:
    """Return the ``months`` whole months before ``day``'s month, that month, and those after."""
    if months < 1:
        raise ValueError(f"months must be at least 1, not {months}")
    centre = pd.Period(month_of(day), freq="M")
    before = [str(centre - k) for k in range(months, 0, -1)]
    after = [str(centre + k) for k in range(1, months + 1)]
    return before, str(centre), after


@dataclass(frozen=True)
class Side:
    """Tickets in a run of months: each month's count and their sum."""

    months: dict[str, int]
    total: int


@dataclass(frozen=True)
class BeforeAfter:
    """The chosen areas' tickets and the city's, before and after the month of a change."""

    month: str
    before: Side
    after: Side
    change: float | None  # after / before − 1 (None: no ticket before)
    city_before: Side
    city_after: Side
    city_change: float | None
    against_city: float | None  # (after / before) / (city after / city before) − 1


def _side(counts: pd.Series, months: list[str]) -> Side:
    values = {m: int(counts.get(m, 0)) for m in months}
    return Side(values, sum(values.values()))


def _ratio(after: int, before: int) -> float | None:
    return after / before if before else None


def before_after(chosen: pd.Series, city: pd.Series, day: date, months: int) -> BeforeAfter:
    """Compare ticket counts per month (``YYYY-MM`` → count) around ``day``.

    ``chosen`` holds the areas' counts, ``city`` the city's (the areas' included).
    """
    before, month, after = months_around(day, months)
    mine = (_side(chosen, before), _side(chosen, after))
    theirs = (_side(city, before), _side(city, after))
    own = _ratio(mine[1].total, mine[0].total)
    trend = _ratio(theirs[1].total, theirs[0].total)
    return BeforeAfter(
        month=month,
        before=mine[0],
        after=mine[1],
        change=None if own is None else own - 1,
        city_before=theirs[0],
        city_after=theirs[1],
        city_change=None if trend is None else trend - 1,
        against_city=None if own is None or not trend else own / trend - 1,
    )
