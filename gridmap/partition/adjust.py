"""Adjustment mode: fix only the grids that break a rule, and the neighbours needed to fix them.

Every other grid keeps exactly its units, and a locked grid never changes. A grid in pieces is
taken apart into its connected pieces; a grid above the maximum households (or the residents
cap) is re-cut alone; a grid below the minimum is merged with its lightest unlocked neighbour in
the same community, and the pair is re-cut when together they exceed the maximum.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components

from gridmap.partition.engine import (
    Bounds,
    Partition,
    Units,
    grid_count,
    repair,
    report_cases,
    split_piece,
)

MAX_ROUNDS = 8


def adjust(
    units: Units,
    current: NDArray[np.int64],
    bounds: Bounds,
    *,
    locked: NDArray[np.bool_] | None = None,
    seed: int = 0,
) -> Partition:
    """Return the current labels with the fewest changes that bring grids within the bounds.

    ``locked`` holds, per current grid label, whether a planner locked it.
    """
    rng = np.random.default_rng(seed)
    labels = _relabel(np.asarray(current, dtype=np.int64))
    locked_grids = set() if locked is None else set(np.flatnonzero(locked).tolist())
    _, first = np.unique(current, return_index=True)
    locked_now = {int(labels[first[g]]) for g in locked_grids if g < len(first)}
    for _ in range(MAX_ROUNDS):
        changed = _pieces_apart(units, labels, locked_now)
        changed |= _split_heavy(units, labels, bounds, locked_now, rng)
        changed |= _merge_light(units, labels, bounds, locked_now, rng)
        if not changed:
            break
    frozen = np.zeros(int(labels.max()) + 1, dtype=bool)
    frozen[list(locked_now)] = True
    labels = _relabel(repair(units, labels, bounds, frozen=frozen))
    labels = _no_worse(units, _relabel(np.asarray(current, dtype=np.int64)), labels, bounds)
    return Partition(labels, report_cases(units, labels, bounds))


def _no_worse(
    units: Units, before: NDArray[np.int64], after: NDArray[np.int64], bounds: Bounds
) -> NDArray[np.int64]:
    """Keep a community as it was where adjusting it left more grids out of bounds."""
    worse = np.flatnonzero(
        _out_of_bounds(units, after, bounds) > _out_of_bounds(units, before, bounds)
    )
    if not worse.size:
        return after
    back = np.isin(units.community, worse)
    merged = after.copy()
    merged[back] = before[back] + int(after.max()) + 1
    return _relabel(merged)


def _out_of_bounds(units: Units, labels: NDArray[np.int64], bounds: Bounds) -> NDArray[np.int64]:
    """Count, per community, its grids outside the household bounds or the residents cap."""
    pairs, pair_of = np.unique(np.c_[units.community, labels], axis=0, return_inverse=True)
    pair_of = pair_of.ravel()
    households = np.bincount(pair_of, weights=units.households, minlength=len(pairs))
    residents = np.bincount(pair_of, weights=units.residents, minlength=len(pairs))
    out = (households < bounds.min_households) | (households > bounds.max_households)
    if bounds.max_residents:
        out |= residents > bounds.max_residents
    return np.bincount(pairs[:, 0], weights=out, minlength=int(units.community.max()) + 1).astype(
        np.int64
    )


def _relabel(labels: NDArray[np.int64]) -> NDArray[np.int64]:
    """Renumber grids 0.. by first appearance."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return order[inverse.ravel()].astype(np.int64)


def _members(labels: NDArray[np.int64], g: int) -> NDArray[np.int64]:
    return np.flatnonzero(labels == g)


def _pieces_apart(units: Units, labels: NDArray[np.int64], locked: set[int]) -> bool:
    """Give every extra connected piece of a grid (or a piece in another community) a label."""
    changed = False
    for g in np.unique(labels):
        if int(g) in locked:
            continue
        members = _members(labels, int(g))
        sub = units.adjacency[members][:, members]
        _, part = connected_components(sub, directed=False)
        community = units.community[members]
        key = part * (community.max() + 1) + community  # a piece per component and community
        pieces = np.unique(key)
        if len(pieces) > 1:
            for k in pieces[1:]:
                labels[members[key == k]] = labels.max() + 1
            changed = True
    return changed


def _split_heavy(
    units: Units,
    labels: NDArray[np.int64],
    bounds: Bounds,
    locked: set[int],
    rng: np.random.Generator,
) -> bool:
    households = np.bincount(labels, weights=units.households)
    residents = np.bincount(labels, weights=units.residents)
    heavy = households > bounds.max_households
    if bounds.max_residents:
        heavy |= residents > bounds.max_residents
    changed = False
    for g in np.flatnonzero(heavy):
        members = _members(labels, int(g))
        if int(g) in locked or len(members) < 2:
            continue
        k = max(2, grid_count(units, members, bounds))
        parts = split_piece(units, members, k, bounds, rng)
        for part in parts[1:]:
            labels[part] = labels.max() + 1
        changed = changed or len(parts) > 1
    return changed


def _merge_light(
    units: Units,
    labels: NDArray[np.int64],
    bounds: Bounds,
    locked: set[int],
    rng: np.random.Generator,
) -> bool:
    households = np.bincount(labels, weights=units.households)
    changed = False
    for g in np.argsort(households):  # the lightest first
        if households[g] >= bounds.min_households or int(g) in locked:
            continue
        members = _members(labels, int(g))
        if not len(members):
            continue
        touching = np.unique(labels[units.adjacency[members].indices])
        community = units.community[members[0]]
        neighbours = [
            int(n)
            for n in touching
            if n != g
            and int(n) not in locked
            and units.community[_members(labels, int(n))[0]] == community
        ]
        if not neighbours:
            continue
        partner = min(neighbours, key=lambda n: households[n])
        merged = np.r_[members, _members(labels, partner)]
        labels[merged] = partner
        if households[g] + households[partner] > bounds.max_households:
            parts = split_piece(units, merged, grid_count(units, merged, bounds), bounds, rng)
            for part in parts[1:]:
                labels[part] = labels.max() + 1
        households = np.bincount(labels, weights=units.households, minlength=len(households))
        changed = True
    return changed
