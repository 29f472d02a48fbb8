"""Where a retired grid went: its units' grids in the current plan, on a card's 404 page."""

from __future__ import annotations

from sqlalchemy import text

from gridmap.db.plans import grid_lineage
from gridmap.partition.engine import Bounds
from gridmap.partition.service import partition_plan
from gridmap.plans.lifecycle import accept_plan, new_plan
from gridmap.reports.cards import render_missing
from tests.gridmap.conftest import City


def test_a_retired_grid_points_to_the_grids_its_units_went_to(city: City) -> None:
    connection = city.connection
    old = new_plan(connection, name="old", source=None, author="t")
    partition_plan(connection, old, seed=1)
    accept_plan(connection, old, actor="admin")
    new = new_plan(connection, name="new", source=None, author="t")
    partition_plan(connection, new, seed=2, bounds=Bounds(150, 260, 200, max_residents=None))
    accept_plan(connection, new, actor="admin")
    retired = connection.execute(
        text(f"""
        SELECT code FROM grid WHERE plan_id = {old}
        EXCEPT SELECT code FROM grid WHERE plan_id = {new} ORDER BY 1 LIMIT 1
    """)
    ).scalar_one()
    # independently: the current grids of the retired grid's units, counted
    expected = dict(
        connection.execute(
            text(f"""
        SELECT n.code, count(*) FROM assignment a JOIN grid o ON o.id = a.grid_id
        JOIN assignment b ON b.unit_id = a.unit_id AND b.plan_id = {new}
        JOIN grid n ON n.id = b.grid_id
        WHERE a.plan_id = {old} AND o.code = :c GROUP BY n.code
    """),
            {"c": retired},
        ).all()
    )

    went = grid_lineage(connection, retired)

    assert {g["code"]: g["units"] for g in went} == expected
    page = render_missing(connection, retired)
    assert "已在网格调整中撤销" in page
    assert all(f'href="./{code}"' in page for code in expected)
    assert grid_lineage(connection, "990101999999999") == []
