"""A service radius on foot: walks between units on the network, and grids cut by them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import shapely

from gridmap.network import WalkNetwork
from gridmap.partition.engine import Bounds, grid_radius, partition
from gridmap.partition.walking import unit_walks, walking_radius
from tests.gridmap.partition.test_engine import check_valid, lattice

# A street 20 m south of a row of twelve units 100 m apart (x = 0 … 1,100), broken by a
# river between x = 560 and 620: the only way across is a bridge 980 m downstream. Unit 6
# (x = 600) snaps to the street's corner at x = 620.
NODES = np.array(
    [[0, -20], [560, -20], [560, -1000], [620, -1000], [620, -20], [1100, -20]], dtype=float
)
ROUND = 980 + 60 + 980  # down to the bridge, across, and back
SIX = np.hypot(20, 20)  # unit 6's snap
EDGES = np.array([[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]])


def network() -> WalkNetwork:
    lines = shapely.linestrings(np.stack([NODES[EDGES[:, 0]], NODES[EDGES[:, 1]]], axis=1))
    return WalkNetwork.from_arrays(
        np.arange(6), NODES, EDGES[:, 0], EDGES[:, 1], shapely.length(lines), lines
    )


def units_on_foot(cutoff_m: float):  # type: ignore[no-untyped-def]
    row = lattice(12, 1, np.full(12, 38))  # 456 households in one community
    walks = unit_walks(network(), shapely.points(row.xy), cutoff_m=cutoff_m)
    return row, walks


def test_walks_go_round_by_the_bridge_and_straight_along_one_street() -> None:
    _, walks = units_on_foot(4000)
    metres = walks.metres.toarray()

    assert metres[5, 6] == pytest.approx(20 + 60 + ROUND + SIX)
    assert metres[0, 1] == pytest.approx(20 + 100 + 20)  # both on the first street
    assert metres[0, 11] == pytest.approx(20 + 560 + ROUND + 480 + 20)
    assert np.allclose(metres, metres.T) and walks.measurable.all()
    short = units_on_foot(1000)[1].metres
    assert short[5, 6] == 0  # beyond the cutoff: no entry
    assert short[0, 5] == pytest.approx(20 + 500 + 20)


def test_the_radius_on_foot_is_from_the_best_placed_member() -> None:
    _, walks = units_on_foot(4000)
    one, halves = np.zeros(12, dtype=np.int64), np.repeat([0, 1], 6)

    # from x = 200 (or 300) to the far end; from x = 900 back to unit 6
    assert walks.radius(halves) == pytest.approx([20 + 300 + 20, 20 + 280 + SIX])
    assert walks.radius(one)[0] == pytest.approx(20 + 60 + ROUND + 480 + 20)  # from x = 500
    cut = units_on_foot(1000)[1]
    assert cut.radius(one)[0] == np.inf  # no member reaches every other within the cutoff
    assert walking_radius(cut.metres, one, np.zeros(12, dtype=bool))[0] == 0


def test_a_radius_on_foot_cuts_the_grid_at_the_river() -> None:
    row, walks = units_on_foot(700)
    bounds = Bounds(200, 500, 400, max_residents=None, radius_m=700, radius_by="walk")
    straight = partition(row, Bounds(200, 500, 400, max_residents=None, radius_m=700), seed=1)
    on_foot = partition(replace(row, walks=walks), bounds, seed=1)

    assert straight.n_grids == 1 and straight.cases == []  # 550 m in a straight line
    assert on_foot.n_grids == 2 and on_foot.cases == []
    assert len(set(on_foot.labels[:6])) == 1 and set(on_foot.labels[:6]).isdisjoint(
        on_foot.labels[6:]
    )
    check_valid(row, on_foot.labels)


def test_a_grid_beyond_the_radius_on_foot_is_reported_as_such() -> None:
    row, walks = units_on_foot(500)
    tight = Bounds(300, 500, 400, max_residents=None, radius_m=500, radius_by="walk")
    walking = replace(row, walks=walks)

    result = partition(walking, tight, seed=1)

    assert result.n_grids == 1  # 456 households: no second grid fits the minimum
    (case,) = result.cases
    assert case.kind == "radius" and case.message == (
        "grid 0 has no unit from which every other is within the 500 m service radius on foot; "
        "more, smaller grids (a lower maximum) or a new path would bring it in"
    )
    assert grid_radius(walking, result.labels)[0] == np.inf
    straight = partition(row, replace(tight, radius_by="straight"), seed=1)
    (case,) = straight.cases  # units 100 m apart from x = 0 to 1,100: 550 m from the middle
    assert case.message == (
        "grid 0 reaches 550 m in a straight line from its centre, beyond the 500 m service "
        "radius; more, smaller grids (a lower maximum) or a new path would bring it in"
    )


def test_an_unknown_radius_measure_is_refused() -> None:
    from gridmap.errors import InvalidInput

    with pytest.raises(InvalidInput, match="radius_by"):
        Bounds(radius_m=600, radius_by="crow")


def test_a_subset_of_units_keeps_each_field_of_the_units_it_picks_in_their_order() -> None:
    row, walks = units_on_foot(4000)
    n = len(row)
    units = replace(
        row,
        households=np.arange(n, dtype=np.int64) + 10,
        residents=np.arange(n, dtype=np.int64) * 3,
        community=np.arange(n, dtype=np.int64) % 2,
        load=np.arange(n) + 0.5,
        area=np.arange(n) * 100.0 + 1,
        perimeter=np.arange(n) * 4.0 + 2,
        walks=walks,
    )
    members = np.array([7, 2, 3])  # out of order: the subset is numbered in this order
    sub = units.subset(members)
    dense = units.adjacency.toarray()
    assert (sub.adjacency.toarray() == dense[np.ix_(members, members)]).all()
    assert sub.adjacency[1, 2] == 1 and sub.adjacency[0, 1] == 0  # units 2 and 3 are neighbours
    assert sub.households.tolist() == [17, 12, 13]
    assert sub.residents.tolist() == [21, 6, 9]
    assert sub.xy.tolist() == [[700.0, 0.0], [200.0, 0.0], [300.0, 0.0]]
    assert sub.community.tolist() == [1, 0, 1]
    assert sub.load.tolist() == [7.5, 2.5, 3.5]  # type: ignore[union-attr]
    assert sub.area.tolist() == [701.0, 201.0, 301.0]  # type: ignore[union-attr]
    assert sub.perimeter.tolist() == [30.0, 10.0, 14.0]  # type: ignore[union-attr]
    assert sub.walks is not None and sub.walks.cutoff_m == 4000
    metres = walks.metres.toarray()[np.ix_(members, members)]
    assert (sub.walks.metres.toarray() == metres).all()
    assert metres[1, 2] == pytest.approx(20 + 100 + 20)  # units 2 and 3: down, along, up
    plain = row.subset(members)  # without the optional fields they stay absent
    assert plain.load is None and plain.area is None and plain.perimeter is None
    assert plain.walks is None
