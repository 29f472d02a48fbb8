"""The PostGIS schema (docs/architecture.md, Data model) as SQLAlchemy 2 / GeoAlchemy2 models.

Every geometry is stored in EPSG:4326 in a column named ``geom``, with a GiST index and a
CHECK that it is valid (:func:`geometry_column`). Lengths and areas are computed in a local
metric CRS elsewhere; the few stored here carry their unit in their name (``length_m``).
Kinds and statuses are text with a CHECK against the values in this module, so that a new
value is one migration that swaps a constraint, not an ``ALTER TYPE``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    DateTime,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SRID = 4326

REGION_LEVELS = ("city", "district", "street", "community")
PLAN_STATUSES = ("draft", "current", "archived")
GRID_KINDS = ("urban", "suburban", "rural", "dedicated")
BUILDING_SOURCES = ("estimated", "imported")
REGION_SOURCES = ("derived", "imported", "osm")
CIRCLE_METHODS = ("network", "euclidean")
ROLES = ("viewer", "planner", "admin")
JOB_KINDS = ("partition", "coverage")
JOB_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
ACTIVE_JOB_STATUSES = ("queued", "running")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with named constraints, so that migrations can address them."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSONB, list[str]: ARRAY(Text)}


def geometry_column(geometry_type: str, *, nullable: bool = False) -> Mapped[Any]:
    """Return a ``geom`` column of one geometry type in EPSG:4326 (index and CHECK apart)."""
    return mapped_column(Geometry(geometry_type, srid=SRID, spatial_index=False), nullable=nullable)


def geometry_rules(table: str) -> tuple[Index, CheckConstraint]:
    """Return the GiST index and the validity CHECK that every ``geom`` column carries."""
    return (
        Index(f"ix_{table}_geom", "geom", postgresql_using="gist"),
        CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
    )


def one_of(column: str, values: tuple[str, ...], name: str | None = None) -> CheckConstraint:
    """Return a CHECK that ``column`` holds one of ``values``."""
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name or f"{column}_allowed")


def digits(column: str, pattern: str) -> CheckConstraint:
    """Return a CHECK that ``column`` matches a regular expression of digits."""
    return CheckConstraint(f"{column} ~ '{pattern}'", name=f"{column}_format")


def timestamp_now() -> Mapped[datetime]:
    """Return a timestamp column set by the database on insert."""
    return mapped_column(DateTime(timezone=True), server_default=func.now())


# -- regions, units, buildings -----------------------------------------------------------
class Region(Base):
    """A city, district, street or community, with its GB/T 2260 / statistical code."""

    __tablename__ = "region"
    __table_args__ = (
        *geometry_rules("region"),
        one_of("level", REGION_LEVELS),
        one_of("source", REGION_SOURCES),
        digits("code", "^[0-9]{6}([0-9]{3}){0,2}$"),
        Index("ix_region_parent_id", "parent_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("region.id", ondelete="RESTRICT"))
    source: Mapped[str] = mapped_column(String(16), server_default="derived")
    geom: Mapped[Any] = geometry_column("MULTIPOLYGON")


class Unit(Base):
    """The smallest governance unit: a block or building cluster, with its households."""

    __tablename__ = "unit"
    __table_args__ = (
        *geometry_rules("unit"),
        digits("code", "^[0-9]{16}$"),
        CheckConstraint(
            "residents >= 0 AND households >= 0 AND governance_load >= 0", name="figures"
        ),
        Index("ix_unit_community_id", "community_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(32), server_default="residential")
    residents: Mapped[int] = mapped_column(Integer, server_default="0")
    households: Mapped[int] = mapped_column(Integer, server_default="0")
    governance_load: Mapped[float] = mapped_column(Double, server_default="0")
    geom: Mapped[Any] = geometry_column("MULTIPOLYGON")


class Building(Base):
    """A building footprint with its levels and residents (estimated or imported)."""

    __tablename__ = "building"
    __table_args__ = (
        *geometry_rules("building"),
        one_of("source", BUILDING_SOURCES),
        CheckConstraint("residents >= 0 AND households >= 0", name="figures"),
        CheckConstraint("levels IS NULL OR levels > 0", name="levels_positive"),
        Index("ix_building_unit_id", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    osm_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"))
    building_type: Mapped[str | None] = mapped_column(String(64))
    levels: Mapped[int | None] = mapped_column(Integer)
    residents: Mapped[int] = mapped_column(Integer, server_default="0")
    households: Mapped[int] = mapped_column(Integer, server_default="0")
    source: Mapped[str] = mapped_column(String(16), server_default="estimated")
    geom: Mapped[Any] = geometry_column("MULTIPOLYGON")
    inner_point: Mapped[Any] = mapped_column(
        Geometry("POINT", srid=SRID, spatial_index=False),
        Computed("ST_PointOnSurface(geom)", persisted=True),
    )
    """The point a coverage run walks from (migration 0015): kept, not computed for every run."""


# -- plans, assignments, grids ------------------------------------------------------------
class Plan(Base):
    """A partition of the units into grids: a draft, the one current plan, or archived."""

    __tablename__ = "plan"
    __table_args__ = (
        one_of("status", PLAN_STATUSES),
        CheckConstraint("revision >= 1", name="revision_positive"),
        Index(
            "uq_plan_single_current",
            "status",
            unique=True,
            postgresql_where=text("status = 'current'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default="draft")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id", ondelete="SET NULL"))
    parameters: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    revision: Mapped[int] = mapped_column(Integer, server_default="1")
    author: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = timestamp_now()
    updated_at: Mapped[datetime] = timestamp_now()
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Grid(Base):
    """A grid of one plan: whole units of one community, with its figures and staff."""

    __tablename__ = "grid"
    __table_args__ = (
        *geometry_rules("grid"),
        one_of("kind", GRID_KINDS),
        digits("code", "^[0-9]{15}$"),
        UniqueConstraint("plan_id", "code"),
        UniqueConstraint("plan_id", "id"),  # target of assignment's (plan, grid) key
        CheckConstraint("households >= 0 AND residents >= 0", name="figures"),
        Index("ix_grid_community_id", "community_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(15))
    name: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), server_default="urban")
    community_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="RESTRICT"))
    locked: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    staff: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    households: Mapped[int] = mapped_column(Integer, server_default="0")
    residents: Mapped[int] = mapped_column(Integer, server_default="0")
    governance_load: Mapped[float] = mapped_column(Double, server_default="0")
    area_m2: Mapped[float | None] = mapped_column(Double)
    radius_m: Mapped[float | None] = mapped_column(Double)
    polsby_popper: Mapped[float | None] = mapped_column(Double)
    geom: Mapped[Any] = geometry_column("MULTIPOLYGON", nullable=True)  # union of its units


class Assignment(Base):
    """The content of a plan: each unit in one grid of that plan."""

    __tablename__ = "assignment"
    __table_args__ = (
        ForeignKeyConstraint(
            ["plan_id", "grid_id"],
            ["grid.plan_id", "grid.id"],
            name="fk_assignment_grid_same_plan",
            ondelete="CASCADE",
        ),
        Index("ix_assignment_grid_id", "grid_id"),
    )

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True
    )
    grid_id: Mapped[int] = mapped_column(Integer)


# -- stations and the walking network -----------------------------------------------------
class Station(Base):
    """A party-mass service station (党群服务站) and the services it offers."""

    __tablename__ = "station"
    __table_args__ = (*geometry_rules("station"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32), server_default="station")
    services: Mapped[list[str]] = mapped_column(server_default=text("'{}'::text[]"))
    capacity_residents: Mapped[int | None] = mapped_column(Integer)
    address: Mapped[str | None] = mapped_column(Text)  # as residents would ask the way
    opening_hours: Mapped[str | None] = mapped_column(Text)  # free text: 周一至周五 9:00-17:00
    phone: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[Any] = geometry_column("POINT")


class WalkNode(Base):
    """A node of the walking network."""

    __tablename__ = "walk_node"
    __table_args__ = (*geometry_rules("walk_node"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    osm_id: Mapped[int | None] = mapped_column(BigInteger)
    geom: Mapped[Any] = geometry_column("POINT")


class WalkEdge(Base):
    """A walkable segment between two nodes, with its length in metres."""

    __tablename__ = "walk_edge"
    __table_args__ = (
        *geometry_rules("walk_edge"),
        CheckConstraint("length_m >= 0", name="length_nonnegative"),
        Index("ix_walk_edge_source", "source"),
        Index("ix_walk_edge_target", "target"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source: Mapped[int] = mapped_column(ForeignKey("walk_node.id", ondelete="CASCADE"))
    target: Mapped[int] = mapped_column(ForeignKey("walk_node.id", ondelete="CASCADE"))
    length_m: Mapped[float] = mapped_column(Double)
    highway: Mapped[str | None] = mapped_column(String(32))
    osm_id: Mapped[int | None] = mapped_column(BigInteger)
    geom: Mapped[Any] = geometry_column("LINESTRING")


# -- coverage ------------------------------------------------------------------------------
class CoverageRun(Base):
    """One coverage computation: its parameters, the plan it was read against, its rates."""

    __tablename__ = "coverage_run"
    __table_args__ = (
        CheckConstraint("minutes > 0 AND speed_m_per_min > 0", name="parameters_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = timestamp_now()
    minutes: Mapped[float] = mapped_column(Double)
    speed_m_per_min: Mapped[float] = mapped_column(Double)
    budget_m: Mapped[float] = mapped_column(Double)
    max_snap_m: Mapped[float | None] = mapped_column(Double)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id", ondelete="SET NULL"))
    parameters: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    figures: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))


class StationCircle(Base):
    """A station's service circle in one run: drawn on the network, or a Euclidean disc."""

    __tablename__ = "station_circle"
    __table_args__ = (*geometry_rules("station_circle"), one_of("method", CIRCLE_METHODS))

    run_id: Mapped[int] = mapped_column(
        ForeignKey("coverage_run.id", ondelete="CASCADE"), primary_key=True
    )
    station_id: Mapped[int] = mapped_column(
        ForeignKey("station.id", ondelete="CASCADE"), primary_key=True
    )
    method: Mapped[str] = mapped_column(String(16), primary_key=True, server_default="network")
    area_m2: Mapped[float | None] = mapped_column(Double)
    residents: Mapped[int | None] = mapped_column(Integer)  # load: nearest to this station
    households: Mapped[int | None] = mapped_column(Integer)
    geom: Mapped[Any] = geometry_column("MULTIPOLYGON")


class BuildingCoverage(Base):
    """A building's snap, walk and nearest station in one run: the detail under the rates.

    A million rows a run on a large city: its references (run, building, station) are kept by
    statement-level triggers and one check when a run is saved, not by row-by-row foreign keys
    (migration 0010).
    """

    __tablename__ = "building_coverage"

    run_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    building_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reachable: Mapped[bool] = mapped_column(Boolean)  # within the maximum snap of a walkway
    covered: Mapped[bool] = mapped_column(Boolean)
    snap_m: Mapped[float | None] = mapped_column(Double)
    walk_m: Mapped[float | None] = mapped_column(Double)  # None: no station within the budget
    station_id: Mapped[int | None] = mapped_column(Integer)


class CoverageGap(Base):
    """Uncovered residential buildings grouped into one area, ranked by residents."""

    __tablename__ = "coverage_gap"
    __table_args__ = (*geometry_rules("coverage_gap"),)

    run_id: Mapped[int] = mapped_column(
        ForeignKey("coverage_run.id", ondelete="CASCADE"), primary_key=True
    )
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    residents: Mapped[int] = mapped_column(Integer)
    households: Mapped[int] = mapped_column(Integer)
    buildings: Mapped[int] = mapped_column(Integer)
    area_m2: Mapped[float | None] = mapped_column(Double)
    geom: Mapped[Any] = geometry_column("MULTIPOLYGON")


class UnitCoverage(Base):
    """A unit's covered residents and walking distance to its nearest station in one run."""

    __tablename__ = "unit_coverage"
    __table_args__ = (
        CheckConstraint(
            "covered_residents BETWEEN 0 AND residents "
            "AND covered_households BETWEEN 0 AND households",
            name="covered_within_totals",
        ),
    )

    run_id: Mapped[int] = mapped_column(
        ForeignKey("coverage_run.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True
    )
    residents: Mapped[int] = mapped_column(Integer)
    households: Mapped[int] = mapped_column(Integer)
    covered_residents: Mapped[int] = mapped_column(Integer)
    covered_households: Mapped[int] = mapped_column(Integer)
    walk_m: Mapped[float | None] = mapped_column(Double)  # None: no station reachable
    nearest_station_id: Mapped[int | None] = mapped_column(
        ForeignKey("station.id", ondelete="SET NULL")
    )


# -- overlays, events, audit, keys ---------------------------------------------------------
class Overlay(Base):
    """A zone of a special net (多网合一) laid over the base grids."""

    __tablename__ = "overlay"
    __table_args__ = (*geometry_rules("overlay"), UniqueConstraint("net", "code"))

    id: Mapped[int] = mapped_column(primary_key=True)
    net: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)
    geom: Mapped[Any] = geometry_column("MULTIPOLYGON")


class Event(Base):
    """A hotline ticket, dispute or patrol finding at a point: a grid's governance load."""

    __tablename__ = "event"
    __table_args__ = (*geometry_rules("event"), Index("ix_event_occurred_at", "occurred_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(32), server_default="open")
    address: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[Any] = geometry_column("POINT", nullable=True)  # none: kept, not on the map


class Audit(Base):
    """Who did what to which plan or record, when, with the payload."""

    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_target", "target_table", "target_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = timestamp_now()
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(64))
    target_table: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))


class ApiKey(Base):
    """An API key, stored as a hash, with its role and optional region scope."""

    __tablename__ = "api_key"
    __table_args__ = (one_of("role", ROLES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"))
    embed: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime] = timestamp_now()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Job(Base):
    """Long work (a re-partition, a coverage run): who asked, on what, how far it got.

    The work is queued with procrastinate (schema ``procrastinate``, migration 0007); this
    row is what any process of the API shows of it, and what survives a restart.
    """

    __tablename__ = "job"
    __table_args__ = (
        one_of("kind", JOB_KINDS),
        one_of("status", JOB_STATUSES),
        Index("ix_job_status", "status"),
        Index(
            "uq_job_one_active_partition",
            "plan_id",
            unique=True,
            postgresql_where=text("kind = 'partition' AND status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), server_default="queued")
    owner: Mapped[str] = mapped_column(Text)
    owner_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id", ondelete="SET NULL"))
    scope_region_id: Mapped[int | None] = mapped_column(
        ForeignKey("region.id", ondelete="SET NULL")
    )
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id", ondelete="SET NULL"))
    base_revision: Mapped[int | None] = mapped_column(Integer)
    parameters: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    step: Mapped[int] = mapped_column(Integer, server_default="0")
    total_steps: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text, server_default="")
    result: Mapped[dict[str, Any] | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    queue_job_id: Mapped[int | None] = mapped_column(BigInteger)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    worker: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = timestamp_now()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# -- the city's own base layers (from OSM): basemap, barriers, station candidates ----------
class Street(Base):
    """A street, path or railway line: draws the basemap and cuts blocks into units."""

    __tablename__ = "street"
    __table_args__ = (*geometry_rules("street"), Index("ix_street_kind", "kind"))

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    osm_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))  # OSM highway=* value, or "rail"
    name: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[Any] = geometry_column("LINESTRING")


class Water(Base):
    """A water area: drawn on the basemap, a barrier between units."""

    __tablename__ = "water"
    __table_args__ = (*geometry_rules("water"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    osm_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[Any] = geometry_column("MULTIPOLYGON")


class Amenity(Base):
    """A place that could host a station: community centre, library, school, town hall."""

    __tablename__ = "amenity"
    __table_args__ = (*geometry_rules("amenity"), UniqueConstraint("osm_type", "osm_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    osm_type: Mapped[str] = mapped_column(String(8))
    osm_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[Any] = geometry_column("POINT")


# -- serving -----------------------------------------------------------------------------
class DataRevision(Base):
    """How many writes a served table has seen: what tile and feature caches are keyed by.

    A statement-level trigger on each table in :data:`REVISED` notes the table, and its row is
    bumped when the transaction commits (migrations 0005 and 0008).
    """

    __tablename__ = "data_revision"

    table_name: Mapped[str] = mapped_column(Text, primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger, server_default="1")
    changed_at: Mapped[datetime] = timestamp_now()


class RevisionFlush(Base):
    """A transaction that wrote to served tables: at its commit, their revisions are bumped.

    Always empty outside a transaction: a deferred constraint trigger bumps the revisions of
    the tables the transaction noted, in one order, and deletes the row (migration 0008).
    """

    __tablename__ = "revision_flush"

    txid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class TileStore(Base):
    """Built tiles shared by every process and kept across restarts (migration 0011).

    Keyed by tileset, z/x/y, plan, run and scope (0: the current plan, the latest run, no
    scope); a write deletes the stored tiles whose ``tables`` it wrote and whose ``bounds``
    (the buffered envelope) meet the extent of the rows it changed, in its own transaction.
    """

    __tablename__ = "tile_store"

    tileset: Mapped[str] = mapped_column(Text, primary_key=True)
    z: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    x: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    y: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    plan: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    run: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    scope: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    tables: Mapped[list[str]]
    bounds: Mapped[Any] = mapped_column(
        Geometry("POLYGON", srid=3857, spatial_index=False), nullable=False
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)
    etag: Mapped[str] = mapped_column(Text)
    bytes: Mapped[int]
    used_at: Mapped[datetime] = timestamp_now()

    __table_args__ = (Index("ix_tile_store_bounds", "bounds", postgresql_using="gist"),)


class TileDirty(Base):
    """What the open transaction changed, per table (and plan): read and emptied at commit."""

    __tablename__ = "tile_dirty"
    __table_args__ = (Index("ix_tile_dirty_txid", "txid"), {"prefixes": ["UNLOGGED"]})

    txid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    table_name: Mapped[str] = mapped_column(Text, primary_key=True)
    plan_id: Mapped[int | None]
    box: Mapped[Any] = mapped_column(Geometry(srid=-1, spatial_index=False), nullable=True)
    copy_of: Mapped[int | None]  # 'plan/copy': the plan whose stored tiles ``plan_id`` takes


class TileStale(Base):
    """Low-zoom tiles of the current plan a commit dropped, to be built again in the background."""

    __tablename__ = "tile_stale"

    tileset: Mapped[str] = mapped_column(Text, primary_key=True)
    z: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    x: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    y: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    run: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


MERCATOR = (
    "region",
    "unit",
    "building",
    "grid",
    "station",
    "street",
    "water",
    "station_circle",
    "coverage_gap",
    "overlay",
    "event",
)
"""Tables that keep their geometry in web mercator too (``geom_3857``), for tiles."""
SIMPLIFIED = (
    "region",
    "unit",
    "grid",
    "street",
    "water",
    "station_circle",
    "coverage_gap",
    "overlay",
)
"""Tables that also keep it simplified for low zooms (``geom_3857_s``)."""
SIMPLIFIED_FAST = ("station_circle", "coverage_gap")
"""Of those, the ones a coverage run writes by the thousand: simplified by Douglas-Peucker,
not preserving topology (7 times cheaper; migration 0012)."""
LABELLED = ("region", "grid")
"""Tables that keep one label point in web mercator (``label_3857``), for map labels."""
SIMPLIFY_M = 2.4
"""A tile unit at zoom 12 (40,075 km / 2¹² / 4,096), in web-mercator metres."""
REVISED = (
    "region",
    "unit",
    "building",
    "plan",
    "grid",
    "assignment",
    "station",
    "street",
    "water",
    "walk_edge",
    "coverage_run",
    "station_circle",
    "coverage_gap",
    "unit_coverage",
    "building_coverage",
    "overlay",
    "event",
)
"""Tables whose writes bump their row of ``data_revision``."""


def _derived_geometry(table: str, column: str, expression: str) -> None:
    """Add a stored generated geometry column (EPSG:3857) and its GiST index to ``table``."""
    target = Base.metadata.tables[table]
    target.append_column(
        Column(
            column,
            Geometry("GEOMETRY", srid=3857, spatial_index=False),
            Computed(expression, persisted=True),
        )
    )
    Index(f"ix_{table}_{column}", target.c[column], postgresql_using="gist")


for _table in MERCATOR:
    _derived_geometry(_table, "geom_3857", "ST_Transform(geom, 3857)")
for _table in SIMPLIFIED:
    _derived_geometry(
        _table,
        "geom_3857_s",
        f"ST_Simplify(ST_Transform(geom, 3857), {SIMPLIFY_M}, true)"
        if _table in SIMPLIFIED_FAST
        else f"ST_SimplifyPreserveTopology(ST_Transform(geom, 3857), {SIMPLIFY_M})",
    )
for _table in LABELLED:
    _derived_geometry(_table, "label_3857", "ST_PointOnSurface(ST_Transform(geom, 3857))")
