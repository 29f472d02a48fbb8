"""Splitting one grid of a draft into k by hand: a seeded cut of that grid alone.

The grid's units are cut by the engine's spanning-tree bisection (:func:`split_piece`) under the
bounds of the grid's kind, so every part is contiguous wherever the grid was; a grid already in
pieces is first joined, for the cut only, by its nearest links between pieces. The same seed
gives the same parts, so what a planner previewed is what is applied. The part with the most
households keeps the grid's code (and its staff); the others become new grids with the next
serials of the community.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from sqlalchemy import Connection

from gridmap.db import plan_grids
from gridmap.db import plans as plan_rows
from gridmap.errors import InvalidInput
from gridmap.partition.engine import Units, split_piece
from gridmap.partition.service import kind_bounds, load_units
from gridmap.plans import lifecycle
from gridmap.plans.grid_edits import carve_grids
from gridmap.plans.lifecycle import EditResult

MAX_PARTS = 8
"""The most parts a grid is split into by hand."""


@dataclass(frozen=True)
class Part:
    """One part of a split grid: its units, figures, and the code it gets (None: a new one)."""

    units: list[str]
    households: int
    residents: int
    code: str | None


def propose_split(
    connection: Connection, plan_id: int, grid: str, k: int, *, seed: int = 0
) -> list[Part]:
    """Return the ``k`` parts grid ``grid`` of plan ``plan_id`` would be split into.

    Raises
    ------
    InvalidInput
        When ``k`` is not 2 to :data:`MAX_PARTS`, the grid is unknown or dedicated, or it has
        fewer than ``k`` units.
    """
    if not 2 <= k <= MAX_PARTS:
        raise InvalidInput(f"k: split into 2 to {MAX_PARTS} grids (got {k})")
    row = _grid_row(connection, plan_id, grid)
    if row["kind"] == "dedicated":
        raise InvalidInput(f"grid: {grid} is a dedicated grid; dedicated grids are not split")
    city = load_units(connection, within=row["community"])
    assert city.codes is not None  # load_units reads them
    inside = plan_grids.grid_unit_codes(connection, plan_id, grid)  # not the plan's every unit
    piece = np.flatnonzero(np.isin(city.codes.astype(str), inside))
    if len(piece) < k:
        raise InvalidInput(f"k: grid {grid} has {len(piece)} units, too few for {k} grids")
    units = _joined(city.units, piece)
    by_kind = kind_bounds(None)
    bounds = by_kind.get(row["kind"], by_kind["urban"])
    parts = split_piece(units, piece, k, bounds, np.random.default_rng(seed))
    parts = sorted(parts, key=lambda p: (-int(units.households[p].sum()), int(p.min())))
    return [
        Part(
            sorted(str(c) for c in city.codes[p]),
            int(units.households[p].sum()),
            int(units.residents[p].sum()),
            grid if i == 0 else None,
        )
        for i, p in enumerate(parts)
    ]


def apply_split(
    connection: Connection,
    plan_id: int,
    grid: str,
    k: int,
    *,
    seed: int = 0,
    expected_revision: int,
    author: str,
) -> tuple[list[Part], EditResult]:
    """Split grid ``grid`` as :func:`propose_split` says, if the plan is at ``expected_revision``.

    The plan is locked and checked first, so the parts are cut from the plan as the caller saw
    it; the new grids' codes are filled into the parts returned.
    """
    lifecycle.guard(connection, plan_id, "move units", expected_revision=expected_revision)
    parts = propose_split(connection, plan_id, grid, k, seed=seed)
    codes, result = carve_grids(
        connection,
        plan_id,
        [p.units for p in parts[1:]],
        expected_revision=expected_revision,
        author=author,
        action="split grid",
        detail={"split": grid, "k": k, "seed": seed},
    )
    return [parts[0], *(replace(p, code=c) for p, c in zip(parts[1:], codes, strict=True))], result


def _grid_row(connection: Connection, plan_id: int, grid: str) -> dict[str, Any]:
    row = plan_grids.grid_kind_and_community(connection, plan_id, grid)
    if row is None:
        plan_rows.plan_row(connection, plan_id)  # NotFound for an unknown plan
        raise InvalidInput(f"grid: plan {plan_id} has no grid {grid!r}")
    return row


def _joined(units: Units, piece: np.ndarray) -> Units:
    """``units`` with the pieces of ``piece`` linked, each to its nearest other piece.

    A cut follows links between units; a grid in pieces (across a road, an island unit) would
    otherwise keep every piece whole. The links are added for the cut only.
    """
    sub = units.adjacency[piece][:, piece]
    n, label = connected_components(sub, directed=False)
    if n <= 1:
        return units
    rows: list[int] = []
    cols: list[int] = []
    xy = units.xy[piece]
    for c in range(n):  # a few pieces at most: one nearest-neighbour query each
        inside = np.flatnonzero(label == c)
        outside = np.flatnonzero(label != c)
        distance, nearest = cKDTree(xy[outside]).query(xy[inside])
        best = int(np.argmin(distance))
        rows.append(int(piece[inside[best]]))
        cols.append(int(piece[outside[nearest[best]]]))
    size = units.adjacency.shape[0]
    links = coo_matrix((np.ones(2 * n), (rows + cols, cols + rows)), shape=(size, size))
    return replace(units, adjacency=csr_matrix(units.adjacency + links))
