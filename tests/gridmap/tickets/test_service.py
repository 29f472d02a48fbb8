"""Tickets counted by grid, unit and month in PostGIS, on hand-made tickets with known answers.

Two units side by side (100 and 200 households), each its own grid of the current plan, and
six tickets of 2031: one on their shared edge (the lower unit code takes it), one just after
midnight of 1 February in Beijing (still 31 January in UTC), one outside every unit and one
without coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from shapely import Point
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.db import models
from gridmap.db.tickets import TicketFilter, area_totals, monthly_totals, ticket_counts
from gridmap.errors import InvalidInput, NotFound
from gridmap.tickets.service import compare_before_after, grid_months, hotspot_list
from tests import factories as f

YEAR = TicketFilter(since=date(2031, 1, 1), until=date(2032, 1, 1))
NOISE, STALLS = "噪音扰民", "占道经营"


@dataclass(frozen=True)
class Town:
    community: str
    plan: int
    grids: tuple[str, str]
    units: tuple[str, str]


def _ticket(db: Session, kind: str, at: str, where: Point | None) -> None:
    f.add(
        db,
        models.Event(
            kind=kind,
            occurred_at=datetime.fromisoformat(at).astimezone(UTC),
            geom=f.ewkb(where) if where is not None else None,
        ),
    )


@pytest.fixture
def town(db: Session) -> Town:
    db.execute(text("UPDATE plan SET status = 'archived' WHERE status = 'current'"))
    community = f.region(db, geom=f.square(0, 0, size=0.01))
    units = [
        f.unit(db, community, serial=1, geom=f.square(0, 0), households=100),
        f.unit(db, community, serial=2, geom=f.square(1, 0), households=200),
    ]
    plan = f.plan(db, status="current")
    grids = []
    for serial, unit in enumerate(units, start=1):
        grid = f.grid(db, plan, community, serial=serial, geom=f.square(serial - 1, 0))
        grid.households = unit.households
        grids.append(grid)
        f.add(db, models.Assignment(plan_id=plan.id, unit_id=unit.id, grid_id=grid.id))
    edge = Point(f.ORIGIN[0] + 0.001, f.ORIGIN[1] + 0.0005)  # between the two units
    _ticket(db, NOISE, "2031-01-10T09:00:00+08:00", f.point(0.5, 0.5))
    _ticket(db, NOISE, "2031-02-01T01:30:00+08:00", f.point(0.5, 0.5))  # 31 Jan 17:30 UTC
    _ticket(db, STALLS, "2031-02-10T10:00:00+08:00", edge)
    _ticket(db, NOISE, "2031-02-11T10:00:00+08:00", f.point(1.5, 0.5))
    _ticket(db, NOISE, "2031-02-20T10:00:00+08:00", f.point(40, 40))  # outside every unit
    _ticket(db, STALLS, "2031-03-01T10:00:00+08:00", None)  # no coordinates
    _ticket(db, STALLS, "2031-04-02T10:00:00+08:00", f.point(1.5, 0.5))
    other = f.region(db, geom=f.square(3, 0))  # another community's unit: not the region's
    f.unit(db, other, serial=1, geom=f.square(3, 0))
    _ticket(db, NOISE, "2031-02-12T10:00:00+08:00", f.point(3.5, 0.5))
    db.flush()
    return Town(
        community.code,
        plan.id,
        (grids[0].code, grids[1].code),
        (units[0].code, units[1].code),
    )


def _rows(frame) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    return [tuple(r) for r in frame.itertuples(index=False)]


def test_each_ticket_counts_once_in_its_grid_and_its_beijing_month(db: Session, town: Town) -> None:
    g1, g2 = town.grids
    counts = ticket_counts(db.connection(), town.plan, "grid", YEAR, prefix=town.community)
    assert _rows(counts) == [
        (g1, "2031-01", NOISE, 1),
        (g1, "2031-02", STALLS, 1),  # the edge: the lower unit code's
        (g1, "2031-02", NOISE, 1),  # 01:30 in Beijing is February
        (g2, "2031-02", NOISE, 1),
        (g2, "2031-04", STALLS, 1),
    ]
    u1, u2 = town.units
    by_unit = ticket_counts(db.connection(), town.plan, "unit", YEAR, prefix=town.community)
    assert [(c, m, n) for c, m, _, n in _rows(by_unit)] == [
        (u1, "2031-01", 1),
        (u1, "2031-02", 1),
        (u1, "2031-02", 1),
        (u2, "2031-02", 1),
        (u2, "2031-04", 1),
    ]


def test_kinds_and_local_days_filter_the_tickets(db: Session, town: Town) -> None:
    g1, g2 = town.grids
    noise = TicketFilter((NOISE,), date(2031, 1, 1), date(2032, 1, 1))
    counts = ticket_counts(db.connection(), town.plan, "grid", noise, prefix=town.community)
    assert _rows(counts) == [
        (g1, "2031-01", NOISE, 1),
        (g1, "2031-02", NOISE, 1),
        (g2, "2031-02", NOISE, 1),
    ]
    january = TicketFilter(None, date(2031, 1, 1), date(2031, 2, 1))  # to midnight in Beijing
    counts = ticket_counts(db.connection(), town.plan, "grid", january, prefix=town.community)
    assert _rows(counts) == [(g1, "2031-01", NOISE, 1)]


def test_the_city_counts_every_ticket_and_a_region_its_units(db: Session, town: Town) -> None:
    city = monthly_totals(db.connection(), YEAR)
    assert city.to_dict() == {"2031-01": 1, "2031-02": 5, "2031-03": 1, "2031-04": 1}
    region = monthly_totals(db.connection(), YEAR, prefix=town.community)
    assert region.to_dict() == {"2031-01": 1, "2031-02": 3, "2031-04": 1}
    totals = area_totals(db.connection(), town.plan, "grid", YEAR, prefix=town.community)
    g1, g2 = town.grids
    assert totals.tickets.to_dict() == {g1: 3, g2: 2}  # the edge ticket once, in g1
    # of 8 tickets: 1 without coordinates; of the 7 with, 6 in a unit (one in another
    # community's), 1 outside every unit
    assert (totals.without_coordinates, totals.outside_units) == (1, 1)
    units = area_totals(db.connection(), town.plan, "unit", YEAR)
    assert units.tickets.sum() == 6 and len(units.tickets) == 3


def test_a_grids_months_and_kinds_per_thousand_households(db: Session, town: Town) -> None:
    found = grid_months(db.connection(), town.grids[0], YEAR)
    assert found["households"] == 100 and found["tickets"] == 3
    assert found["per_1000_households"] == 30.0
    assert found["by_kind"] == {NOISE: 2, STALLS: 1}
    assert found["months"] == [
        {"month": "2031-01", "tickets": 1, "per_1000_households": 10.0, "by_kind": {NOISE: 1}},
        {
            "month": "2031-02",
            "tickets": 2,
            "per_1000_households": 20.0,
            "by_kind": {STALLS: 1, NOISE: 1},
        },
    ]
    other = grid_months(db.connection(), town.grids[1], YEAR)
    assert (other["households"], other["tickets"], other["per_1000_households"]) == (200, 2, 10.0)
    assert [(m["month"], m["per_1000_households"]) for m in other["months"]] == [
        ("2031-02", 5.0),
        ("2031-04", 5.0),
    ]
    with pytest.raises(NotFound, match="no such grid"):
        grid_months(db.connection(), town.community + "999", YEAR)


def test_hotspots_of_a_region(db: Session, town: Town) -> None:
    # rates: 3 per 100 households = 30, 2 per 200 = 10; the median of the two is 20
    found = hotspot_list(db.connection(), "grid", YEAR, prefix=town.community, percentile=50)
    assert found["threshold"] == 20.0 and found["areas"] == 2 and found["tickets"] == 5
    assert [h["code"] for h in found["hotspots"]] == [town.grids[0]]
    assert found["hotspots"][0]["per_1000_households"] == 30.0
    assert found["unplaced"] is None  # a region's answer says nothing of the city
    units = hotspot_list(db.connection(), "unit", YEAR, prefix=town.community, percentile=50)
    assert [h["code"] for h in units["hotspots"]] == [town.units[0]]


def test_before_and_after_a_change_beside_the_region(db: Session, town: Town) -> None:
    found = compare_before_after(
        db.connection(), [town.grids[0]], date(2031, 2, 15), 1, prefix=town.community
    )
    assert found["month"] == "2031-02"
    assert found["before"] == {"months": {"2031-01": 1}, "tickets": 1}
    assert found["after"] == {"months": {"2031-03": 0}, "tickets": 0}
    assert found["change"] == -1.0
    assert found["reference_before"]["tickets"] == 1 and found["reference_after"]["tickets"] == 0
    both = compare_before_after(
        db.connection(), list(town.grids), date(2031, 3, 5), 2, prefix=town.community
    )
    assert both["before"] == {"months": {"2031-01": 1, "2031-02": 3}, "tickets": 4}
    # the second grid: 1 ticket before and 1 after; its region 4 before and 1 after
    second = compare_before_after(
        db.connection(), [town.grids[1]], date(2031, 3, 5), 2, prefix=town.community
    )
    assert (second["before"]["tickets"], second["after"]["tickets"]) == (1, 1)
    assert (second["change"], second["reference_change"]) == (0.0, -0.75)
    assert second["against_reference"] == 3.0  # held while the region fell to a quarter
    with pytest.raises(NotFound, match="999"):
        compare_before_after(db.connection(), [town.community + "999"], date(2031, 3, 5), 2)
    with pytest.raises(InvalidInput, match="each once"):
        compare_before_after(db.connection(), [town.grids[0]] * 2, date(2031, 3, 5), 2)
    with pytest.raises(InvalidInput, match="months"):
        compare_before_after(db.connection(), [town.grids[0]], date(2031, 3, 5), 0)
