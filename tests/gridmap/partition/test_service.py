"""Plans on the real demo city: partition, adjust, codes kept, accept, diff, locks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from shapely import LineString, box
from sqlalchemy import text

from gridmap.db import plans as db_plans
from gridmap.errors import Conflict, InvalidInput
from gridmap.partition.engine import Bounds, Case
from gridmap.partition.service import (
    CityUnits,
    across_barriers,
    diff_plans,
    island_reason,
    load_units,
    name_cases,
    partition_plan,
)
from gridmap.plans.lifecycle import accept_plan, new_plan
from tests.gridmap.conftest import City


def test_a_full_partition_gives_a_valid_plan_with_figures(city: City) -> None:
    connection = city.connection
    plan = new_plan(connection, name="全量", source=None, author="test")

    summary = partition_plan(connection, plan, mode="full", seed=1)

    assert summary.grids > 10 and summary.revision == 2
    # Helsinki's units are chunky (up to 500 households each): most grids fit, the rest are
    # each named in a case
    assert summary.in_bounds >= 0.7 * summary.grids
    named = [c for c in summary.cases if c.kind == "out_of_bounds"]
    assert summary.in_bounds + len(named) == summary.grids
    assert city.value(f"SELECT count(*) FROM assignment WHERE plan_id = {plan}") == city.value(
        "SELECT count(*) FROM unit"
    )
    bad = city.value(f"""
        SELECT count(*) FROM grid g WHERE plan_id = {plan} AND (
            NOT ST_IsValid(geom) OR polsby_popper IS NULL OR radius_m IS NULL
            OR left(code, 12) <> (SELECT code FROM region WHERE id = g.community_id))
    """)
    assert bad == 0  # each grid valid, in its community, coded after it, with figures


def test_adjusting_an_accepted_plan_keeps_codes_and_moves_few_units(city: City) -> None:
    connection = city.connection
    first = new_plan(connection, name="现状", source=None, author="test")
    partition_plan(connection, first, mode="full", seed=1)
    accept_plan(connection, first, actor="admin")
    draft = new_plan(connection, name="调整", source=first, author="test")

    tighter = Bounds(
        min_households=250, max_households=420, target_households=350, max_residents=None
    )
    summary = partition_plan(connection, draft, mode="adjust", bounds=tighter, seed=1)
    diff = diff_plans(connection, first, draft)

    assert set(diff["kept"]) and len(diff["kept"]) + len(diff["retired"]) == len(diff["before"])
    assert summary.units_moved == diff["units_moved"]
    # only the grids out of the tighter bounds and their neighbours may change
    city_units = load_units(connection)
    codes = db_plans.plan_content(connection, first).set_index("unit_id")["code"]
    grid_of = codes.loc[city_units.ids].to_numpy()
    before = diff["before"]
    faulty = set(before.index[(before["households"] < 250) | (before["households"] > 420)])
    graph = city_units.units.adjacency.tocoo()
    near = set(grid_of[graph.col[np.isin(grid_of[graph.row], list(faulty))]])
    assert faulty and set(before.index) - near <= set(diff["kept"])
    moved = codes != db_plans.plan_content(connection, draft).set_index("unit_id")["code"]
    assert set(codes[moved]) <= near
    used = set(diff["before"].index)
    assert not (set(diff["new"]) & used)  # no code reused
    assert city.value(f"SELECT status FROM plan WHERE id = {first}") == "current"


def test_accepting_archives_the_old_current_plan_in_one_go(city: City) -> None:
    connection = city.connection
    a = new_plan(connection, name="a", source=None, author="t")
    partition_plan(connection, a, seed=1)
    accept_plan(connection, a, actor="admin")
    b = new_plan(connection, name="b", source=a, author="t")
    accept_plan(connection, b, actor="admin")
    statuses = connection.execute(
        text(f"SELECT id, status FROM plan WHERE id IN ({a}, {b}) ORDER BY id")
    ).all()
    assert statuses == [(a, "archived"), (b, "current")]
    assert city.value("SELECT count(*) FROM audit WHERE action = 'accept'") >= 2
    with pytest.raises(Conflict):
        accept_plan(connection, a, actor="admin")
    with pytest.raises(Conflict):
        partition_plan(connection, b)


def test_locked_grids_never_change(city: City) -> None:
    connection = city.connection
    plan = new_plan(connection, name="p", source=None, author="t")
    partition_plan(connection, plan, seed=1)
    code, units = connection.execute(
        text(f"""
        SELECT g.code, array_agg(a.unit_id ORDER BY a.unit_id) FROM grid g
        JOIN assignment a ON a.grid_id = g.id WHERE g.plan_id = {plan}
        GROUP BY g.code ORDER BY g.code LIMIT 1
    """)
    ).one()
    connection.execute(
        text(f"UPDATE grid SET locked = true WHERE plan_id = {plan} AND code = '{code}'")
    )

    partition_plan(connection, plan, seed=7, bounds=Bounds(200, 350, 280, max_residents=None))

    after = connection.execute(
        text(f"""
        SELECT array_agg(a.unit_id ORDER BY a.unit_id), bool_and(g.locked) FROM grid g
        JOIN assignment a ON a.grid_id = g.id WHERE g.plan_id = {plan} AND g.code = '{code}'
    """)
    ).one()
    assert after == (units, True)


def test_bad_requests_are_refused(city: City) -> None:
    plan = new_plan(city.connection, name="p", source=None, author="t")
    with pytest.raises(InvalidInput, match="mode"):
        partition_plan(city.connection, plan, mode="sideways")
    with pytest.raises(InvalidInput, match="no grids to adjust"):
        partition_plan(city.connection, plan, mode="adjust")
    with pytest.raises(InvalidInput, match="no grids"):
        accept_plan(city.connection, plan, actor="admin")


def test_acceptance_is_atomic(city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    connection = city.connection
    a = new_plan(connection, name="a", source=None, author="t")
    partition_plan(connection, a, seed=1)
    accept_plan(connection, a, actor="admin")
    b = new_plan(connection, name="b", source=a, author="t")

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr("gridmap.plans.lifecycle.plan_rows.add_audit", fail)
    attempt = connection.begin_nested()  # what the CLI's one transaction is
    with pytest.raises(RuntimeError):
        accept_plan(connection, b, actor="admin")
    attempt.rollback()

    statuses = dict(
        connection.execute(text(f"SELECT id, status FROM plan WHERE id IN ({a}, {b})")).all()
    )
    assert statuses == {a: "current", b: "draft"}


def test_no_grid_reaches_across_a_trunk_road_or_water() -> None:
    from shapely import LineString, box

    from gridmap.partition.service import across_barriers

    polygons = np.array(
        [box(0, 0, 100, 100), box(100, 0, 200, 100), box(0, 100, 100, 200)], dtype=object
    )
    trunk = np.array([LineString([(100, -50), (100, 150)])], dtype=object)  # between 0 and 1

    crossing = across_barriers(polygons, np.array([0, 0]), np.array([1, 2]), trunk)

    assert crossing.tolist() == [True, False]
    assert not across_barriers(
        polygons, np.array([0]), np.array([1]), np.empty(0, dtype=object)
    ).any()


def test_two_barriers_side_by_side_count_once_along_a_boundary() -> None:
    """A 100 m boundary with two roads 2 m apart along its first 40 m: 40 m of it lies along a
    barrier (not 80 m), under half: the pair stays linked. A third road along the next 20 m
    makes 60 m, over half: across. Worked out by hand from the lines."""
    from shapely import LineString, box

    from gridmap.partition.service import across_barriers

    polygons = np.array([box(0, 0, 100, 100), box(100, 0, 200, 100)], dtype=object)
    pair = (np.array([0]), np.array([1]))
    side_by_side = np.array(
        [LineString([(101, 0), (101, 40)]), LineString([(99, 0), (99, 40)])], dtype=object
    )
    assert not across_barriers(polygons, *pair, side_by_side).any()
    third = np.array([*side_by_side, LineString([(100, 40), (100, 60)])], dtype=object)
    assert across_barriers(polygons, *pair, third).all()
    # far from the boundary: no part of it lies along a barrier
    far = np.array([LineString([(50, 0), (50, 100)])], dtype=object)
    assert not across_barriers(polygons, *pair, far).any()


def test_rural_communities_keep_their_own_bounds() -> None:
    from gridmap.partition.service import community_kind, kind_bounds

    given = Bounds(200, 350, 280, max_residents=None, radius_m=600)
    by_kind = kind_bounds(given)

    assert by_kind["urban"] == by_kind["suburban"] == given
    assert (by_kind["rural"].min_households, by_kind["rural"].max_households) == (200, 400)
    assert by_kind["rural"].radius_m == 600
    assert community_kind("510107203004") == "rural"


def test_a_radius_on_foot_is_measured_on_the_walking_network(city: City) -> None:
    from gridmap.partition.service import with_walks

    connection = city.connection
    units = with_walks(connection, load_units(connection), 600).units
    pairs = units.walks.metres.tocoo()
    straight = np.hypot(*(units.xy[pairs.row] - units.xy[pairs.col]).T)
    assert len(pairs.data) > len(units) and (pairs.data >= straight - 1e-6).all()
    assert units.walks.measurable.mean() > 0.95  # Helsinki's units lie by its paths

    plan = new_plan(connection, name="步行半径", source=None, author="test")
    on_foot = Bounds(radius_m=400, radius_by="walk", max_residents=None)
    summary = partition_plan(connection, plan, bounds=on_foot, seed=1)
    straight_plan = new_plan(connection, name="直线半径", source=None, author="test")
    in_line = partition_plan(
        connection, straight_plan, seed=1, bounds=Bounds(radius_m=400, max_residents=None)
    )

    far = [c for c in summary.cases if c.kind == "radius"]
    assert far and all("on foot" in c.message for c in far)
    assert len(far) >= len([c for c in in_line.cases if c.kind == "radius"])
    saved = city.value(
        f"SELECT parameters->'bounds'->'urban'->>'radius_by' FROM plan WHERE id = {plan}"
    )
    assert saved == "walk"


def test_a_region_is_re_partitioned_alone_and_every_other_grid_kept(city: City) -> None:
    connection = city.connection
    first = new_plan(connection, name="现状", source=None, author="test")
    partition_plan(connection, first, mode="full", seed=1)
    draft = new_plan(connection, name="只改一个社区", source=first, author="test")
    community = city.value(
        "SELECT code FROM region WHERE level = 'community' ORDER BY code LIMIT 1"
    )
    before = db_plans.plan_content(connection, draft).set_index("unit_id")["code"]

    partition_plan(
        connection,
        draft,
        mode="full",
        seed=5,
        region=community,
        bounds=Bounds(200, 350, 280, max_residents=None),
    )

    after = db_plans.plan_content(connection, draft).set_index("unit_id")["code"]
    inside = before.index[before.str.startswith(community)]
    outside = before.index.difference(inside)
    assert len(inside) and len(outside)
    assert after.loc[outside].equals(before.loc[outside])  # not one unit outside moved
    assert after.loc[inside].str.startswith(community).all()
    assert after.loc[inside].ne(before.loc[inside]).any()  # the new bounds changed the region
    with pytest.raises(InvalidInput, match="no unit lies in region"):
        partition_plan(connection, draft, region="999999999")
    empty = new_plan(connection, name="空", source=None, author="test")
    with pytest.raises(InvalidInput, match="in no grid"):
        partition_plan(connection, empty, region=community)


def test_an_empty_draft_inherits_the_current_plans_codes(city: City) -> None:
    connection = city.connection
    a = new_plan(connection, name="a", source=None, author="t")
    partition_plan(connection, a, seed=1)
    accept_plan(connection, a, actor="admin")
    b = new_plan(connection, name="b", source=None, author="t")  # empty, no parent

    summary = partition_plan(connection, b, seed=1)  # the same units, the same seed

    diff = diff_plans(connection, a, b)
    assert summary.units_moved == 0
    assert diff["new"] == [] and diff["retired"] == [] and len(diff["kept"]) == summary.grids


def _little_city(barred: list[tuple[int, int]] = ()) -> CityUnits:
    """Units 0-2 of community A in a row, 3 touching 2 at a corner only, 4 of community B."""
    polygons = np.array(
        [
            box(0, 0, 100, 100),
            box(100, 0, 200, 100),
            box(200, 0, 300, 100),
            box(300, 100, 400, 200),
            box(400, 100, 500, 200),
        ]
    )
    pairs = np.array(barred or [(0, 0)]).T
    matrix = csr_matrix(
        (np.ones(pairs.shape[1]) if barred else np.zeros(1), (pairs[0], pairs[1])), shape=(5, 5)
    )
    codes = np.array([f"U{i}" for i in range(5)], dtype=object)
    communities = np.array(["A"] * 4 + ["B"])
    return CityUnits(np.arange(5), communities, None, None, codes, polygons, matrix)  # type: ignore[arg-type]


def test_cases_name_codes_and_say_why_a_unit_is_an_island() -> None:
    city = _little_city()
    cases = [
        Case(
            "island",
            0,
            (3,),
            "",
            "unit {unit} is linked to no other unit of its community: it is a grid of its own",
        ),
        Case("out_of_bounds", 0, (0, 1), "", "grid {grid}: 900 households", grid=1),
        Case("undersize_community", 0, (4,), "", "community {community} holds 10"),
    ]
    labels = np.array([0, 1, 1, 2, 3])
    codes = np.array(["G0", "G1", "G1", "G2", "G3"], dtype=object)

    named = [c.message for c in name_cases(city, cases, labels, codes)]

    assert named == [
        "unit U3 is linked to no other unit of its community: it is a grid of its own "
        "(it touches the other units of its community only at a corner)",
        "grid G1: 900 households",
        "community B holds 10",
    ]
    assert island_reason(_little_city([(1, 2), (2, 1)]), 2).startswith("a motorway or water")
    assert island_reason(city, 4) == "it touches only units of other communities (A)"


def test_a_barrier_in_a_narrow_gap_between_two_blocks_parts_them() -> None:
    polygons = np.array([box(0, 0, 100, 100), box(110, 0, 210, 100), box(0, 110, 60, 210)])
    river = np.array([LineString([(105, -50), (105, 150)])])  # runs between the first two

    crossing = across_barriers(polygons, np.array([0, 0]), np.array([1, 2]), river)

    assert crossing.tolist() == [True, False]
