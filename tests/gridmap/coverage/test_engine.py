"""The coverage engine on networks small enough to check on paper."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gridmap.coverage.circles import euclidean_discs, network_circles
from gridmap.coverage.engine import (
    CoverageParameters,
    euclidean_reach,
    nearest_stations,
    station_load,
)
from gridmap.coverage.reach import CHUNK, station_reach
from gridmap.errors import InvalidInput
from gridmap.network import WalkNetwork, snap
from tests.gridmap.coverage.networks import lattice, network, points, street


def reach(net, stations, buildings, budget=300.0, max_snap=200.0):
    return nearest_stations(
        net,
        snap(net, stations, max_snap_m=max_snap),
        snap(net, buildings, max_snap_m=max_snap),
        budget_m=budget,
    )


def test_snapping_lands_in_the_middle_of_an_edge_not_on_a_node() -> None:
    net = street()
    snapped = snap(net, points((150, 20), (399, -1)), max_snap_m=200)
    assert snapped.edge.tolist() == [1, 3]
    assert snapped.offset_m.tolist() == [50.0, 99.0]
    assert snapped.snap_m.tolist() == [20.0, 1.0]


def test_walks_count_the_snaps_and_the_way_along_the_edges() -> None:
    # the station stands 10 m off the street at x = 50; buildings 5 m off at x = 250 and 390,
    # and one on the station's own edge at x = 80, 3 m off on the other side
    result = reach(street(), points((50, 10)), points((250, 5), (390, 0), (80, -3)))

    assert result.walk_m[0] == pytest.approx(10 + 50 + 100 + 50 + 5)
    assert result.walk_m[1] == np.inf  # 350 m: beyond the 300 m budget
    assert result.walk_m[2] == pytest.approx(10 + 30 + 3)  # straight along the shared edge
    assert result.covered.tolist() == [True, False, True]
    assert result.station.tolist() == [0, -1, 0]


def test_each_building_goes_to_its_nearest_station() -> None:
    result = reach(street(9), points((0, 0), (800, 0)), points((100, 0), (390, 0), (700, 0)))
    assert result.station.tolist() == [0, -1, 1]  # 390 m and 410 m: neither within 300 m
    assert result.walk_m.tolist() == [100.0, np.inf, 100.0]
    assert result.covered.tolist() == [True, False, True]


def test_buildings_far_from_every_walkway_are_unreachable_not_dropped() -> None:
    result = reach(street(), points((0, 0)), points((0, 500), (0, 150)))
    assert result.reachable.tolist() == [False, True]
    assert result.covered.tolist() == [False, True]  # 150 m snap + 0 m walk
    assert len(result.walk_m) == 2


def test_a_longer_budget_reaches_farther() -> None:
    stations, buildings = points((0, 0)), points((390, 0))
    assert not reach(street(), stations, buildings, budget=300).covered[0]
    assert reach(street(), stations, buildings, budget=400).covered[0]


def test_no_stations_cover_no_one() -> None:
    result = reach(street(), points(), points((10, 0)))
    assert result.covered.tolist() == [False] and result.station.tolist() == [-1]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("minutes", -5),
        ("minutes", 0),
        ("minutes", 600),
        ("speed_m_per_min", 0),
        ("speed_m_per_min", 1e6),
        ("max_snap_m", -1),
        ("minutes", float("nan")),
    ],
)
def test_bad_parameters_are_refused(field: str, value: float) -> None:
    with pytest.raises(InvalidInput, match=field):
        CoverageParameters(**{field: value})


def test_parameters_at_their_upper_bound_are_taken() -> None:
    at_bounds = CoverageParameters(minutes=60, speed_m_per_min=200, max_snap_m=5000)
    assert at_bounds.budget_m == 60 * 200


def test_a_building_exactly_at_the_budget_is_covered_and_goes_to_the_nearer_end() -> None:
    net = street(9)  # nodes every 100 m, x from 0 to 800; edge i from node i to node i + 1
    stations = snap(net, points((0, 0), (800, 0)), max_snap_m=200)
    homes = snap(net, points((300, 0), (301, 0), (550, 0), (450, 0)), max_snap_m=200)
    reach = nearest_stations(net, stations, homes, budget_m=300)
    # by hand: 300 m from the first station (covered, at the bound); 301 m from it and 499 m
    # from the other (not); 550 is 250 m from the second station, through its edge's target
    # end; 450 is 350 and 450 m from either: not covered
    assert reach.covered.tolist() == [True, False, True, False]
    assert reach.walk_m[0] == pytest.approx(300) and reach.walk_m[2] == pytest.approx(250)
    assert reach.station.tolist() == [0, -1, 1, -1]


def test_a_node_within_a_micrometre_under_the_budget_still_leads_on() -> None:
    # a corner half a micrometre short of 300 m from the station; a home 0.4 µm up the next
    # street: 299.9999999 m, inside the budget, reached only through that corner
    x = 300 - 5e-7
    net = network([(0, 0), (x, 0), (x, 300)], [(0, 1), (1, 2)])
    stations = snap(net, points((0, 0)), max_snap_m=60)
    homes = snap(net, points((x, 4e-7)), max_snap_m=60)
    assert homes.edge.tolist() == [1]  # on the second street, not at the first one's end
    reach = nearest_stations(net, stations, homes, budget_m=300)
    assert reach.covered.tolist() == [True]
    assert reach.walk_m[0] == pytest.approx(300 - 1e-7, abs=1e-9)


def test_an_unreachable_building_on_a_one_edge_network_is_left_out() -> None:
    net = street(2)  # one edge
    stations = snap(net, points((50, 0)), max_snap_m=60)
    homes = snap(net, points((60, 5), (50, 900)), max_snap_m=60)
    reach = nearest_stations(net, stations, homes, budget_m=300)
    assert reach.reachable.tolist() == [True, False] and reach.covered.tolist() == [True, False]
    assert reach.walk_m[0] == pytest.approx(15)  # 5 m to the street, 10 m along it


def test_buildings_between_two_stations_on_one_edge_go_to_the_nearer() -> None:
    net = street(2, spacing=1000.0)  # one edge, 1,000 m long
    stations = snap(net, points((200, 0), (700, 0)), max_snap_m=60)
    homes = snap(net, points((100, 0), (400, 0), (500, 0), (900, 0), (960, 0)), max_snap_m=60)
    reach = nearest_stations(net, stations, homes, budget_m=300)
    # by hand, straight along the edge to the nearer station: 100, 200, 200, 200, 260 m
    assert reach.walk_m.tolist() == pytest.approx([100, 200, 200, 200, 260])
    assert reach.station.tolist() == [0, 0, 1, 1, 1]


def test_a_station_on_the_same_edge_loses_to_a_nearer_one_past_the_edge_end() -> None:
    net = network([(0, 0), (1000, 0), (1100, 0)], [(0, 1), (1, 2)])  # a long edge, a short one
    stations = snap(net, points((100, 0), (1050, 0)), max_snap_m=60)
    homes = snap(net, points((950, 0), (150, 0)), max_snap_m=60)
    reach = nearest_stations(net, stations, homes, budget_m=1000)
    # by hand: 950 is 850 m along its edge from the first station, 50 + 50 m from the second
    # through the node at 1000; 150 is 50 m from the first, along the edge
    assert reach.walk_m.tolist() == pytest.approx([100, 50])
    assert reach.station.tolist() == [1, 0]


def test_a_building_goes_to_the_station_of_its_nearer_edge_end() -> None:
    net = street(5)  # nodes every 100 m, x from 0 to 400
    stations = snap(net, points((0, 0), (350, 0)), max_snap_m=60)
    homes = snap(net, points((120, 5)), max_snap_m=60)  # on the edge from 100 to 200
    reach = nearest_stations(net, stations, homes, budget_m=1000)
    # by hand: through 100, the first station at 100 + 20 + 5 m; through 200, the second (150 m
    # to that node, nearer to it than the first's 200) at 150 + 80 + 5 m
    assert reach.walk_m[0] == pytest.approx(125) and reach.station[0] == 0


def test_a_station_on_a_loop_walks_the_shorter_way_round_to_its_one_end() -> None:
    # A (0, 0) — B (100, 0), and a square loop of 400 m from B back to B; the station stands
    # 2 m off the loop 30 m along it from B (its other way round is 370 m)
    ring = shapely.linestrings([(100, 0), (100, 100), (200, 100), (200, 0), (100, 0)])
    lines = np.array([shapely.linestrings([(0, 0), (100, 0)]), ring], dtype=object)
    net = WalkNetwork.from_arrays(
        np.array([10, 11]),
        np.array([(0.0, 0.0), (100.0, 0.0)]),
        np.array([10, 11]),
        np.array([11, 11]),
        shapely.length(lines),
        lines,
    )
    result = reach(net, points((98, 30)), points((0, 0), (50, 0)), budget=500.0)
    assert result.walk_m.tolist() == pytest.approx([2 + 30 + 100, 2 + 30 + 50])
    assert result.station.tolist() == [0, 0]


def test_the_euclidean_disc_covers_what_the_network_does_not() -> None:
    # across a missing link: 150 m as the crow flies, 750 m on foot round a U
    net = network([(0, 0), (0, 300), (150, 300), (150, 0)], [(0, 1), (1, 2), (2, 3)])
    stations, buildings = points((0, 0)), points((150, 0))
    assert not reach(net, stations, buildings).covered[0]
    assert euclidean_reach(stations, buildings, budget_m=300).covered[0]


def test_the_euclidean_disc_takes_the_nearest_station_up_to_the_budget_itself() -> None:
    # stations at x = 0 and x = 1,000; buildings at 300 (on the budget), 301 (beyond it),
    # 690 (310 from the second: beyond), 760 (240 from the second) and 500 (beyond both)
    stations = points((0, 0), (1000, 0))
    buildings = points((300, 0), (301, 0), (690, 0), (760, 0), (500, 0))
    result = euclidean_reach(stations, buildings, budget_m=300)
    assert result.covered.tolist() == [True, False, False, True, False]
    assert result.station.tolist() == [0, -1, -1, 1, -1]
    assert result.walk_m[[0, 3]].tolist() == [300.0, 240.0]
    assert np.isinf(result.walk_m[[1, 2, 4]]).all()
    assert result.reachable.all()  # no network to snap to: every building counts


def test_the_euclidean_disc_without_stations_or_buildings() -> None:
    none = euclidean_reach(points(), points((0, 0), (5, 0)), budget_m=300)
    assert none.covered.tolist() == [False, False] and none.station.tolist() == [-1, -1]
    assert np.isinf(none.walk_m).all() and none.reachable.all()
    empty = euclidean_reach(points((0, 0)), points(), budget_m=300)
    assert len(empty.covered) == len(empty.walk_m) == len(empty.station) == 0


def test_station_load_sums_the_residents_each_station_is_nearest_to() -> None:
    result = reach(street(9), points((0, 0), (800, 0)), points((100, 0), (200, 0), (700, 0)))
    residents, households = station_load(result, np.array([10, 20, 30]), np.array([4, 8, 12]), 2)
    assert residents.tolist() == [30, 30] and households.tolist() == [12, 12]
    # a third station far along the street serves nobody: it still has its (empty) load
    far = reach(street(9), points((0, 0), (800, 0), (2000, 0)), points((100, 0), (700, 0)))
    residents, households = station_load(far, np.array([10, 30]), np.array([4, 12]), 3)
    assert residents.tolist() == [10, 30, 0] and households.tolist() == [4, 12, 0]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 900), st.floats(0, 900)), min_size=0, max_size=5),
    st.tuples(st.floats(0, 900), st.floats(0, 900)),
)
def test_adding_a_station_never_lowers_coverage(stations, extra) -> None:
    net = lattice(10, 10)
    rng = np.random.default_rng(0)
    buildings = points(*[tuple(p) for p in rng.uniform(0, 900, (200, 2))])
    before = reach(net, points(*stations), buildings)
    after = reach(net, points(*stations, extra), buildings)
    assert (after.covered >= before.covered).all()
    assert (after.walk_m <= before.walk_m + 1e-9).all()


def test_a_network_circle_follows_the_streets_and_stops_at_the_budget() -> None:
    net = street(9)  # x from 0 to 800
    sites = snap(net, points((400, 10)), max_snap_m=200)
    reached = station_reach(net, sites, budget_m=300)
    circle = network_circles(net, sites, reached, budget_m=300, buffer_m=25)[0]

    # 300 m less the 10 m snap: the street from x = 110 to 690, buffered by 25 m
    xmin, ymin, xmax, ymax = circle.bounds
    assert (xmin, xmax) == pytest.approx((110 - 25, 690 + 25), abs=0.5)
    assert (ymin, ymax) == pytest.approx((-25, 25), abs=0.5)
    assert reached.of(0)[0].tolist() == [2, 3, 4, 5, 6]
    assert reached.of(0)[1].tolist() == [210.0, 110.0, 10.0, 110.0, 210.0]


def test_a_budget_shorter_than_the_walk_to_either_end_reaches_no_node() -> None:
    net = street(9)  # nodes every 100 m; the station 50 m from each end of its edge
    sites = snap(net, points((450, 10)), max_snap_m=200)
    reached = station_reach(net, sites, budget_m=59.9)  # 10 m snap + 50 m: just out of reach
    assert reached.of(0)[0].tolist() == []
    just = station_reach(net, sites, budget_m=60.0)  # exactly at the bound: both ends
    assert just.of(0)[0].tolist() == [4, 5] and just.of(0)[1].tolist() == [60.0, 60.0]


@pytest.mark.parametrize("first_reaches", [False, True])
def test_each_station_has_its_own_reach_past_the_first_chunk(first_reaches: bool) -> None:
    net = street(9)  # nodes every 100 m, x from 0 to 800
    far = [(400.0, 5000.0)] * CHUNK  # a first chunk of stations beyond the snap distance...
    if first_reaches:  # ...or all but its first
        far[0] = (750.0, 10.0)
    sites = snap(net, points(*far, (150, 10), (450, 10), (650, 10)), max_snap_m=200)
    reached = station_reach(net, sites, budget_m=160)
    assert all(reached.of(i)[0].size == 0 for i in range(1 if first_reaches else 0, CHUNK))
    if first_reaches:  # 10 m snap and 50 m to node 7 or 8; 160 m reaches node 6 too
        assert reached.of(0)[0].tolist() == [6, 7, 8]
        assert reached.of(0)[1].tolist() == [160.0, 60.0, 60.0]
    # by hand: the 10 m snap, 50 m to either end of its edge, then 100 m more: 160 m, the bound
    for i, nodes in enumerate(([0, 1, 2, 3], [3, 4, 5, 6], [5, 6, 7, 8])):
        got_nodes, got_walks = reached.of(CHUNK + i)
        assert got_nodes.tolist() == nodes
        assert got_walks.tolist() == [160.0, 60.0, 60.0, 160.0]


def test_stations_that_reach_nothing_have_empty_reaches() -> None:
    net = street(3)
    sites = snap(net, points((100, 5000), (100, 6000)), max_snap_m=200)
    reached = station_reach(net, sites, budget_m=300)
    assert reached.indptr.tolist() == [0, 0, 0]
    assert reached.node.size == 0 and reached.walk_m.size == 0


@pytest.mark.parametrize(
    ("snap_m", "from_x", "to_x"),
    [(10.0, 210.0, 790.0), (299.5, 499.5, 500.5), (300.0, None, None)],
)
def test_a_circle_that_reaches_no_node_runs_along_its_own_edge(
    snap_m: float, from_x: float | None, to_x: float | None
) -> None:
    net = street(3, spacing=1000.0)  # edge 0 from x = 0 to 1000: no node within 300 m
    sites = snap(net, points((500, snap_m)), max_snap_m=400)
    reached = station_reach(net, sites, budget_m=300)
    circle = network_circles(net, sites, reached, budget_m=300, buffer_m=5)[0]
    if from_x is None:  # the snap takes the whole budget: nothing is left to walk
        assert circle.is_empty
        return
    # by hand: the budget less the snap, either way along the street, buffered by 5 m
    assert circle.bounds == pytest.approx((from_x - 5, -5, to_x + 5, 5), abs=0.01)


def test_a_circle_keeps_the_last_half_metre_past_a_node_either_way() -> None:
    net = street(9)  # nodes every 100 m, x from 0 to 800
    sites = snap(net, points((400, 10)), max_snap_m=200)
    reached = station_reach(net, sites, budget_m=310.5)  # nodes 1 and 7 at 310 m: 0.5 m left
    circle = network_circles(net, sites, reached, budget_m=310.5, buffer_m=5)[0]
    assert circle.bounds == pytest.approx((99.5 - 5, -5, 700.5 + 5, 5), abs=0.01)


def test_circles_turn_corners_and_cut_partial_edges() -> None:
    net = lattice(5, 5)  # 400 m square, streets every 100 m
    sites = snap(net, points((200, 200)), max_snap_m=200)
    reached = station_reach(net, sites, budget_m=150)
    circle = network_circles(net, sites, reached, budget_m=150, buffer_m=1)[0]

    # a cross of arms 150 m long, plus 50 m stubs round the four nearest corners
    assert circle.covers(shapely.Point(200, 349)) and not circle.covers(shapely.Point(200, 352))
    assert circle.covers(shapely.Point(249, 300)) and not circle.covers(shapely.Point(252, 300))
    assert not circle.covers(shapely.Point(300, 300))
    line_length = 4 * 150 + 8 * 50
    assert circle.area == pytest.approx(2 * line_length, rel=0.03)


def test_reach_agrees_with_the_one_pass_engine() -> None:
    net = lattice(8, 8)
    rng = np.random.default_rng(3)
    stations = snap(net, points(*rng.uniform(0, 700, (6, 2))), max_snap_m=200)
    nodes = snap(net, shapely.points(net.node_xy), max_snap_m=1)
    reached = station_reach(net, stations, budget_m=300)
    best = np.full(net.n_nodes, np.inf)
    np.minimum.at(best, reached.node, reached.walk_m)
    one_pass = nearest_stations(net, stations, nodes, budget_m=300)
    assert np.allclose(
        np.where(np.isinf(best), -1, best), np.where(np.isinf(one_pass.walk_m), -1, one_pass.walk_m)
    )


def test_a_circle_on_a_path_longer_to_walk_than_drawn_is_cut_in_walking_metres() -> None:
    # four nodes 100 m apart on the map, each edge 200 m to walk (a steep path): a station on
    # edge 1 at x = 150, on the path, with 150 m to walk: 100 m to either end of its edge,
    # then 50 m more, which is 25 m on the map: x from 75 to 225, buffered by 5 m
    xy = np.array([(0.0, 0.0), (100.0, 0.0), (200.0, 0.0), (300.0, 0.0)])
    lines = shapely.linestrings(
        np.stack([xy[:-1], xy[1:]], axis=1).reshape(-1, 2), indices=np.repeat(np.arange(3), 2)
    )
    ids = np.array([10, 11, 12, 13])
    net = WalkNetwork.from_arrays(ids, xy, ids[:-1], ids[1:], np.full(3, 200.0), lines)
    sites = snap(net, points((150, 0)), max_snap_m=10)
    assert sites.offset_m.tolist() == [100.0]  # walking metres along the edge
    reached = station_reach(net, sites, budget_m=150)
    circle = network_circles(net, sites, reached, budget_m=150, buffer_m=5)[0]
    assert circle.bounds == pytest.approx((75 - 5, -5, 225 + 5, 5), abs=0.01)


def test_a_circle_s_ends_are_sixteen_sided() -> None:
    # 300 m either way along a straight street from a station on it: a 600 m stretch, buffered
    # by 25 m with a quarter circle in 4 segments: a 600 × 50 m rectangle and two halves of a
    # regular 16-gon of radius 25 m
    net = street(3, spacing=1000.0)
    sites = snap(net, points((500, 0)), max_snap_m=10)
    circle = network_circles(net, sites, station_reach(net, sites, budget_m=300), budget_m=300)
    sixteen_gon = 16 / 2 * 25**2 * np.sin(2 * np.pi / 16)
    assert circle[0].area == pytest.approx(600 * 50 + sixteen_gon, abs=0.01)


def test_a_euclidean_disc_is_a_sixty_four_gon_of_the_budget_around_each_point() -> None:
    discs = euclidean_discs([shapely.Point(0, 0), shapely.Point(1000, 500)], budget_m=300)
    assert len(discs) == 2
    # a regular polygon of n corners on a circle of radius r: n r² sin(2π / n) / 2
    area = 64 * 300**2 * np.sin(2 * np.pi / 64) / 2
    assert shapely.area(discs) == pytest.approx([area, area], rel=1e-9)
    assert shapely.get_num_coordinates(discs).tolist() == [65, 65]  # 64 corners, closed
    assert np.allclose(shapely.bounds(discs), [[-300, -300, 300, 300], [700, 200, 1300, 800]])
    assert euclidean_discs([], budget_m=300).tolist() == []
