"""Service circles on hand-made networks: lengths one can check on paper."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from gridmap.coverage.circles import network_circles
from gridmap.coverage.reach import station_reach
from gridmap.network import snap
from tests.gridmap.coverage.networks import street


def circles_of(points: list[tuple[float, float]], budget_m: float = 150.0) -> np.ndarray:
    net = street(5)  # 0 … 400 m along the x axis
    sites = snap(net, shapely.points(points), max_snap_m=50.0)
    reach = station_reach(net, sites, budget_m=budget_m)
    return network_circles(net, sites, reach, budget_m=budget_m, buffer_m=10.0)


def test_a_circle_covers_the_street_within_the_budget_either_way() -> None:
    (circle,) = circles_of([(200.0, 0.0)])
    west, _, east, _ = circle.bounds  # 150 m each way, and the 10 m buffer
    assert west == pytest.approx(40.0) and east == pytest.approx(360.0)


def test_a_site_beyond_the_snapping_distance_has_an_empty_circle_and_others_still_draw() -> None:
    far, near = circles_of([(200.0, 500.0), (0.0, 5.0)])
    assert far.is_empty
    assert near.bounds[2] == pytest.approx(155.0)  # 5 m to the street, 145 m along it, 10 m


def test_no_site_reaching_anything_gives_empty_circles_not_an_error() -> None:
    (far,) = circles_of([(200.0, 500.0)])
    assert far.is_empty
