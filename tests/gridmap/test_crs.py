"""GCJ-02 and BD-09 against published reference points, and their round trips."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridmap import crs
from gridmap.errors import InvalidInput

# wandergis/coordtransform's README, the reference most implementations test against
TIANANMEN = (116.404, 39.915)
PUBLISHED = {
    "wgs84_to_gcj02": (116.41024449916938, 39.91640428150164),
    "gcj02_to_bd09": (116.41036949371029, 39.92133699351021),
    "bd09_to_gcj02": (116.39762729119315, 39.90865673957631),
    "wgs84_to_bd09": (116.41662724378733, 39.922699552216216),
}
_GEOD = pyproj.Geod(ellps="WGS84")


def _metres(lon1: object, lat1: object, lon2: object, lat2: object) -> np.ndarray:
    return np.asarray(_GEOD.inv(lon1, lat1, lon2, lat2)[2])


@pytest.mark.parametrize("name", ["wgs84_to_gcj02", "gcj02_to_bd09", "wgs84_to_bd09"])
def test_forward_transforms_match_the_published_points(name: str) -> None:
    lon, lat = getattr(crs, name)(*TIANANMEN)
    assert (float(lon), float(lat)) == pytest.approx(PUBLISHED[name], abs=1e-12)


def test_bd09_to_gcj02_agrees_with_the_published_closed_form_within_centimetres() -> None:
    lon, lat = crs.bd09_to_gcj02(*TIANANMEN)
    assert _metres(lon, lat, *PUBLISHED["bd09_to_gcj02"]) < 0.05


def test_the_gcj02_offset_is_hundreds_of_metres_in_china_and_zero_outside() -> None:
    lon, lat = crs.wgs84_to_gcj02([116.404, 24.94], [39.915, 60.17])  # Beijing, Helsinki
    shift = _metres([116.404, 24.94], [39.915, 60.17], lon, lat)
    assert 300 < shift[0] < 800
    assert shift[1] == 0


china = st.tuples(st.floats(73.7, 134.7), st.floats(18.2, 53.5))


@given(st.lists(china, min_size=1, max_size=50))
def test_round_trips_stay_under_half_a_metre(points: list[tuple[float, float]]) -> None:
    lon, lat = np.array(points).T
    for there, back in [
        (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84),
        (crs.wgs84_to_bd09, crs.bd09_to_wgs84),
        (crs.gcj02_to_bd09, crs.bd09_to_gcj02),
    ]:
        again = back(*there(lon, lat))
        assert _metres(lon, lat, *again).max() < 0.5


@pytest.mark.parametrize(
    ("given", "expected"),
    [("gcj02", "gcj02"), ("GCJ-02", "gcj02"), ("bd09", "bd09"), ("BD-09", "bd09")],
)
def test_offset_systems_are_named(given: str, expected: str) -> None:
    assert crs.parse_crs(given) == expected


@pytest.mark.parametrize("code", [4326, "4490", "EPSG:4547", "wgs84"])
def test_epsg_codes_including_cgcs2000_gauss_kruger(code: str | int) -> None:
    parsed = crs.parse_crs(code)
    assert isinstance(parsed, pyproj.CRS)
    assert parsed.to_epsg() in {4326, 4490, 4547}


def test_an_unknown_crs_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="unknown CRS 'mars'"):
        crs.parse_crs("mars")


def test_the_local_metric_crs_is_the_utm_zone() -> None:
    assert crs.local_metric_crs(104.06, 30.67).to_epsg() == 32648  # Chengdu
    assert crs.local_metric_crs(24.94, 60.17).to_epsg() == 32635  # Helsinki
