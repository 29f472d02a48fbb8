"""Coordinate systems of Chinese map data: GCJ-02 and BD-09 to and from WGS 84, local metres.

GCJ-02 (Amap, Tencent) is WGS 84 shifted by the published obfuscation formula; BD-09 (Baidu) is
GCJ-02 shifted once more. The forward transforms are closed formulas; the inverses are solved
by fixed-point iteration to well under a centimetre. Outside mainland China (the usual
rectangle test) the offsets are zero, as every published implementation does.

All functions take and return numpy arrays (or scalars) of longitudes and latitudes in degrees.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray

from gridmap.errors import InvalidInput

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by the formula
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
_INVERSE_TOLERANCE_DEG = 1e-10  # about 0.01 mm
_INVERSE_MAX_ITERATIONS = 30

CHINA_CRS_NAMES = ("wgs84", "gcj02", "bd09")

Coords = tuple[NDArray[np.float64], NDArray[np.float64]]
Transform = Callable[[ArrayLike, ArrayLike], Coords]


def _arrays(lon: ArrayLike, lat: ArrayLike) -> Coords:
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Say which points lie outside the rectangle where GCJ-02 applies an offset."""
    lon, lat = _arrays(lon, lat)
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _offset(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> Coords:
    """Return the GCJ-02 offset (degrees) of WGS 84 points."""
    x, y = lon - 105.0, lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(radlat) * np.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Shift WGS 84 coordinates to GCJ-02.

    >>> [round(float(v), 8) for v in wgs84_to_gcj02(116.404, 39.915)]
    [116.4102445, 39.91640428]
    """
    lon, lat = _arrays(lon, lat)
    dlon, dlat = _offset(lon, lat)
    return lon + dlon, lat + dlat


def _invert(
    forward: Transform, lon: ArrayLike, lat: ArrayLike, start: Coords | None = None
) -> Coords:
    """Solve ``forward(x) = (lon, lat)`` for x by fixed-point iteration from ``start``."""
    target_lon, target_lat = _arrays(lon, lat)
    x_lon, x_lat = start if start is not None else (target_lon.copy(), target_lat.copy())
    for _ in range(_INVERSE_MAX_ITERATIONS):
        y_lon, y_lat = forward(x_lon, x_lat)
        err_lon, err_lat = y_lon - target_lon, y_lat - target_lat
        x_lon, x_lat = x_lon - err_lon, x_lat - err_lat
        if max(np.max(np.abs(err_lon)), np.max(np.abs(err_lat))) < _INVERSE_TOLERANCE_DEG:
            break
    return x_lon, x_lat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Invert :func:`wgs84_to_gcj02` by fixed-point iteration (error far below 0.5 m)."""
    return _invert(wgs84_to_gcj02, lon, lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Shift GCJ-02 coordinates to BD-09."""
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Invert :func:`gcj02_to_bd09`: the published closed form, refined by iteration."""
    bd_lon, bd_lat = _arrays(lon, lat)
    x, y = bd_lon - 0.0065, bd_lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return _invert(gcj02_to_bd09, bd_lon, bd_lat, start=(z * np.cos(theta), z * np.sin(theta)))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Shift WGS 84 coordinates to BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Invert :func:`wgs84_to_bd09`."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_TO_WGS84: dict[str, Transform] = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_FROM_WGS84: dict[str, Transform] = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def to_wgs84_function(name: str) -> Transform:
    """Return the transform from ``gcj02`` or ``bd09`` to WGS 84."""
    return _TO_WGS84[name]


def from_wgs84_function(name: str) -> Transform:
    """Return the transform from WGS 84 to ``gcj02`` or ``bd09``."""
    return _FROM_WGS84[name]


def parse_crs(value: str | int) -> str | pyproj.CRS:
    """Read a ``--crs`` value: an EPSG code, ``gcj02``/``bd09``/``wgs84``, or any pyproj text.

    Returns the name of a Chinese offset system, or a :class:`pyproj.CRS`.
    """
    text = str(value).strip().lower().replace("-", "").replace("_", "")
    if text in {"gcj02", "bd09"}:
        return text
    if text in {"wgs84", "4326"}:
        return pyproj.CRS.from_epsg(4326)
    try:
        return pyproj.CRS.from_user_input(int(text) if text.isdigit() else value)
    except pyproj.exceptions.CRSError as error:
        raise InvalidInput(
            f"unknown CRS {value!r}: give an EPSG code (4326, 4490, 4547...), gcj02 or bd09"
        ) from error


def metric_crs_of(geometries: ArrayLike) -> pyproj.CRS:
    """Return the local metric CRS of WGS 84 geometries: the UTM zone of their extent's centre.

    >>> import shapely
    >>> metric_crs_of(shapely.points([104.0, 104.1], [30.6, 30.7])).to_epsg()
    32648
    """
    xmin, ymin, xmax, ymax = shapely.total_bounds(geometries)
    return local_metric_crs((xmin + xmax) / 2, (ymin + ymax) / 2)


def local_metric_crs(lon: float, lat: float) -> pyproj.CRS:
    """Return the WGS 84 UTM zone of a point: the city's CRS for metres and square metres."""
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)
