"""What-if answers equal a full recomputation, change after change."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gridmap.coverage.engine import nearest_stations
from gridmap.coverage.whatif import WhatIf
from gridmap.errors import NotFound
from gridmap.network import snap
from tests.gridmap.coverage.networks import lattice, network, points, street

BUDGET = 300.0


def _setup(seed: int = 0):
    net = lattice(10, 10)
    rng = np.random.default_rng(seed)
    points = shapely.points(rng.uniform(-20, 920, (300, 2)))
    buildings = snap(net, points, max_snap_m=60)
    residents = rng.integers(0, 50, 300)
    return net, buildings, residents


def _full(net, buildings, stations) -> np.ndarray:
    sites = snap(net, np.array(stations, dtype=object), max_snap_m=60)
    return nearest_stations(net, sites, buildings, budget_m=BUDGET).walk_m


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["add", "move", "remove"]), st.floats(0, 900), st.floats(0, 900)),
        min_size=1,
        max_size=8,
    )
)
def test_every_change_matches_a_full_recomputation(changes) -> None:
    net, buildings, residents = _setup()
    live = WhatIf(net, buildings, residents, residents // 2, budget_m=BUDGET, max_snap_m=60)
    stations: dict[int, shapely.Point] = {}
    for action, x, y in changes:
        point = shapely.Point(x, y)
        if action == "add" or not stations:
            stations[live.add(point)] = point
        elif action == "move":
            key = next(iter(stations))
            del stations[key]
            stations[live.move(key, point)] = point
        else:
            live.remove(key := next(iter(stations)))
            del stations[key]
        expected = _full(net, buildings, list(stations.values()))
        assert np.allclose(
            np.nan_to_num(live.walk_m, posinf=-1), np.nan_to_num(expected, posinf=-1)
        )


def test_rates_per_group_and_in_total() -> None:
    net, buildings, residents = _setup()
    groups = np.arange(300) % 3
    live = WhatIf(
        net, buildings, residents, residents // 2, budget_m=BUDGET, max_snap_m=60, groups=groups
    )
    assert live.rates().covered_residents == 0
    live.add_many(shapely.points([[450, 450], [100, 100]]))
    rates = live.rates()
    covered = live.covered
    assert rates.covered_residents == residents[covered].sum() > 0
    assert rates.group_covered_residents.tolist() == [
        residents[covered & (groups == g)].sum() for g in range(3)
    ]
    assert rates.rate == pytest.approx(rates.covered_residents / residents.sum())


def test_rates_read_off_a_street_by_hand() -> None:
    # a street from x = 0 to 400; a station at 0; buildings at 100 and 300 (on the budget) are
    # covered, one at 350 is not, one 500 m off the street is beyond the snap
    net = street(5)
    buildings = snap(net, points((100, 0), (300, 0), (350, 0), (100, 500)), max_snap_m=60)
    residents, households = np.array([10, 20, 30, 40]), np.array([1, 2, 3, 4])
    live = WhatIf(
        net,
        buildings,
        residents,
        households,
        budget_m=BUDGET,
        max_snap_m=60,
        groups=np.array([0, 1, 1, 2]),
    )
    key = live.add(shapely.Point(0, 0))
    assert live.station_key.tolist() == [key, key, -1, -1]  # each building's station, or none
    assert live.walk_m[:2].tolist() == [100.0, 300.0] and np.isinf(live.walk_m[2:]).all()
    rates = live.rates()
    assert (rates.covered_residents, rates.residents) == (30, 100)
    assert (rates.covered_households, rates.households) == (3, 10)
    assert rates.rate == 0.3
    assert rates.group_covered_residents.tolist() == [10, 20, 0]
    assert rates.group_residents.tolist() == [10, 50, 40]
    assert rates.group_covered_households is not None and rates.group_households is not None
    assert rates.group_covered_households.tolist() == [1, 2, 0]
    assert rates.group_households.tolist() == [1, 5, 4]
    one = WhatIf(net, buildings, residents, households, budget_m=BUDGET, max_snap_m=60)
    one.add(shapely.Point(0, 0))
    whole = one.rates()  # no groups: one group, the whole city
    assert whole.group_covered_residents.tolist() == [30]
    assert whole.group_residents.tolist() == [100]


def test_removing_an_unknown_station_is_not_found() -> None:
    net, buildings, residents = _setup()
    live = WhatIf(net, buildings, residents, residents, budget_m=BUDGET, max_snap_m=60)
    with pytest.raises(NotFound, match="no station 7 in this what-if"):
        live.remove(7)


def test_removing_stations_one_by_one_matches_a_full_recomputation() -> None:
    net, buildings, residents = _setup(3)
    live = WhatIf(net, buildings, residents, residents // 2, budget_m=BUDGET, max_snap_m=60)
    rng = np.random.default_rng(7)
    on_edge_0 = shapely.Point(50.0, 3.0)  # between the first two nodes: the network's edge 0
    placed = [on_edge_0, *shapely.points(rng.uniform(0, 900, (11, 2)))]
    keys = live.add_many(np.array(placed, dtype=object))
    alive = dict(zip(keys, placed, strict=True))
    for key in [keys[0], *keys[6:], *keys[1:6]]:  # the one on edge 0 first
        live.remove(key)
        del alive[key]
        sites = snap(net, np.array(list(alive.values()), dtype=object), max_snap_m=60)
        full = nearest_stations(net, sites, buildings, budget_m=BUDGET)
        assert np.array_equal(live.covered, full.covered)
        assert np.allclose(live.walk_m[full.covered], full.walk_m[full.covered])
        nearest = np.array(list(alive), dtype=np.int64)[full.station[full.covered]]
        assert np.array_equal(live.station_key[full.covered], nearest)
    assert not live.covered.any() and (live.node_key == -1).all()


def test_a_removed_station_that_reached_no_node_uncovers_its_own_edge() -> None:
    net = street(3, spacing=1000.0)  # edge 0 from x = 0 to 1000, edge 1 from 1000 to 2000
    homes = points((400, 5), (700, 5), (900, 5), (1400, 5), (1650, 5))
    buildings = snap(net, homes, max_snap_m=60)
    residents = np.array([10, 20, 30, 40, 50])
    live = WhatIf(net, buildings, residents, residents, budget_m=BUDGET, max_snap_m=60)
    # each 500 m from both ends of its edge: within 300 m of no node, only of its own edge
    on_edge_0, on_edge_1 = live.add(shapely.Point(500, 0)), live.add(shapely.Point(1500, 0))
    # by hand: 5 m from the home to the street, then along it: 105, 205, 405, 105, 155 m
    assert np.allclose(live.walk_m[live.covered], [105, 205, 105, 155])
    assert live.covered.tolist() == [True, True, False, True, True]
    live.remove(on_edge_0)
    assert live.covered.tolist() == [False, False, False, True, True]
    live.remove(on_edge_1)
    assert not live.covered.any()


def test_a_what_if_over_no_buildings_has_rates_of_nothing() -> None:
    net = street(3)
    buildings = snap(net, np.array([], dtype=object), max_snap_m=60)
    none = np.array([], dtype=np.int64)
    live = WhatIf(net, buildings, none, none, budget_m=BUDGET, max_snap_m=60)
    live.add(shapely.Point(100, 0))
    rates = live.rates()
    assert (rates.covered_residents, rates.residents) == (0, 0)
    assert rates.group_residents.tolist() == [0]  # one group, the whole city, of nobody
    assert rates.group_covered_residents.tolist() == [0]
    assert rates.group_covered_households is not None and rates.group_households is not None
    assert rates.group_covered_households.tolist() == [0]
    assert rates.group_households.tolist() == [0]


def test_stations_on_a_building_s_edge_and_past_its_end_by_hand() -> None:
    net = network([(0, 0), (1000, 0), (1100, 0)], [(0, 1), (1, 2)])  # a long edge, a short one
    homes = snap(net, points((950, 0), (150, 0), (300, 0)), max_snap_m=60)
    residents = np.array([1, 2, 3])
    live = WhatIf(net, homes, residents, residents, budget_m=1000, max_snap_m=60)
    keys = [live.add(shapely.Point(x, 0)) for x in (100, 1050, 400)]
    assert len(set(keys)) == 3 and min(keys) >= 0  # -1 says "no station"
    # by hand: 950 is 100 m from the station at 1050 through the node at 1000 (850 and 550 m
    # along its edge from the two on it); 150 is 50 m from the one at 100; 300 is 100 m from
    # the one at 400 (200 from the one at 100), both on its edge
    assert live.walk_m.tolist() == pytest.approx([100, 50, 100])
    assert live.station_key.tolist() == [keys[1], keys[0], keys[2]]
    unreachable = live.add(shapely.Point(500, 5000))  # beyond the snap distance: nothing
    live.remove(unreachable)
    assert live.walk_m.tolist() == pytest.approx([100, 50, 100])


def test_a_fork_changes_its_own_stations_and_walks_only() -> None:
    # a street from x = 0 to 400, buildings at 100 and 300; a station at 0 in the original
    net = street(5)
    buildings = snap(net, points((100, 0), (300, 0)), max_snap_m=60)
    residents = np.array([10, 20])
    live = WhatIf(net, buildings, residents, residents, budget_m=BUDGET, max_snap_m=60)
    first = live.add(shapely.Point(0, 0))
    fork = live.fork()
    moved = fork.move(first, shapely.Point(400, 0))  # in the fork only
    extra = fork.add(shapely.Point(200, 0))
    assert live.keys == [first] and sorted(fork.keys) == sorted([moved, extra])
    assert live.walk_m.tolist() == [100.0, 300.0]  # the original as it was
    assert live.station_key.tolist() == [first, first]
    assert fork.walk_m.tolist() == [100.0, 100.0]  # from the station at 200, both ways
    assert fork.station_key.tolist() == [extra, extra]
    assert live.node_m[:2].tolist() == [0.0, 100.0]  # nodes at 0 and 100 from the station at 0
    live.remove(first)  # and the original's changes stay out of the fork
    assert fork.walk_m.tolist() == [100.0, 100.0] and sorted(fork.keys) == sorted([moved, extra])
    assert np.isinf(live.walk_m).all()


def test_a_station_just_beyond_the_snap_covers_no_one_on_any_edge() -> None:
    # a street from x = 0 to 400 (edges 0 … 3 of 100 m); a station 100 m off edge 1 is beyond
    # the 60 m snap although its snap and a walk along the edge would be within the budget
    net = street(5)
    buildings = snap(net, points((50, 0), (150, 0), (250, 0)), max_snap_m=60)
    live = WhatIf(net, buildings, np.ones(3), np.ones(3), budget_m=BUDGET, max_snap_m=60)
    live.add(shapely.Point(150, 100))
    assert np.isinf(live.walk_m).all() and live.station_key.tolist() == [-1, -1, -1]
    assert not live.covered.any()
    real = live.add(shapely.Point(350, 0))  # on edge 3: recounts the buildings up to x = 50
    assert live.walk_m.tolist() == pytest.approx([300, 200, 100])  # all from x = 350
    assert live.station_key.tolist() == [real, real, real]
