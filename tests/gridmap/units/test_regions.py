"""Region growing and codes on hand-made graphs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import connected_components
from shapely import box

from gridmap.units import regions


def _row_of_blocks(n: int) -> np.ndarray:
    return np.array([box(100 * i, 0, 100 * (i + 1), 100) for i in range(n)], dtype=object)


def test_adjacency_needs_a_shared_edge_not_a_corner() -> None:
    polygons = np.array([box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 1, 3, 2)], dtype=object)
    graph = regions.adjacency(polygons, min_shared_m=0.5)
    assert graph.toarray().tolist() == [[0, 1, 0], [1, 0, 0], [0, 0, 0]]


def test_regions_grow_to_the_target_and_stay_contiguous() -> None:
    units = _row_of_blocks(10)
    xy = np.array([[100 * i + 50, 50] for i in range(10)], dtype=float)
    labels = regions.grow_regions(
        regions.adjacency(units), np.full(10, 1000.0), xy, target=3000, minimum=2000, maximum=4000
    )
    assert labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 2]


@settings(max_examples=30, deadline=None)
@given(st.integers(3, 8), st.integers(3, 8), st.integers(0, 10_000))
def test_every_region_is_connected_and_none_is_light_where_it_could_merge(
    cols: int, rows: int, seed: int
) -> None:
    units = np.array(
        [
            box(100 * i, 100 * j, 100 * (i + 1), 100 * (j + 1))
            for j in range(rows)
            for i in range(cols)
        ],
        dtype=object,
    )
    weights = np.random.default_rng(seed).integers(0, 2000, len(units)).astype(float)
    xy = np.array([[u.centroid.x, u.centroid.y] for u in units])
    graph = regions.adjacency(units)
    labels = regions.grow_regions(graph, weights, xy, target=5000, minimum=3000, maximum=8000)
    totals = np.bincount(labels, weights=weights)
    for region in range(labels.max() + 1):
        members = np.flatnonzero(labels == region)
        sub = graph[members][:, members]
        assert connected_components(sub, directed=False)[0] == 1
    if len(totals) > 1:
        assert (totals >= 3000).all()


def test_codes_are_numbered_west_to_east_then_north_to_south() -> None:
    xy = np.array([[0.0, 0.0], [100.0, 100.0], [0.0, 100.0], [100.0, 0.0]])
    codes = regions.serial_codes("510107001", xy, digits=3, band=50)
    assert codes.tolist() == ["510107001003", "510107001002", "510107001001", "510107001004"]


def test_units_off_the_built_up_fabric_join_the_nearest_region_not_one_of_their_own() -> None:
    town = _row_of_blocks(6)
    strays = np.array([box(700, 0, 710, 10), box(-300, 500, -290, 510)], dtype=object)
    units = np.concatenate([town, strays])  # the strays touch nothing
    xy = np.array([[u.centroid.x, u.centroid.y] for u in units])
    weights = np.r_[np.full(6, 1000.0), 10.0, 15.0]

    labels = regions.grow_regions(
        regions.adjacency(units), weights, xy, target=3000, minimum=2000, maximum=4000
    )

    assert labels.max() == 1  # two regions, as the town alone makes
    assert labels[6] == labels[5]  # the eastern stray joins the eastern region
    assert labels[7] == labels[0]  # the north-western one the western region


def test_blocks_across_a_narrow_street_are_linked_and_a_corner_still_is_not() -> None:
    polygons = np.array(
        [
            box(0, 0, 100, 100),
            box(110, 0, 210, 100),  # across a 10 m street from the first
            box(-100, 100, 0, 200),  # the first's corner only
            box(250, 0, 350, 100),  # 40 m from the second: too far
        ],
        dtype=object,
    )

    graph = regions.adjacency(polygons)

    assert (graph.toarray() > 0).astype(int).tolist() == [
        [0, 1, 0, 0],
        [1, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
    ]
    assert graph[0, 1] == pytest.approx(100 - 2 * 10, abs=1)  # the frontage across the street
