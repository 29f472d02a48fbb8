"""Gaps: uncovered buildings grouped by distance, checked against every pair measured by GEOS."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import shapely.affinity
from scipy.sparse.csgraph import connected_components

from gridmap.coverage.gaps import Gaps, gap_areas


def groups(label: np.ndarray) -> set[frozenset[int]]:
    """The partition a labelling makes, whatever numbers it gives the groups."""
    return {frozenset(np.flatnonzero(label == g).tolist()) for g in np.unique(label)}


def groups_by_every_pair(shapes: np.ndarray, join_m: float) -> set[frozenset[int]]:
    """The plain floor: measure every pair, link those at most ``join_m`` apart."""
    near = shapely.distance(shapes[:, None], shapes[None, :]) <= join_m
    return groups(connected_components(near, directed=False)[1])


def gaps_of(
    shapes: list[shapely.Geometry], residents: list[int] | None = None, **kw: float
) -> Gaps:
    n = len(shapes)
    people = np.asarray(residents if residents is not None else [10] * n, dtype=np.int64)
    return gap_areas(np.asarray(shapes, dtype=object), people, people // 2, np.zeros(n, bool), **kw)


def test_footprints_exactly_the_join_distance_apart_make_one_gap_and_a_hair_more_two() -> None:
    # edges 40 m apart, centres 50 m apart: the distance that counts is between the footprints
    touching = gaps_of([shapely.box(0, 0, 10, 10), shapely.box(50, 0, 60, 10)])
    assert touching.buildings.tolist() == [2]
    apart = gaps_of([shapely.box(0, 0, 10, 10), shapely.box(50.001, 0, 60, 10)])
    assert apart.buildings.tolist() == [1, 1]


def test_long_footprints_whose_centres_are_far_but_ends_close_make_one_gap() -> None:
    west = shapely.box(0, 0, 300, 8)  # a 300 m slab
    east = shapely.box(330, 0, 630, 8)  # 30 m beyond its end, centres 330 m apart
    bent = shapely.Polygon([(0, 20), (300, 20), (300, 300), (290, 300), (290, 28), (0, 28)])
    gaps = gaps_of([west, east, bent])  # the L's arm is 12 m above the slab
    assert gaps.buildings.tolist() == [3]


def test_a_chain_links_buildings_farther_apart_than_the_join_distance() -> None:
    chain = [shapely.box(x, 0, x + 10, 10) for x in (0, 45, 90, 135)]  # 35 m steps
    assert gaps_of(chain).buildings.tolist() == [4]
    assert gaps_of(chain, join_m=30.0).buildings.tolist() == [1, 1, 1, 1]


def test_gaps_come_largest_first_and_leave_out_covered_and_empty_buildings() -> None:
    shapes = np.asarray(
        [shapely.box(x, 0, x + 10, 10) for x in (0, 20, 500, 520, 1000, 1020)], dtype=object
    )
    residents = np.asarray([5, 5, 30, 0, 40, 50], dtype=np.int64)
    covered = np.asarray([False, False, False, False, True, False])
    gaps = gap_areas(shapes, residents, residents, covered)
    assert gaps.residents.tolist() == [50, 30, 10]
    assert gaps.buildings.tolist() == [1, 1, 2]
    assert gaps.gap_of_building.tolist() == [2, 2, 1, -1, -1, 0]
    outlines, members = gaps.geometry[[2, 2, 1, 0]], shapes[[0, 1, 2, 5]]
    assert shapely.contains(outlines, members).all()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_footprints_group_as_every_pair_measured_says(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    x, y = rng.uniform(0, 2000, (2, n))
    w, h = rng.choice([5.0, 20.0, 150.0], n), rng.uniform(4, 30, n)  # some long slabs
    angle = rng.uniform(0, 180, n)
    shapes = np.asarray(
        [
            shapely.affinity.rotate(shapely.box(a, b, a + c, b + d), t, origin="centroid")
            for a, b, c, d, t in zip(x, y, w, h, angle, strict=True)
        ],
        dtype=object,
    )
    gaps = gaps_of(list(shapes), join_m=25.0)
    assert groups(gaps.gap_of_building) == groups_by_every_pair(shapes, 25.0)
    assert 1 < len(gaps.buildings) < n  # neither one gap nor all apart: the test can tell
