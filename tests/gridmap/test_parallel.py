"""Work split among threads gives the answer of one call, in the same order."""

from __future__ import annotations

import numpy as np
import shapely

from gridmap.network import snap
from gridmap.parallel import THREADED_FROM, chunks_in_threads, in_threads
from tests.gridmap.coverage.networks import lattice


def test_chunks_cover_every_item_once_in_order_and_say_where_they_start() -> None:
    items = np.arange(3 * THREADED_FROM + 7)
    done = chunks_in_threads(lambda chunk: chunk.copy(), items)
    assert len(done) > 1  # split, on any machine with two cores or more
    assert [start for start, _ in done] == [int(chunk[0]) for _, chunk in done]
    assert np.concatenate([chunk for _, chunk in done]).tolist() == items.tolist()


def test_a_threaded_buffer_is_the_buffer_of_one_call() -> None:
    rng = np.random.default_rng(7)
    lines = shapely.linestrings(rng.uniform(0, 500, (2 * THREADED_FROM + 3, 6, 2)))
    ours = in_threads(shapely.buffer, lines, 12.5, quad_segs=4)
    assert shapely.equals_exact(ours, shapely.buffer(lines, 12.5, quad_segs=4)).all()


def test_snapping_many_points_finds_each_ones_nearest_edge_as_measured_one_by_one() -> None:
    net = lattice(8, 8, spacing=100.0)  # 700 m square
    rng = np.random.default_rng(3)
    points = shapely.points(rng.uniform(-150, 850, (4 * THREADED_FROM, 2)))
    snapped = snap(net, points, max_snap_m=60.0)
    measured = shapely.distance(points[:, None], net.lines[None, :])
    assert np.allclose(snapped.snap_m, measured.min(axis=1))
    on_edge = measured[np.arange(len(points)), np.where(snapped.reachable, snapped.edge, 0)]
    assert np.allclose(on_edge[snapped.reachable], snapped.snap_m[snapped.reachable])
    assert snapped.reachable.tolist() == (measured.min(axis=1) <= 60.0).tolist()
    assert 0 < snapped.reachable.sum() < len(points)
