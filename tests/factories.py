"""Small factories of geometries and rows for tests: a few blocks of Chengdu's Wuhou district."""

from __future__ import annotations

from itertools import count
from typing import Any

from geoalchemy2.shape import from_shape
from shapely import MultiPolygon, Point, Polygon, box
from sqlalchemy.orm import Session

from gridmap.db import models

ORIGIN = (104.05, 30.64)  # lon, lat
_serial = count(1)


def square(i: int = 0, j: int = 0, size: float = 0.001) -> MultiPolygon:
    """Return a square block at column ``i`` and row ``j`` of a regular grid (about 100 m)."""
    x, y = ORIGIN[0] + i * size, ORIGIN[1] + j * size
    return MultiPolygon([box(x, y, x + size, y + size)])


def bowtie() -> MultiPolygon:
    """Return a self-intersecting polygon: invalid in OGC terms."""
    x, y = ORIGIN
    d = 0.001
    return MultiPolygon([Polygon([(x, y), (x + d, y + d), (x + d, y), (x, y + d), (x, y)])])


def point(i: float = 0.5, j: float = 0.5, size: float = 0.001) -> Point:
    """Return a point inside square ``(i, j)``."""
    return Point(ORIGIN[0] + i * size, ORIGIN[1] + j * size)


def ewkb(geometry: Any) -> Any:
    """Return ``geometry`` as a value for a ``geom`` column in EPSG:4326."""
    return from_shape(geometry, srid=models.SRID)


def add(session: Session, row: Any) -> Any:
    """Add ``row``, flush, and return it."""
    session.add(row)
    session.flush()
    return row


def region(
    session: Session,
    *,
    code: str | None = None,
    level: str = "community",
    geom: Any = None,
    parent: models.Region | None = None,
) -> models.Region:
    """Add a region; a community with a fresh 12-digit code by default."""
    code = code or f"510107{next(_serial):06d}"
    return add(
        session,
        models.Region(
            code=code,
            name=f"region {code}",
            level=level,
            parent_id=parent.id if parent else None,
            geom=ewkb(geom or square()),
        ),
    )


def unit(
    session: Session,
    community: models.Region,
    *,
    serial: int | None = None,
    geom: Any = None,
    households: int = 120,
) -> models.Unit:
    """Add a unit of ``community`` with a 16-digit code."""
    code = f"{community.code}{serial or next(_serial) % 10_000:04d}"
    return add(
        session,
        models.Unit(
            code=code,
            community_id=community.id,
            residents=round(households * 2.62),
            households=households,
            geom=ewkb(geom or square()),
        ),
    )


def plan(session: Session, *, status: str = "draft", name: str = "plan") -> models.Plan:
    """Add a plan."""
    return add(session, models.Plan(name=name, status=status))


def grid(
    session: Session,
    plan_: models.Plan,
    community: models.Region,
    *,
    serial: int = 1,
    geom: Any = None,
) -> models.Grid:
    """Add a grid of ``plan_`` with a 15-digit code."""
    return add(
        session,
        models.Grid(
            plan_id=plan_.id,
            code=f"{community.code}{serial:03d}",
            community_id=community.id,
            geom=ewkb(geom or square()),
        ),
    )


def station(session: Session, *, code: str | None = None, geom: Any = None) -> models.Station:
    """Add a station."""
    code = code or f"ST{next(_serial):05d}"
    return add(
        session, models.Station(code=code, name=f"station {code}", geom=ewkb(geom or point()))
    )


def coverage_run(session: Session) -> models.CoverageRun:
    """Add a coverage run with the default 5 minutes at 60 m/min."""
    return add(session, models.CoverageRun(minutes=5, speed_m_per_min=60, budget_m=300))
