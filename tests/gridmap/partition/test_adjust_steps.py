"""The adjustment's steps on hand-drawn grids, each expected answer read off the drawing.

Units are squares of a lattice (``lattice`` from test_engine); a picture in each test shows
the grids, one letter or digit per unit, rows from the top.
"""

from __future__ import annotations

import numpy as np
import pytest

from gridmap.partition.adjust import (
    _merge_light,
    _no_worse,
    _out_of_bounds,
    _pieces_apart,
    _split_heavy,
    adjust,
)
from gridmap.partition.engine import Bounds, Units
from tests.gridmap.partition.test_engine import check_valid, lattice

BOUNDS = Bounds(200, 400, 300, max_residents=None)


def drawn(picture: str) -> np.ndarray:
    """Labels from a picture: one character a unit, row by row."""
    rows = [row.strip() for row in picture.strip().splitlines()]
    return np.array([int(c, 36) for row in rows for c in row], dtype=np.int64)


def groups(labels: np.ndarray) -> set[frozenset[int]]:
    """The grids as sets of units, whatever their numbers."""
    return {frozenset(np.flatnonzero(labels == g).tolist()) for g in np.unique(labels)}


def with_communities(units: Units, community: np.ndarray) -> Units:
    """The same units, adjacency kept, in other communities (links across them kept too)."""
    return Units(units.adjacency, units.households, units.residents, units.xy, community)


def test_a_grid_in_pieces_gets_a_new_number_for_each_extra_piece() -> None:
    units = lattice(4, 3, np.full(12, 50))
    labels = drawn("""
        0000
        1111
        0220
    """)  # grid 0 in three pieces: the top row, and two corners below
    before = labels.copy()

    assert _pieces_apart(units, labels, locked=set()) is True

    assert groups(labels) == {
        frozenset({0, 1, 2, 3}),
        frozenset({4, 5, 6, 7}),
        frozenset({8}),
        frozenset({11}),
        frozenset({9, 10}),
    }
    assert labels.max() == 4 and set(labels[[8, 11]]) == {3, 4}  # the next free numbers
    assert _pieces_apart(units, labels, locked=set()) is False  # nothing left to take apart
    locked = before.copy()
    assert _pieces_apart(units, locked, locked={0}) is False and np.array_equal(locked, before)
    later = drawn("""
        0000
        1111
        2112
    """)  # grid 1 locked (whole), grid 2 after it in two pieces
    assert _pieces_apart(units, later, locked={1}) is True and later[8] != later[11]


def test_a_grid_across_communities_is_cut_at_their_boundary_piece_by_piece() -> None:
    # communities: the left two columns 0, the right two 1 (links across them kept)
    units = with_communities(lattice(4, 5, np.full(20, 50)), np.tile([0, 0, 1, 1], 5))
    labels = drawn("""
        0000
        1111
        0000
        1111
        0000
    """)  # grid 0: three rows apart, each across both communities: six pieces

    assert _pieces_apart(units, labels, locked=set()) is True

    # grid 1 too: two rows apart, each across both communities; every half row on its own
    halves = {
        frozenset(set(range(4 * r, 4 * r + 4)) & set(np.flatnonzero(units.community == c).tolist()))
        for r in range(5)
        for c in (0, 1)
    }
    assert groups(labels) == halves
    assert labels.max() == 9


def test_a_heavy_grid_is_cut_in_as_many_grids_as_its_households_need() -> None:
    units = lattice(6, 2, np.full(12, 40))  # 480 households: two grids of 240
    labels = np.zeros(12, dtype=np.int64)
    rng = np.random.default_rng(0)

    assert _split_heavy(units, labels, BOUNDS, set(), rng) is True

    check_valid(units, labels)
    assert labels.max() == 1
    assert np.bincount(labels, weights=units.households).tolist() == [240, 240]
    assert _split_heavy(units, labels, BOUNDS, set(), rng) is False


def test_a_grid_at_exactly_the_maximum_a_locked_one_and_a_single_unit_stay_whole() -> None:
    rng = np.random.default_rng(0)
    exact = lattice(5, 2, np.full(10, 40))  # 400: exactly the maximum
    labels = np.zeros(10, dtype=np.int64)
    assert _split_heavy(exact, labels, BOUNDS, set(), rng) is False and labels.max() == 0
    heavy = lattice(6, 2, np.full(12, 40))
    labels = np.zeros(12, dtype=np.int64)
    assert _split_heavy(heavy, labels, BOUNDS, {0}, rng) is False and labels.max() == 0
    pair = lattice(2, 1, np.array([300, 300]))  # two units, 600: one grid each
    labels = np.zeros(2, dtype=np.int64)
    assert _split_heavy(pair, labels, BOUNDS, set(), rng) is True and sorted(labels) == [0, 1]
    apart = lattice(3, 1, np.array([300, 10, 300]))  # grid 0: two units with no link between
    labels = np.array([0, 1, 0])
    assert _split_heavy(apart, labels, BOUNDS, set(), rng) is False  # no cut: nothing changed
    assert labels.tolist() == [0, 1, 0]
    one = lattice(2, 1, np.array([900, 300]))  # one unit above the maximum: nothing to cut
    labels = np.array([0, 1])
    assert _split_heavy(one, labels, BOUNDS, set(), rng) is False
    assert labels.tolist() == [0, 1]


def test_a_grid_above_the_residents_cap_is_cut_too() -> None:
    units = lattice(6, 2, np.full(12, 30))  # 360 households, 12 × 79 = 948 residents
    capped = Bounds(200, 400, 300, max_residents=900)
    labels = np.zeros(12, dtype=np.int64)

    assert _split_heavy(units, labels, capped, set(), np.random.default_rng(0)) is True

    assert labels.max() == 1
    equal = Bounds(200, 400, 300, max_residents=948)  # exactly at the cap: whole
    labels = np.zeros(12, dtype=np.int64)
    assert _split_heavy(units, labels, equal, set(), np.random.default_rng(0)) is False


def test_a_light_grid_joins_its_lightest_free_neighbour_in_its_community() -> None:
    households = np.full(16, 50)
    units = lattice(4, 4, households)
    labels = drawn("""
        1133
        1003
        2222
        2222
    """)  # 0: 100 (light); 1: 150 (light, locked); 2: 400; 3: 150
    before = labels.copy()

    assert _merge_light(units, labels, BOUNDS, {1}, np.random.default_rng(0)) is True

    # 0 joins 3 (150 beside 2's 400; 1 is locked): 250 together, no cut needed
    assert groups(labels) == groups(np.where(before == 0, 3, before))
    assert np.array_equal(labels == labels[0], before == 1)  # the locked grid as it was


def test_a_grid_at_exactly_the_minimum_is_not_light() -> None:
    units = lattice(4, 2, np.full(8, 50))
    labels = drawn("""
        0011
        0011
    """)  # 200 and 200: both exactly at the minimum
    assert _merge_light(units, labels, BOUNDS, set(), np.random.default_rng(0)) is False
    assert labels.tolist() == drawn("0011\n0011").tolist()


def test_a_light_grid_never_joins_a_neighbour_across_its_community() -> None:
    units = with_communities(lattice(4, 2, np.full(8, 40)), np.array([0, 0, 1, 1] * 2))
    labels = drawn("""
        0011
        0011
    """)  # 160 households each, light; the two grids touch across the communities' boundary
    before = labels.copy()
    assert _merge_light(units, labels, BOUNDS, set(), np.random.default_rng(0)) is False
    assert np.array_equal(labels, before)


def test_a_light_grid_and_its_partner_above_the_maximum_together_are_cut_again() -> None:
    units = lattice(6, 2, np.full(12, 40))
    labels = drawn("""
        011111
        011111
    """)  # 0: 80 (light), 1: 400; together 480: cut again in two grids within bounds
    assert _merge_light(units, labels, BOUNDS, set(), np.random.default_rng(0)) is True
    check_valid(units, labels)
    assert sorted(len(g) * 40 for g in groups(labels)) == [240, 240]


def test_a_light_grid_and_its_partner_at_exactly_the_maximum_together_stay_one_grid() -> None:
    units = lattice(5, 2, np.full(10, 40))
    labels = drawn("""
        01111
        01111
    """)  # 0: 80 (light), 1: 320; together 400, exactly the maximum
    assert _merge_light(units, labels, BOUNDS, set(), np.random.default_rng(0)) is True
    assert groups(labels) == {frozenset(range(10))}


def test_grids_out_of_bounds_are_counted_per_community_at_the_bounds_exactly() -> None:
    # three communities of columns; the last has no grid out of bounds
    households = np.array([100, 100, 99, 101, 200, 201])
    units = Units(
        lattice(6, 1, households).adjacency,
        households,
        np.array([10, 10, 10, 10, 10, 500]),
        lattice(6, 1, households).xy,
        np.array([0, 0, 1, 1, 2, 2]),
    )
    labels = np.array([0, 1, 2, 2, 3, 4])  # 100, 100 | 200 | 200, 201
    assert _out_of_bounds(units, labels, Bounds(100, 200, 150, max_residents=None)).tolist() == [
        0,
        0,
        1,
    ]
    assert _out_of_bounds(units, labels, Bounds(101, 200, 150, max_residents=None)).tolist() == [
        2,
        0,
        1,
    ]
    capped = Bounds(100, 201, 150, max_residents=499)
    assert _out_of_bounds(units, labels, capped).tolist() == [0, 0, 1]
    assert _out_of_bounds(units, labels, Bounds(100, 201, 150, max_residents=500)).tolist() == [
        0,
        0,
        0,
    ]


def test_a_community_left_worse_is_put_back_as_it_was_and_the_rest_kept() -> None:
    units = lattice(4, 2, np.full(8, 100), bands=2)  # communities: columns 0-1 and 2-3
    before = drawn("""
        0022
        1133
    """)  # four grids of 200
    after = drawn("""
        0011
        0011
    """)  # community 0 as one grid of 400 (fine); community 1: one grid of 400 too
    tight = Bounds(200, 300, 250, max_residents=None)  # 400 is out: both communities worse

    kept = _no_worse(units, before, after, tight)

    assert groups(kept) == groups(before)
    wide = Bounds(200, 400, 300, max_residents=None)
    assert np.array_equal(_no_worse(units, before, after, wide), after)
    mixed = drawn("""
        0023
        0023
    """)  # community 0 in one grid of 400 (out), community 1 split by columns (fine)
    right = drawn("""
        0022
        1122
    """)  # community 0 as before, community 1 in one grid of 400 (out): it goes back
    assert groups(_no_worse(units, before, right, tight)) == groups(before)
    result = _no_worse(units, before, mixed, tight)
    assert groups(result) == {
        frozenset({0, 1}),
        frozenset({4, 5}),  # community 0 as before
        frozenset({2, 6}),
        frozenset({3, 7}),  # community 1 as adjusted
    }


def test_a_locked_grid_above_the_maximum_keeps_its_units_through_the_repair() -> None:
    units = lattice(6, 2, np.full(12, 40))
    heavy = drawn("""
        000000
        000001
    """)  # 0: eleven units, 440 households (above), locked; 1: one unit, 40 (below)

    fixed = adjust(units, heavy, BOUNDS, locked=np.array([True, False])).labels

    assert np.array_equal(fixed == fixed[0], heavy == 0)  # not one unit moved out of it
    unlocked = adjust(units, heavy, BOUNDS).labels
    assert not np.array_equal(unlocked == unlocked[0], heavy == 0)  # else it would have


def test_a_lock_flag_beyond_the_last_grid_is_ignored() -> None:
    units = lattice(4, 2, np.full(8, 50))
    labels = drawn("""
        0011
        0011
    """)
    locked = np.array([False, False, True])  # a third flag: no such grid

    fixed = adjust(units, labels, BOUNDS, locked=locked)

    assert groups(fixed.labels) == groups(labels)


@pytest.mark.parametrize("seed", [0, 1])
def test_the_result_does_not_depend_on_how_the_grids_are_numbered(seed: int) -> None:
    units = lattice(6, 4, np.full(24, 40))
    labels = drawn("""
        000111
        000111
        222333
        222333
    """)  # four grids of 240
    labels[[0, 1]] = 5  # two units of grid 0 made a light grid of their own
    renumbered = np.array([7, 3, 9, 1, 4, 2])[labels]
    a = adjust(units, labels, BOUNDS, seed=seed).labels
    b = adjust(units, renumbered, BOUNDS, seed=seed).labels
    assert groups(a) == groups(b)


def test_a_light_grid_with_no_neighbour_to_join_does_not_stop_the_others() -> None:
    # unit 0 is a community of its own: its grid (40 households, the lightest) has no neighbour
    # to join; the next light grid, 1 (40), still joins its lightest neighbour, 2 (80)
    units = with_communities(lattice(4, 2, np.full(8, 40)), np.array([0, 1, 1, 1, 1, 1, 1, 1]))
    labels = drawn("""
        0233
        1233
    """)

    assert _merge_light(units, labels, BOUNDS, set(), np.random.default_rng(0)) is True

    assert labels.tolist().count(labels[0]) == 1  # grid 0 as it was
    assert labels[4] == labels[1] == labels[5]  # 1 joined 2


def test_a_grid_emptied_in_an_earlier_round_does_not_stop_the_merges() -> None:
    units = lattice(4, 1, np.full(4, 60))
    labels = np.array([0, 0, 2, 3])  # grid 1 holds no unit (its units left in a round before)

    assert _merge_light(units, labels, BOUNDS, set(), np.random.default_rng(0)) is True

    # by hand: grid 2 (60) joins its lightest neighbour, 3 (60); together still light (120),
    # they join grid 0 (120): one grid of 240, within 200-400
    assert groups(labels) == {frozenset(range(4))}


def test_a_locked_heavy_grid_does_not_stop_the_next_heavy_one_being_cut() -> None:
    units = lattice(6, 2, np.full(12, 40))
    labels = drawn("""
        000111
        000111
    """)  # 240 each: heavy under a maximum of 200
    low = Bounds(100, 200, 150, max_residents=None)

    assert _split_heavy(units, labels, low, {0}, np.random.default_rng(0)) is True

    assert (labels[[0, 1, 2, 6, 7, 8]] == 0).all()  # the locked grid whole
    assert len(set(labels[[3, 4, 5, 9, 10, 11]].tolist())) == 2  # the other cut in two


def test_a_grid_heavy_in_households_is_cut_under_a_residents_cap_it_keeps() -> None:
    units = lattice(6, 2, np.full(12, 40))  # 480 households, 12 × 105 = 1,260 residents
    capped = Bounds(200, 400, 300, max_residents=5000)
    labels = np.zeros(12, dtype=np.int64)

    assert _split_heavy(units, labels, capped, set(), np.random.default_rng(0)) is True

    assert labels.max() == 1


def test_light_grids_at_exactly_the_maximum_together_stay_one_even_below_a_low_target() -> None:
    units = lattice(5, 2, np.full(10, 40))
    labels = drawn("""
        01111
        01111
    """)  # 80 + 320 = 400, the maximum; a target of 220 alone would ask for two grids
    low_target = Bounds(200, 400, 220, max_residents=None)
    assert _merge_light(units, labels, low_target, set(), np.random.default_rng(0)) is True
    assert groups(labels) == {frozenset(range(10))}
