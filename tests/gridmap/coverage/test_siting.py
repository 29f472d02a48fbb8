"""Siting: greedy with lazy evaluation against the exact optimum, on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from scipy.sparse import csr_matrix

from gridmap.coverage.engine import nearest_stations
from gridmap.coverage.siting import CoverageSets, coverage_sets, exact, greedy
from gridmap.errors import InvalidInput
from gridmap.network import snap
from tests.gridmap.coverage.networks import lattice, points, street


def sets(*rows: set[int], residents: list[int]) -> CoverageSets:
    n = len(residents)
    dense = np.zeros((len(rows), n))
    for j, row in enumerate(rows):
        dense[j, sorted(row)] = 1.0 + np.arange(len(row))  # walks 0, 1, 2 ... (+1 stored)
    return CoverageSets(csr_matrix(dense), np.array(residents))


def test_greedy_falls_in_the_classic_trap_and_exact_does_not() -> None:
    trap = sets({0, 1, 2, 3}, {0, 1, 4}, {2, 3, 5}, residents=[1] * 6)

    g = greedy(trap, already_covered=0, total=6, k=2)
    e = exact(trap, already_covered=0, total=6, k=2)

    assert (g.covered_residents, g.chosen[0]) == (5, 0)  # the big set first, then 1 more
    assert (e.covered_residents, sorted(e.chosen.tolist())) == (6, [1, 2])
    assert g.gains.tolist() == [4, 1] and e.rate == 1.0


def test_the_fewest_sites_to_reach_a_target() -> None:
    case = sets({0}, {1, 2}, {3, 4, 5}, {0, 6}, residents=[10, 5, 5, 1, 1, 1, 10])

    g = greedy(case, already_covered=60, total=93, target_residents=0.98 * 93)
    e = exact(case, already_covered=60, total=93, target_residents=0.98 * 93)

    assert g.covered_residents >= 0.98 * 93 and e.covered_residents >= 0.98 * 93
    assert len(e.chosen) <= len(g.chosen) == 3
    with pytest.raises(InvalidInput, match="no set"):
        exact(case, already_covered=0, total=93, target_residents=93.5)


def test_a_capacity_caps_what_one_station_serves_nearest_first() -> None:
    case = sets({0, 1, 2}, residents=[400, 400, 400])
    capped = greedy(case, already_covered=0, total=1200, k=1, capacity=900)
    assert capped.gains.tolist() == [800]  # two buildings fit, nearest first


def test_greedy_never_beats_exact_on_random_cases() -> None:
    rng = np.random.default_rng(5)
    for _ in range(20):
        rows = [set(rng.choice(12, rng.integers(1, 6), replace=False)) for _ in range(7)]
        case = sets(*rows, residents=rng.integers(1, 20, 12).tolist())
        g = greedy(case, already_covered=0, total=500, k=3)
        e = exact(case, already_covered=0, total=500, k=3)
        assert g.covered_residents <= e.covered_residents
        assert g.covered_residents >= (1 - 1 / np.e) * e.covered_residents  # the 63% bound


def test_coverage_sets_match_a_station_placed_at_each_candidate() -> None:
    net = lattice(8, 8)
    rng = np.random.default_rng(2)
    buildings = snap(net, shapely.points(rng.uniform(0, 700, (250, 2))), max_snap_m=60)
    residents = rng.integers(1, 30, 250)
    existing = snap(net, shapely.points([[100, 100]]), max_snap_m=60)
    covered = nearest_stations(net, existing, buildings, budget_m=300).covered
    candidates = snap(net, shapely.points(rng.uniform(0, 700, (6, 2))), max_snap_m=60)

    found = coverage_sets(net, candidates, buildings, residents, covered, budget_m=300)

    for j in range(6):
        one = type(candidates)(
            candidates.edge[[j]],
            candidates.offset_m[[j]],
            candidates.snap_m[[j]],
            candidates.reachable[[j]],
        )
        reach = nearest_stations(net, one, buildings, budget_m=300)
        expected = np.flatnonzero(reach.covered & ~covered)
        got, walks = found.walks(j)
        assert sorted(got.tolist()) == expected.tolist()
        assert np.allclose(np.sort(walks), np.sort(reach.walk_m[expected]))


def test_a_candidate_brings_a_home_exactly_at_the_budget_and_not_one_past_it() -> None:
    net = street(9)  # nodes every 100 m, x from 0 to 800
    candidates = snap(net, points((0, 0), (800, 0), (400, 5000)), max_snap_m=60)  # the last: off
    homes = snap(net, points((300, 0), (301, 0), (650, 0)), max_snap_m=60)
    residents = np.array([7, 11, 13])
    sets = coverage_sets(net, candidates, homes, residents, np.zeros(3, bool), budget_m=300)
    # by hand: the first candidate walks 300 m to the first home (at the bound) and 301 m to
    # the second (past it); the second candidate 150 m to the third
    assert sets.walks(0)[0].tolist() == [0] and sets.walks(0)[1] == pytest.approx([300])
    assert sets.walks(1)[0].tolist() == [2] and sets.walks(1)[1] == pytest.approx([150])
    assert sets.walks(2)[0].tolist() == [] and sets.matrix.shape == (3, 3)
    assert sets.residents.tolist() == [7, 11, 13]
