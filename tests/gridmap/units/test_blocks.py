"""Blocks on hand-made streets: exact faces, slivers merged, oversized blocks split."""

from __future__ import annotations

import numpy as np
import shapely
from shapely import LineString, Point, box

from gridmap.units import blocks


def _street_grid() -> tuple[shapely.Geometry, np.ndarray]:
    """A 300 m square crossed by two streets each way: nine 100 m blocks."""
    area = box(0, 0, 300, 300)
    streets = np.array(
        [LineString([(x, -20), (x, 320)]) for x in (100, 200)]
        + [LineString([(-20, y), (320, y)]) for y in (100, 200)]
        + [LineString([(150, 150), (160, 160)])],  # a dangle: cuts nothing
        dtype=object,
    )
    return area, streets


def test_streets_cut_an_area_into_exact_blocks() -> None:
    area, streets = _street_grid()
    faces = blocks.cut_blocks(area, streets)
    assert len(faces) == 9
    assert np.allclose(shapely.area(faces), 10_000)
    assert shapely.area(shapely.union_all(faces)) == 90_000


def test_the_study_area_reaches_past_the_last_street_and_leaves_water_out() -> None:
    streets = np.array([LineString([(0, 0), (1000, 0)])], dtype=object)
    lake = np.array([box(400, 20, 600, 200)], dtype=object)
    area = blocks.study_area(
        streets, np.array([box(100, 10, 120, 30)], dtype=object), water=lake, reach_m=60
    )
    assert area.contains(Point(50, 50)) and not area.contains(Point(50, 70))
    assert not area.contains(Point(500, 40))  # water is no one's unit


def test_a_sliver_joins_the_neighbour_it_shares_most_boundary_with() -> None:
    big = box(0, 0, 100, 100)
    small = box(100, 0, 200, 100)
    sliver = box(100, 100, 104, 130)  # 120 m², touching `small` along 4 m, `big` at a corner
    merged, _ = blocks.merge_slivers(np.array([big, small, sliver], dtype=object), min_area_m2=200)
    areas = sorted(shapely.area(merged).tolist())
    assert areas == [10_000, 10_120]


def test_an_isolated_sliver_joins_the_nearest_block() -> None:
    merged, _ = blocks.merge_slivers(
        np.array([box(0, 0, 100, 100), box(110, 0, 115, 10)], dtype=object), min_area_m2=200
    )
    assert len(merged) == 1 and shapely.area(merged[0]) == 10_050


def test_slivers_stay_in_their_community() -> None:
    # the sliver belongs to the east community; it shares 30 m with the west block, 20 m east
    west, east = box(0, 0, 100, 100), box(104, 80, 200, 100)
    sliver = box(100, 70, 104, 100)
    polygons = np.array([west, east, sliver], dtype=object)

    merged, groups = blocks.merge_slivers(polygons, min_area_m2=200, groups=np.array([0, 1, 1]))

    assert sorted(zip(groups.tolist(), shapely.area(merged).tolist(), strict=True)) == [
        (0, 10_000.0),
        (1, 1_920.0 + 120.0),
    ]
    ungrouped, _ = blocks.merge_slivers(polygons, min_area_m2=200)
    assert sorted(shapely.area(ungrouped).tolist()) == [1_920.0, 10_120.0]


def test_an_oversized_block_is_split_into_pieces_within_the_maximum() -> None:
    block = box(0, 0, 400, 100)
    points = np.array([Point(50 + 100 * i, 50) for i in range(4)], dtype=object)
    households = np.array([200, 200, 200, 200])
    pieces = blocks.split_oversized(
        np.array([block], dtype=object), points, households, max_households=500
    )
    owner = blocks.locate(pieces, points)
    load = np.bincount(owner, weights=households)
    assert len(pieces) == 2 and load.tolist() == [400, 400]
    assert shapely.area(shapely.union_all(pieces)) == 40_000
    assert shapely.area(shapely.intersection(pieces[0], pieces[1])) == 0


def test_a_single_building_above_the_maximum_stays_one_unit() -> None:
    pieces = blocks.split_oversized(
        np.array([box(0, 0, 100, 100)], dtype=object),
        np.array([Point(50, 50)], dtype=object),
        np.array([900]),
        max_households=500,
    )
    assert len(pieces) == 1


def test_every_point_lies_in_exactly_one_polygon() -> None:
    polygons = np.array([box(0, 0, 10, 10), box(10, 0, 20, 10)], dtype=object)
    points = np.array([Point(5, 5), Point(10, 5), Point(15, 5), Point(30, 5)], dtype=object)
    assert blocks.locate(polygons, points).tolist() == [0, 0, 1, 1]  # edge: first; outside: nearest


def test_an_oversized_block_is_split_along_its_footway_first() -> None:
    block = box(0, 0, 200, 100)
    points = np.array([Point(x, 50) for x in (20, 60, 120, 160)], dtype=object)
    households = np.array([200, 200, 200, 200])
    footway = np.array([LineString([(80, -10), (80, 110)])], dtype=object)

    along = blocks.split_oversized(
        np.array([block], dtype=object), points, households, max_households=500, paths=footway
    )
    straight = blocks.split_oversized(
        np.array([block], dtype=object), points, households, max_households=500
    )

    assert sorted(shapely.bounds(along)[:, 2].tolist()) == [80.0, 200.0]  # at the footway
    assert sorted(shapely.bounds(straight)[:, 2].tolist()) == [90.0, 200.0]  # at the median


def test_a_path_that_would_leave_a_piece_empty_is_not_used() -> None:
    block = box(0, 0, 200, 100)
    points = np.array([Point(x, 50) for x in (120, 140, 160, 180)], dtype=object)
    footway = np.array([LineString([(80, -10), (80, 110)])], dtype=object)

    pieces = blocks.split_oversized(
        np.array([block], dtype=object),
        points,
        np.array([200] * 4),
        max_households=500,
        paths=footway,
    )

    assert sorted(shapely.bounds(pieces)[:, 0].tolist()) == [0.0, 150.0]


def test_a_unit_in_pieces_gives_its_stray_pieces_to_the_neighbour_they_share_most_with() -> None:
    main, stray = box(0, 0, 100, 100), box(300, 0, 350, 100)  # 200 m apart: not one piece
    neighbour, far = box(350, 0, 450, 100), box(1000, 0, 1100, 100)
    islet = box(600, 0, 605, 5)  # 25 m², touching nothing
    island = box(700, 500, 800, 600)  # 10,000 m², touching nothing
    units = np.array([shapely.union_all([main, stray, islet, island]), neighbour, far])

    whole = blocks.whole_units(units, min_area_m2=200)

    assert len(whole) == 4  # the island became a unit of its own, the islet went
    assert shapely.equals(whole[0], main)
    assert shapely.equals(whole[1], shapely.union(neighbour, stray))
    assert shapely.equals(whole[2], far)
    assert shapely.equals(whole[3], island)
    assert [shapely.get_num_geometries(u) for u in whole] == [1, 1, 1, 1]


def test_parts_across_a_street_stay_one_unit() -> None:
    unit = shapely.union(box(0, 0, 100, 100), box(110, 0, 210, 100))  # a 10 m street between
    assert shapely.equals(blocks.whole_units(np.array([unit]))[0], unit)


def test_a_stray_islet_holding_a_building_stays_a_unit() -> None:
    main, islet = box(0, 0, 100, 100), box(600, 0, 605, 5)
    whole = blocks.whole_units(
        np.array([shapely.union(main, islet)]), min_area_m2=200, points=np.array([Point(602, 2)])
    )
    assert len(whole) == 2 and shapely.equals(whole[1], islet)
