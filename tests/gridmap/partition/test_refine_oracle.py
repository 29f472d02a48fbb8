"""The refinement against a reference written from its rules, with shapes measured by shapely.

Units are rectangles of random widths and heights; their areas, perimeters and shared
boundaries come from shapely, a grid's Polsby-Popper score from the union of its rectangles,
a grid's connectedness from networkx. ``reference_round`` is one round of the refinement as
its docstring states it, written plainly: candidates by falling gain, each grid moved at most
once, a move only within the bounds, without a more uneven load, leaving the donor connected.
"""

from __future__ import annotations

from functools import cache

import networkx as nx
import numpy as np
import pytest
import shapely
from scipy.sparse import csr_matrix

from gridmap.partition.engine import Bounds, Units, _compactness_gain, refine, repair


@cache
def _boxes_and_shared_edges(
    xs: tuple[float, ...], ys: tuple[float, ...]
) -> tuple[tuple[shapely.Polygon, ...], np.ndarray]:
    """The lattice's rectangles, row by row, and the length of boundary each pair shares, as
    shapely measures it (measured once per lattice: the tests ask for the same few many times)."""
    boxes = tuple(
        shapely.box(xs[c], ys[r], xs[c + 1], ys[r + 1])
        for r in range(len(ys) - 1)
        for c in range(len(xs) - 1)
    )
    edges = shapely.boundary(np.array(boxes))
    shared = shapely.length(shapely.intersection(edges[:, None], edges[None, :]))
    np.fill_diagonal(shared, 0.0)
    shared.flags.writeable = False
    return boxes, shared


def rectangles(seed: int, cols: int = 7, rows: int = 5) -> tuple[Units, list[shapely.Polygon]]:
    """Units on a lattice of rectangles of random sizes, measured by shapely."""
    rng = np.random.default_rng(seed)
    xs = np.r_[0, np.cumsum(rng.uniform(60, 140, cols))]
    ys = np.r_[0, np.cumsum(rng.uniform(60, 140, rows))]
    boxes, shared = _boxes_and_shared_edges(tuple(xs), tuple(ys))
    n = len(boxes)
    rows_, cols_ = np.nonzero(shared > 0)
    lengths = shared[rows_, cols_]
    households = rng.choice([20, 30, 40, 50], n).astype(np.int64)
    units = Units(
        csr_matrix((lengths, (rows_, cols_)), shape=(n, n)),
        households,
        rng.integers(40, 140, n).astype(np.int64),
        np.array([[b.centroid.x, b.centroid.y] for b in boxes]),
        np.zeros(n, dtype=np.int64),
        rng.uniform(0, 5, n),
        np.array([b.area for b in boxes]),
        np.array([b.length for b in boxes]),
    )
    return units, list(boxes)


def start_labels(seed: int, cols: int = 7, rows: int = 5) -> np.ndarray:
    """Rough grids: blocks of columns and rows, then boundary units pushed across (notches)."""
    rng = np.random.default_rng(seed + 1000)
    col = np.tile(np.arange(cols), rows)
    row = np.repeat(np.arange(rows), cols)
    labels = (col >= rng.integers(2, cols - 2)).astype(np.int64) * 2 + (row >= rows // 2)
    labels = np.unique(labels, return_inverse=True)[1].astype(np.int64)
    units, _ = rectangles(seed, cols, rows)
    graph = graph_of(units)
    for unit in rng.permutation(len(labels))[:12]:
        others = sorted({int(labels[v]) for v in graph[unit]} - {int(labels[unit])})
        rest = [x for x in np.flatnonzero(labels == labels[unit]) if x != unit]
        if others and rest and nx.is_connected(graph.subgraph(rest)):
            labels[unit] = others[0]
    return labels


def polsby_popper(boxes: list[shapely.Polygon], labels: np.ndarray, grid: int) -> float:
    shape = shapely.union_all([boxes[i] for i in np.flatnonzero(labels == grid)])
    return 0.0 if shape.is_empty else 4 * np.pi * shape.area / shape.length**2  # none: nothing


def graph_of(units: Units) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(range(len(units)))
    coo = units.adjacency.tocoo()
    graph.add_edges_from(zip(coo.row.tolist(), coo.col.tolist(), strict=True))
    return graph


def candidates(units: Units, labels: np.ndarray) -> list[tuple[int, int, int]]:
    """(unit, its grid, a neighbouring grid) for every adjacency entry across two grids."""
    coo = units.adjacency.tocoo()
    return [
        (int(u), int(labels[u]), int(labels[v]))
        for u, v in zip(coo.row, coo.col, strict=True)
        if labels[u] != labels[v]
    ]


def shape_gain(
    boxes: list[shapely.Polygon],
    labels: np.ndarray,
    move: tuple[int, int, int],
    before: dict[int, float] | None = None,
) -> float:
    """The change in the two grids' Polsby-Popper when the unit moves; ``before`` keeps each
    grid's score under ``labels`` (the same for every move of a round: measured once)."""
    unit, g, h = move
    after = labels.copy()
    after[unit] = h
    scores = {} if before is None else before
    for grid in (g, h):
        if grid not in scores:
            scores[grid] = polsby_popper(boxes, labels, grid)
    return (polsby_popper(boxes, after, g) + polsby_popper(boxes, after, h)) - (
        scores[g] + scores[h]
    )


def reference_round(
    units: Units, boxes: list[shapely.Polygon], labels: np.ndarray, bounds: Bounds
) -> np.ndarray:
    moves = candidates(units, labels)
    before: dict[int, float] = {}
    gains = [shape_gain(boxes, labels, m, before) for m in moves]
    graph = graph_of(units)
    load = units.load if units.load is not None else np.zeros(len(units))
    new, touched = labels.copy(), set()
    for i in sorted(range(len(moves)), key=lambda i: -gains[i]):
        unit, g, h = moves[i]
        if gains[i] <= 1e-9 or g in touched or h in touched:
            continue
        sums = {x: units.households[labels == x].sum() for x in (g, h)}
        if sums[g] - units.households[unit] < bounds.min_households:
            continue
        if sums[h] + units.households[unit] > bounds.max_households:
            continue
        cap = bounds.max_residents
        if cap is not None and units.residents[labels == h].sum() + units.residents[unit] > cap:
            continue
        load_g, load_h = load[labels == g].sum(), load[labels == h].sum()
        if abs((load_g - load[unit]) - (load_h + load[unit])) > abs(load_g - load_h):
            continue
        rest = [x for x in np.flatnonzero(labels == g) if x != unit]
        if not rest or not nx.is_connected(graph.subgraph(rest)):
            continue
        new[unit] = h
        touched |= {g, h}
    return new


@pytest.mark.parametrize("seed", range(6))
def test_the_gain_of_each_move_is_the_change_in_polsby_popper_that_shapely_measures(
    seed: int,
) -> None:
    units, boxes = rectangles(seed)
    labels = start_labels(seed)
    labels[np.random.default_rng(seed).choice(len(units), 4, replace=False)] = 0  # some apart
    moves = candidates(units, labels)
    u, g, h = (np.array(column) for column in zip(*moves, strict=True))

    gains = _compactness_gain(units, labels, int(labels.max()) + 1, u, g, h)

    expected = [shape_gain(boxes, labels, m) for m in moves]
    assert gains == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_without_shapes_the_gain_is_how_much_nearer_the_unit_is_to_the_other_grids_centre(
    seed: int,
) -> None:
    units, _ = rectangles(seed)
    units = Units(units.adjacency, units.households, units.residents, units.xy, units.community)
    labels = start_labels(seed)
    labels[0] = labels.max() + 1  # a grid of one unit: its centre is that unit
    moves = candidates(units, labels)
    u, g, h = (np.array(column) for column in zip(*moves, strict=True))

    gains = _compactness_gain(units, labels, int(labels.max()) + 1, u, g, h)

    def squared(unit: int, grid: int) -> float:
        centre = units.xy[labels == grid].mean(axis=0)
        return float(((units.xy[unit] - centre) ** 2).sum())

    assert gains == pytest.approx([squared(x, a) - squared(x, b) for x, a, b in moves])


BOUNDS = [
    Bounds(100, 400, 250, max_residents=None),
    Bounds(150, 330, 240, max_residents=None),
    Bounds(120, 380, 250, max_residents=700),
]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("bounds", BOUNDS, ids=["wide", "narrow", "residents"])
def test_each_round_makes_the_moves_the_rules_make(seed: int, bounds: Bounds) -> None:
    units, boxes = rectangles(seed)
    labels = start_labels(seed)
    for _ in range(30):  # round by round until nothing moves
        expected = reference_round(units, boxes, labels, bounds)
        moved = refine(units, labels, bounds, rounds=1)
        assert np.array_equal(moved, expected), np.flatnonzero(moved != expected)
        if np.array_equal(moved, labels):
            break
        labels = moved
    else:
        pytest.fail("the refinement kept moving units for 30 rounds")
    assert np.array_equal(refine(units, start_labels(seed), bounds, rounds=30), labels)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_move_to_exactly_a_bound_is_made_and_one_beyond_is_not(seed: int) -> None:
    units, _ = rectangles(seed)
    labels = start_labels(seed)
    loose = refine(units, labels, Bounds(1, 10**6, 1, max_residents=None), rounds=1)
    unit = int(np.flatnonzero(loose != labels)[0])
    g, h, w = labels[unit], loose[unit], int(units.households[unit])
    give, take = int(units.households[labels == g].sum()), int(units.households[labels == h].sum())

    def moved(low: int, high: int) -> bool:
        bounds = Bounds(low, max(high, low), low, max_residents=None)
        return bool(refine(units, labels, bounds, rounds=1)[unit] == h)

    assert moved(give - w, 10**6) and not moved(give - w + 1, 10**6)  # the donor's minimum
    assert moved(1, take + w) and not moved(1, take + w - 1)  # the taker's maximum
    residents = int(units.residents[labels == h].sum() + units.residents[unit])
    capped = [Bounds(1, 10**6, 1, max_residents=cap) for cap in (residents, residents - 1)]
    assert [refine(units, labels, b, rounds=1)[unit] == h for b in capped] == [True, False]


def reference_repair_round(
    units: Units, labels: np.ndarray, bounds: Bounds, frozen: set[int]
) -> np.ndarray:
    """One round of the repair as its docstring states it, plainly: each faulty grid not locked,
    in order, moves the heaviest unit it can (lowest unit first among equals) across its boundary:
    a grid above the maximum gives one to a neighbour with room, one below the minimum takes one
    from a neighbour with households to spare; the giving grid stays connected."""
    graph = graph_of(units)
    labels = labels.copy()
    w = units.households
    households = {int(x): int(w[labels == x].sum()) for x in np.unique(labels)}
    faulty = [
        x
        for x, total in sorted(households.items())
        if (total > bounds.max_households or total < bounds.min_households) and x not in frozen
    ]
    for g in faulty:
        heavy = households[g] > bounds.max_households
        options = []
        for u in np.flatnonzero(labels == g):
            for v in sorted(graph[u]):
                h = int(labels[v])
                if h == g or h in frozen:
                    continue
                if heavy and households[h] + w[u] <= bounds.max_households:
                    options.append((int(u), h))
                if (
                    not heavy
                    and households[h] - w[v] >= bounds.min_households
                    and households[g] + w[v] <= bounds.max_households
                ):
                    options.append((int(v), g))
        for unit, target in sorted(options, key=lambda o: -w[o[0]]):
            source = int(labels[unit])
            rest = [x for x in np.flatnonzero(labels == source) if x != unit]
            if rest and not nx.is_connected(graph.subgraph(rest)):
                continue
            labels[unit] = target
            households[source] -= int(w[unit])
            households[target] += int(w[unit])
            break
    return labels


REPAIR_BOUNDS = [
    Bounds(250, 350, 300, max_residents=None),
    Bounds(200, 400, 300, max_residents=None),
    Bounds(280, 330, 300, max_residents=None),
]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("bounds", REPAIR_BOUNDS, ids=["mid", "wide", "tight"])
@pytest.mark.parametrize("locked", [None, 0, 2])
def test_each_repair_round_makes_the_moves_the_rules_make(
    seed: int, bounds: Bounds, locked: int | None
) -> None:
    units, _ = rectangles(seed)
    labels = start_labels(seed)
    frozen_grids = set() if locked is None else {locked}
    frozen = np.isin(np.arange(labels.max() + 1), list(frozen_grids))
    moves = 0
    for _ in range(60):
        expected = reference_repair_round(units, labels, bounds, frozen_grids)
        repaired = repair(units, labels, bounds, frozen=frozen, rounds=1)
        assert np.array_equal(repaired, expected), np.flatnonzero(repaired != expected)
        if np.array_equal(repaired, labels):
            break
        moves += int((repaired != labels).sum())
        labels = repaired
    else:
        pytest.fail("the repair kept moving units for 60 rounds")
    if locked is not None:
        assert np.array_equal(labels == locked, start_labels(seed) == locked)
    assert np.array_equal(repair(units, start_labels(seed), bounds, frozen=frozen), labels)


def test_a_unit_that_holds_its_grid_together_never_moves_however_much_it_gains() -> None:
    # grid 0 is two columns of three joined by one unit (6), drawn far up beside grid 1's only
    # unit (7): moving it to grid 1 gains most but would cut grid 0 in two; the next best
    # move, the corner unit 0 to grid 2 (unit 8, below it), keeps grid 0 whole
    pairs = [(0, 1), (1, 2), (3, 4), (4, 5), (1, 6), (4, 6), (6, 7), (0, 8), (3, 8)]
    n = 9
    rows, cols = np.array(pairs).T
    adjacency = csr_matrix((np.ones(2 * len(pairs)), (np.r_[rows, cols], np.r_[cols, rows])))
    xy = np.array(
        [
            [0, 0],
            [0, 100],
            [0, 200],
            [200, 0],
            [200, 100],
            [200, 200],
            [100, 900],
            [100, 1000],
            [100, -100],
        ],
        dtype=float,
    )
    tens = np.full(n, 10, dtype=np.int64)
    units = Units(adjacency, tens, tens, xy, np.zeros(n, dtype=np.int64))
    labels = np.array([0, 0, 0, 0, 0, 0, 0, 1, 2])
    moves = candidates(units, labels)
    u, g, h = (np.array(column) for column in zip(*moves, strict=True))
    gains = _compactness_gain(units, labels, 3, u, g, h)
    assert moves[int(np.argmax(gains))] == (6, 0, 1)  # the joining unit gains most

    moved = refine(units, labels, Bounds(1, 10**6, 1, max_residents=None))

    assert moved[6] == 0 and moved[0] == 2
    graph = graph_of(units)
    for grid in np.unique(moved):
        assert nx.is_connected(graph.subgraph(np.flatnonzero(moved == grid).tolist())), grid


@pytest.mark.parametrize("seed", range(3))
def test_the_gain_with_a_grid_of_one_unit_numbered_last(seed: int) -> None:
    # a grid of one unit has no inner boundary: its perimeter is its unit's, all of it
    units, boxes = rectangles(seed)
    labels = start_labels(seed)
    labels[0] = labels.max() + 1
    moves = candidates(units, labels)
    u, g, h = (np.array(column) for column in zip(*moves, strict=True))

    gains = _compactness_gain(units, labels, int(labels.max()) + 1, u, g, h)

    assert gains == pytest.approx([shape_gain(boxes, labels, m) for m in moves], abs=1e-12)
