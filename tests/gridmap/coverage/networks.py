"""Hand-made walking networks with distances one can check on paper."""

from __future__ import annotations

import numpy as np
import shapely

from gridmap.network import WalkNetwork


def network(xy: list[tuple[float, float]], edges: list[tuple[int, int]]) -> WalkNetwork:
    """A network of straight edges between the given nodes (ids 10, 11, ...)."""
    xy_array = np.array(xy, dtype=float)
    source, target = np.array(edges).T
    lines = shapely.linestrings(
        np.stack([xy_array[source], xy_array[target]], axis=1).reshape(-1, 2),
        indices=np.repeat(np.arange(len(edges)), 2),
    )
    ids = np.arange(len(xy)) + 10
    return WalkNetwork.from_arrays(
        ids, xy_array, ids[source], ids[target], shapely.length(lines), lines
    )


def street(n: int = 5, spacing: float = 100.0) -> WalkNetwork:
    """A straight street of ``n`` nodes ``spacing`` metres apart, along the x axis."""
    return network([(i * spacing, 0.0) for i in range(n)], [(i, i + 1) for i in range(n - 1)])


def lattice(cols: int, rows: int, spacing: float = 100.0) -> WalkNetwork:
    """A grid of streets, ``cols`` × ``rows`` crossings."""
    xy = [(i * spacing, j * spacing) for j in range(rows) for i in range(cols)]
    edges = [(j * cols + i, j * cols + i + 1) for j in range(rows) for i in range(cols - 1)]
    edges += [(j * cols + i, (j + 1) * cols + i) for j in range(rows - 1) for i in range(cols)]
    return network(xy, edges)


def points(*xy: tuple[float, float]) -> np.ndarray:
    """Shapely points."""
    return shapely.points(np.array(xy, dtype=float).reshape(-1, 2))
