"""The partition engine on lattices of units: contiguous, nested, within bounds, repeatable."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from gridmap.errors import InvalidInput
from gridmap.partition.adjust import adjust
from gridmap.partition.engine import Bounds, Units, _radius, grid_radius, partition, refine

BOUNDS = Bounds(min_households=300, max_households=500, target_households=400, max_residents=None)


def lattice(cols: int, rows: int, households, *, bands: int = 1, size: float = 100.0) -> Units:
    """Square units on a grid, rook adjacency, communities as vertical bands."""
    index = np.arange(cols * rows).reshape(rows, cols)
    pairs = np.r_[
        np.c_[index[:, :-1].ravel(), index[:, 1:].ravel()],
        np.c_[index[:-1].ravel(), index[1:].ravel()],
    ]
    n = cols * rows
    adjacency = csr_matrix(
        (
            np.ones(2 * len(pairs)),
            (np.r_[pairs[:, 0], pairs[:, 1]], np.r_[pairs[:, 1], pairs[:, 0]]),
        ),
        shape=(n, n),
    )
    col = np.tile(np.arange(cols), rows)
    community = col * bands // cols
    keep = community[pairs[:, 0]] == community[pairs[:, 1]]  # no adjacency across communities
    pairs = pairs[keep]
    adjacency = csr_matrix(
        (
            np.ones(2 * len(pairs)),
            (np.r_[pairs[:, 0], pairs[:, 1]], np.r_[pairs[:, 1], pairs[:, 0]]),
        ),
        shape=(n, n),
    )
    households = np.asarray(households, dtype=np.int64)
    xy = np.c_[col * size, np.repeat(np.arange(rows), cols) * size].astype(float)
    return Units(adjacency, households, np.round(households * 2.62).astype(np.int64), xy, community)


def check_valid(units: Units, labels: np.ndarray) -> None:
    assert (labels >= 0).all()  # every unit in exactly one grid
    for g in np.unique(labels):
        members = np.flatnonzero(labels == g)
        sub = units.adjacency[members][:, members]
        assert connected_components(sub, directed=False)[0] == 1, f"grid {g} is in pieces"
        assert len(np.unique(units.community[members])) == 1, f"grid {g} spans communities"


def test_a_lattice_is_cut_into_contiguous_grids_within_bounds() -> None:
    units = lattice(20, 20, np.full(400, 40), bands=2)  # 16,000 households, 8,000 a community

    result = partition(units, BOUNDS, seed=1)

    check_valid(units, result.labels)
    households = np.bincount(result.labels, weights=units.households)
    assert ((households >= 300) & (households <= 500)).all()
    assert result.n_grids == 40 and result.cases == []


@settings(max_examples=25, deadline=None)
@given(st.integers(4, 14), st.integers(4, 14), st.integers(1, 3), st.integers(0, 2**16))
def test_random_maps_give_valid_plans_within_bounds(cols, rows, bands, seed) -> None:
    rng = np.random.default_rng(seed)
    units = lattice(cols, rows, rng.integers(5, 50, cols * rows), bands=min(bands, cols))
    result = partition(units, BOUNDS, seed=seed)
    check_valid(units, result.labels)
    households = np.bincount(result.labels, weights=units.households)
    totals = np.bincount(units.community, weights=units.households)
    # some count of grids fits with room for a unit (50 households) to spare on each side
    feasible_community = np.ceil((totals + 50) / 500) <= np.floor((totals - 50) / 300)
    first_unit = np.unique(result.labels, return_index=True)[1]
    feasible = feasible_community[units.community[first_unit]]
    in_bounds = (households >= 300) & (households <= 500)
    if feasible.any():
        assert in_bounds[feasible].mean() >= 0.98
    again = partition(units, BOUNDS, seed=seed)
    assert np.array_equal(result.labels, again.labels)  # the same seed, the same plan


def test_infeasible_cases_are_named_and_the_rest_is_solved() -> None:
    households = np.full(60, 30)
    households[7] = 900  # one unit above the maximum
    units = lattice(6, 10, households, bands=2)
    small = lattice(3, 2, np.full(6, 20))  # a community of 120 households

    result = partition(units, BOUNDS)
    tiny = partition(small, BOUNDS)

    kinds = {c.kind for c in result.cases}
    assert "oversize_unit" in kinds and result.labels[7] not in np.delete(result.labels, 7)
    check_valid(units, result.labels)
    assert tiny.n_grids == 1 and tiny.cases[0].kind == "undersize_community"
    assert "below the minimum 300" in tiny.cases[0].message


def test_an_island_unit_is_named() -> None:
    units = lattice(5, 4, np.full(20, 40))
    adjacency = units.adjacency.tolil()
    for other in list(adjacency.rows[0]):
        adjacency[0, other] = 0
        adjacency[other, 0] = 0
    adjacency = adjacency.tocsr()
    adjacency.eliminate_zeros()
    island = Units(adjacency, units.households, units.residents, units.xy, units.community)
    result = partition(island, BOUNDS)
    assert any(c.kind == "island" and c.units == (0,) for c in result.cases)
    check_valid(island, result.labels)


def test_a_service_radius_asks_for_more_grids_when_the_bounds_allow() -> None:
    strip = lattice(40, 2, np.full(80, 12))  # 960 households along a 4 km strip
    loose = partition(strip, BOUNDS, seed=1)
    tight = partition(strip, Bounds(300, 500, 400, max_residents=None, radius_m=700), seed=1)

    assert loose.n_grids == 2 and grid_radius(strip, loose.labels).max() > 700
    assert tight.n_grids == 3 and grid_radius(strip, tight.labels).max() <= 700
    assert tight.cases == []
    check_valid(strip, tight.labels)


def test_the_radius_is_reported_and_grids_stay_compact() -> None:
    units = lattice(16, 16, np.full(256, 40))
    result = partition(units, Bounds(300, 500, 400, max_residents=None, radius_m=150), seed=3)
    radius = grid_radius(units, result.labels)
    assert radius.max() < 400  # about ten 100 m units per grid: compact, not strung out
    assert {c.kind for c in result.cases} <= {"radius"}


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(InvalidInput, match="min <= target <= max"):
        Bounds(min_households=500, max_households=300, target_households=400)


def test_adjustment_fixes_only_the_grids_that_break_a_rule() -> None:
    units = lattice(12, 12, np.full(144, 40), bands=2)  # 72 units of 40 per community
    good = partition(units, BOUNDS, seed=2).labels
    spoiled = good.copy()
    a, b = spoiled[0], spoiled[71]  # two grids of the first community...
    spoiled[spoiled == b] = a  # ...made one: above the maximum

    fixed = adjust(units, spoiled, BOUNDS, seed=2)

    check_valid(units, fixed.labels)
    households = np.bincount(fixed.labels, weights=units.households)
    assert ((households >= 300) & (households <= 500)).all()
    untouched = spoiled != a
    # every grid that was fine keeps exactly its units
    for g in np.unique(spoiled[untouched]):
        members = np.flatnonzero(spoiled == g)
        assert len(np.unique(fixed.labels[members])) == 1
        assert (fixed.labels == fixed.labels[members[0]]).sum() == len(members)


def test_adjustment_merges_a_light_grid_and_never_touches_a_locked_one() -> None:
    units = lattice(10, 4, np.full(40, 40))  # 1,600 households
    labels = np.repeat(np.arange(4), 10)  # rows: 4 grids of 400
    labels[[9]] = 4  # one unit on its own: 40 households, far below the minimum
    locked = np.zeros(5, bool)
    locked[1] = True

    fixed = adjust(units, labels, BOUNDS, locked=locked)

    check_valid(units, fixed.labels)
    row_one = np.flatnonzero(labels == 1)
    assert (fixed.labels == fixed.labels[row_one[0]]).sum() == 10  # the locked grid as it was
    households = np.bincount(fixed.labels, weights=units.households)
    assert ((households >= 300) & (households <= 500)).all()
    assert fixed.n_grids == 4


def test_governance_load_is_shared_more_evenly_when_given() -> None:
    plain = lattice(16, 16, np.full(256, 40))
    load = np.zeros(256)
    load[:48] = 30.0  # three rows of busy units along one edge (a market street, say)
    loaded = Units(
        plain.adjacency, plain.households, plain.residents, plain.xy, plain.community, load
    )

    without = partition(plain, BOUNDS, seed=4).labels
    with_load = partition(loaded, BOUNDS, seed=4).labels

    def spread(labels: np.ndarray) -> float:
        return float(np.std(np.bincount(labels, weights=load)))

    check_valid(loaded, with_load)
    assert spread(with_load) < spread(without)


def polsby_popper(units: Units, labels: np.ndarray) -> np.ndarray:
    graph = units.adjacency.tocoo()
    inside = labels[graph.row] == labels[graph.col]
    area = np.bincount(labels, weights=units.area)
    perimeter = np.bincount(labels, weights=units.perimeter) - np.bincount(
        labels[graph.row[inside]], weights=graph.data[inside], minlength=len(area)
    )
    return 4 * np.pi * area / perimeter**2


def test_refinement_with_unit_shapes_takes_back_a_protruding_unit() -> None:
    plain = lattice(6, 4, np.full(24, 25))  # one community of 24 square units, 600 households
    shaped = Units(
        plain.adjacency * 100.0,
        plain.households,
        plain.residents,
        plain.xy,
        plain.community,
        None,
        np.full(24, 100.0 * 100.0),
        np.full(24, 400.0),
    )
    halves = np.tile(np.arange(6) // 3, 4)  # two grids of 3 × 4 units
    notched = halves.copy()
    notched[3] = 0  # the right half's corner unit sticks out of the left half
    bounds = Bounds(200, 500, 300, max_residents=None)

    refined = refine(shaped, notched, bounds)

    check_valid(shaped, refined)
    assert np.array_equal(refined, halves)
    before, after = polsby_popper(shaped, notched), polsby_popper(shaped, refined)
    assert after.min() == pytest.approx(4 * np.pi * 12e4 / 1400**2)
    assert after.mean() > before.mean()
    assert np.array_equal(
        refine(shaped, notched, Bounds(325, 500, 400, max_residents=None)), notched
    )  # the move would leave the right half below the minimum


def test_a_count_that_leaves_no_room_is_passed_over_for_one_that_does() -> None:
    # found by the property test: 999 households would need two grids of 499.5 of at most 500
    rng = np.random.default_rng(61686)
    units = lattice(10, 8, rng.integers(5, 50, 80), bands=2)
    assert np.bincount(units.community, weights=units.households).tolist() == [1099, 999]

    result = partition(units, BOUNDS, seed=61686)

    households = np.bincount(result.labels, weights=units.households)
    assert ((households >= 300) & (households <= 500)).all() and result.cases == []
    check_valid(units, result.labels)


@pytest.mark.parametrize("radius_m", [None, 10_000.0])  # a radius that binds no grid
def test_six_chunky_units_get_six_grids_when_five_would_leave_one_out_of_bounds(
    radius_m: float | None,
) -> None:
    households = [304, 330, 360, 380, 400, 416]  # 2,190 in all: 5 grids by the target
    units = lattice(6, 1, households)

    result = partition(units, replace(BOUNDS, radius_m=radius_m), seed=1)

    grid_households = np.bincount(result.labels, weights=units.households)
    assert sorted(grid_households.tolist()) == sorted(households)  # one unit a grid
    assert result.cases == []


def test_adjusting_never_leaves_more_grids_out_of_bounds_than_before() -> None:
    units = lattice(2, 1, [536, 68])  # one grid of 604: over the maximum
    current = np.array([0, 0])

    result = adjust(units, current, BOUNDS, seed=1)

    # splitting it would give 536 and 68, both out of bounds: the grid is kept as it was
    assert result.labels.tolist() == [0, 0]
    assert [c.kind for c in result.cases] == ["out_of_bounds"]


def test_a_grid_of_exactly_the_maximum_is_kept_whole() -> None:
    units = lattice(2, 1, [250, 250])  # 500 households: the maximum itself

    result = partition(units, Bounds(100, 500, 500, max_residents=None), seed=1)

    assert result.labels.tolist() == [0, 0] and result.cases == []


def test_a_grid_reaching_exactly_the_service_radius_is_not_cut_finer() -> None:
    units = lattice(2, 1, [200, 200], size=256.0)  # centres 256 m apart: 128 m from the middle
    bounds = Bounds(100, 500, 400, max_residents=None, radius_m=128.0)

    result = partition(units, bounds, seed=1)

    assert result.labels.tolist() == [0, 0] and result.cases == []
    assert grid_radius(units, result.labels).tolist() == [128.0]  # exactly, in floating point
    finer = partition(units, replace(bounds, radius_m=127.0), seed=1)  # a metre less: two grids
    assert sorted(finer.labels.tolist()) == [0, 1] and finer.cases == []


def test_cases_name_the_community_they_arise_in() -> None:
    # two communities side by side: the first holds 200 households in all, the second a unit
    # above the maximum, one of 150 left under the minimum and, cut off from the rest, an island
    units = lattice(5, 1, [100, 100, 620, 150, 400], bands=2)
    units = replace(units, community=np.array([0, 0, 1, 1, 1]))
    units = replace(units, adjacency=units.adjacency.tolil())
    units.adjacency[2, 3] = units.adjacency[3, 2] = 1  # the bands split 2 and 3: join them
    units.adjacency[3, 4] = units.adjacency[4, 3] = 0  # unit 4 shares no boundary with unit 3
    units = replace(units, adjacency=units.adjacency.tocsr())
    units.adjacency.eliminate_zeros()

    result = partition(units, BOUNDS, seed=1)

    assert sorted((c.kind, c.community, c.units) for c in result.cases) == [
        ("island", 1, (4,)),
        ("out_of_bounds", 0, (0, 1)),
        ("out_of_bounds", 1, (2,)),
        ("out_of_bounds", 1, (3,)),
        ("oversize_unit", 1, (2,)),
        ("undersize_community", 0, (0, 1)),
    ]


def test_when_no_grid_count_fits_the_first_of_equally_bad_counts_is_kept() -> None:
    # 600 households in three units of 200, bounds 300-500: two grids (200 and 400) leave one
    # grid out, and so does one grid (600); the count by the target, two, is kept
    units = lattice(3, 1, [200, 200, 200])

    result = partition(units, BOUNDS, seed=1)

    assert sorted(np.bincount(result.labels, weights=units.households).tolist()) == [200, 400]
    assert [c.kind for c in result.cases] == ["out_of_bounds"]


def test_when_one_grid_leaves_fewest_out_of_bounds_the_piece_stays_whole() -> None:
    # 700 households: one grid is out (over 500), while two or three leave two grids out
    units = lattice(3, 1, [100, 500, 100])

    result = partition(units, BOUNDS, seed=1)

    assert result.labels.tolist() == [0, 0, 0]
    assert [c.kind for c in result.cases] == ["out_of_bounds"]


def test_a_grid_s_radius_is_from_its_households_centre() -> None:
    # 100 households at x = 0 and 300 at x = 400: the centre is at x = 300, 300 m from the first
    units = lattice(2, 1, [100, 300], size=400.0)
    assert _radius(units, np.array([0, 1])) == pytest.approx(300, abs=1e-6)
    assert grid_radius(units, np.array([0, 0])).tolist() == pytest.approx([300], abs=1e-6)
    empty = lattice(2, 1, [0, 0], size=400.0)  # no households: the plain middle
    assert _radius(empty, np.array([0, 1])) == pytest.approx(200)


@pytest.mark.parametrize(
    ("cols", "rows", "households", "current"),
    [
        (4, 2, [133, 56, 193, 60, 191, 141, 107, 177], [3, 3, 2, 0, 0, 3, 1, 3]),
        (
            4,
            3,
            [30, 107, 224, 162, 31, 114, 144, 169, 236, 177, 162, 23],
            [1, 3, 1, 3, 0, 2, 0, 0, 1, 3, 0, 2],
        ),
    ],
    ids=["splits-then-merges", "merges-alone"],
)
def test_adjusting_goes_on_for_another_round_while_the_last_changed_something(
    cols: int, rows: int, households: list[int], current: list[int]
) -> None:
    # one round of splits and merges leaves grids out of bounds, the next brings every grid
    # within them (cases found by a search over random lattices)
    units = lattice(cols, rows, households)

    result = adjust(units, np.array(current), BOUNDS, seed=0)

    sums = np.bincount(result.labels, weights=units.households)
    assert ((sums >= 300) & (sums <= 500)).all() and result.cases == []
    check_valid(units, result.labels)
    assert np.array_equal(adjust(units, np.array(current), BOUNDS, seed=0).labels, result.labels)


def test_a_locked_grid_other_than_the_first_is_kept_as_it_is() -> None:
    units = lattice(4, 1, [150, 150, 400, 400])  # grid 1 holds 800: over the maximum
    current = np.array([0, 0, 1, 1])

    kept = adjust(units, current, BOUNDS, locked=np.array([False, True]), seed=0)
    free = adjust(units, current, BOUNDS, seed=0)

    assert kept.labels[2] == kept.labels[3] != kept.labels[0]
    assert [(c.kind, c.units) for c in kept.cases] == [("out_of_bounds", (2, 3))]
    assert free.labels[2] != free.labels[3] and free.cases == []  # unlocked, it is split


def test_a_piece_of_exactly_the_small_size_still_tries_every_grid_count() -> None:
    # twelve chunky units (SMALL_PIECE_UNITS): 11 grids by the target would put two units of
    # 300 or more in one grid; twelve grids, one unit each, are all within bounds
    units = lattice(12, 1, [304, 330, 360, 380, 400, 416] * 2)

    result = partition(units, BOUNDS, seed=1)

    assert result.n_grids == 12 and result.cases == []


def test_a_small_piece_whose_every_count_leaves_a_grid_out_keeps_its_first_under_a_radius() -> None:
    # 510 households: one grid is over the maximum, two are both under the minimum; with a
    # service radius that binds nothing the piece stays one grid, reported
    units = lattice(2, 1, [250, 260])

    result = partition(units, replace(BOUNDS, radius_m=10_000.0), seed=1)

    assert result.labels.tolist() == [0, 0]
    assert [c.kind for c in result.cases] == ["out_of_bounds"]


def test_a_heavy_grid_cut_into_a_part_still_heavy_is_cut_again_next_round() -> None:
    # 900 households in three units of 300: two grids by the target, and the only cuts leave
    # 300 and 600; the next round cuts the 600 again: three grids of 300
    units = lattice(3, 1, [300, 300, 300])

    result = adjust(units, np.zeros(3, dtype=np.int64), BOUNDS, seed=0)

    assert sorted(result.labels.tolist()) == [0, 1, 2] and result.cases == []
