"""Plan rows read by other services: the current plan, and the units a plan leaves out."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import text

from gridmap.db.plan_grids import SERIAL_DIGITS, next_grid_codes
from gridmap.db.plans import the_current_plan, units_without_grid
from gridmap.errors import NotFound
from gridmap.partition.service import partition_plan
from gridmap.plans.lifecycle import accept_plan, new_plan
from tests.gridmap.conftest import City


def accepted(city: City) -> int:
    """A plan of the whole city, partitioned and accepted: the current plan."""
    plan = new_plan(city.connection, name="p", source=None, author="t")
    partition_plan(city.connection, plan, seed=1)
    accept_plan(city.connection, plan, actor="admin")
    return plan


def test_the_current_plan_is_the_one_with_that_status_or_none_is(city: City) -> None:
    connection = city.connection
    with pytest.raises(NotFound, match=r"^there is no current plan: accept one first$"):
        the_current_plan(connection)  # the city as built: no plan yet
    accepted(city)
    plans = pd.read_sql(text("SELECT id, status FROM plan"), connection)
    (current,) = plans.loc[plans["status"] == "current", "id"].tolist()
    assert the_current_plan(connection) == current
    connection.execute(text("UPDATE plan SET status = 'archived' WHERE id = :p"), {"p": current})
    with pytest.raises(NotFound, match=r"^there is no current plan: accept one first$"):
        the_current_plan(connection)


def test_units_in_no_grid_are_counted_outside_the_region_named(city: City) -> None:
    connection = city.connection
    plan = accepted(city)
    units = pd.read_sql(
        text("SELECT u.id, r.code FROM unit u JOIN region r ON r.id = u.community_id"), connection
    )
    first, second = sorted(units["code"].unique())[:2]
    assert units_without_grid(connection, plan, outside=first) == 0  # every unit has its grid
    connection.execute(  # the first two communities' units lose their grids
        text("DELETE FROM assignment WHERE plan_id = :p AND unit_id = ANY(:u)"),
        {"p": plan, "u": units.loc[units["code"].isin([first, second]), "id"].tolist()},
    )
    assert units_without_grid(connection, plan, outside=first) == (units["code"] == second).sum()
    assert units_without_grid(connection, plan, outside=second) == (units["code"] == first).sum()
    assert units_without_grid(connection, plan, outside=first[:-3]) == 0  # the street: both
    other = connection.execute(text("SELECT max(id) + 1 FROM plan")).scalar_one()
    assert units_without_grid(connection, other, outside=first) == (units["code"] != first).sum()


def test_new_grid_codes_follow_the_largest_serial_of_any_plan(city: City) -> None:
    connection = city.connection
    accepted(city)
    codes = pd.read_sql(
        text(
            "SELECT g.code, r.code AS community FROM grid g JOIN region r ON r.id = g.community_id"
        ),
        connection,
    )
    community = sorted(codes["community"].unique())[0]
    mine = codes.loc[codes["community"] == community, "code"].tolist()
    serials = [int(c[len(community) :]) for c in mine]
    after = max(serials)
    assert next_grid_codes(connection, community, 3) == [
        f"{community}{after + i:0{SERIAL_DIGITS}d}" for i in (1, 2, 3)
    ]
    connection.execute(  # a grid given a larger serial (as a retired one may hold) counts
        text("UPDATE grid SET code = :c WHERE code = :old"),
        {"c": f"{community}{after + 10:0{SERIAL_DIGITS}d}", "old": mine[0]},
    )
    assert next_grid_codes(connection, community, 1) == [
        f"{community}{after + 11:0{SERIAL_DIGITS}d}"
    ]
