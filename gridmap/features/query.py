"""Reading features: a collection's query with a bbox, filters, sorting, paging and a scope.

Everything a client sends becomes a bound parameter or a column chosen from the collection's
own list: property filters compare a known property with a bound value, CQL2 text is parsed by
pygeofilter into SQLAlchemy expressions over the known properties, ``sortby`` names known
properties. Nothing a client sends is ever spliced into SQL.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from geoalchemy2 import Geometry
from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    Subquery,
    bindparam,
    case,
    func,
    select,
    text,
)
from sqlalchemy.types import Boolean, DateTime, Double

from gridmap.crs import from_wgs84_function
from gridmap.db.models import Region
from gridmap.errors import InvalidInput, NotFound
from gridmap.features.collections import Collection
from gridmap.features.cql import cql_filter

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 100
OUTPUT_CRS = ("wgs84", "gcj02")


@dataclass(frozen=True)
class FeatureQuery:
    """What a client asks of a collection."""

    bbox: tuple[float, float, float, float] | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    properties: dict[str, str] = field(default_factory=dict)  # property = value
    cql: str | None = None
    sortby: tuple[str, ...] = ()
    plan: int | None = None
    run: int | None = None
    scope_region: int | None = None  # only features intersecting this region
    crs: str = "wgs84"

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT} (got {self.limit})")
        if self.offset < 0:
            raise InvalidInput(f"offset must be 0 or more (got {self.offset})")
        if self.crs not in OUTPUT_CRS:
            raise InvalidInput(f"crs must be one of {', '.join(OUTPUT_CRS)} (got {self.crs!r})")
        if self.bbox is not None:
            west, south, east, north = self.bbox
            if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
                raise InvalidInput(
                    f"bbox must be west,south,east,north in degrees (got "
                    f"{','.join(str(v) for v in self.bbox)})"
                )


@dataclass(frozen=True)
class FeaturePage:
    """One page of a collection: its features as GeoJSON text, and the counts."""

    features: list[str]  # each a GeoJSON Feature, serialised
    number_matched: int
    number_returned: int


def base(collection: Collection) -> Subquery:
    """Return the collection's query as a subquery with typed columns."""
    types = {"id": collection.id_type, **collection.properties, "geom": Geometry(srid=4326)}
    return text(collection.sql).columns(**types).subquery("f")  # type: ignore[arg-type]


def features(connection: Connection, collection: Collection, query: FeatureQuery) -> FeaturePage:
    """Return the page of ``collection`` that ``query`` asks for."""
    sub = base(collection)
    where = _where(collection, sub, query)
    params = _parameters(collection, query)
    matched = connection.execute(
        select(func.count()).select_from(sub).where(*where), params
    ).scalar_one()
    statement = _page(collection, sub, where, query)
    rows = connection.execute(statement, params).all()
    return FeaturePage(_serialise(collection, rows, query.crs), int(matched), len(rows))


def feature(
    connection: Connection, collection: Collection, feature_id: str, query: FeatureQuery
) -> str:
    """Return one feature as GeoJSON text.

    Raises
    ------
    NotFound
        When the collection holds no such feature (or not within the scope).
    """
    sub = base(collection)
    key: Any = feature_id
    if collection.id_type is Integer:
        if not feature_id.isdigit() or int(feature_id) > 2**31 - 1:
            raise NotFound(f"no feature {feature_id!r} in {collection.id}")
        key = int(feature_id)
    where = [sub.c.id == bindparam("feature_id", key), *_scope(sub, query)]
    rows = connection.execute(
        _columns(collection, sub, query).where(*where), _parameters(collection, query)
    ).all()
    if not rows:
        raise NotFound(f"no feature {feature_id!r} in {collection.id}")
    return _serialise(collection, rows, query.crs)[0]


WITHHELD_WHEN_CLIPPED = {
    "circles": ("area_m2", "residents", "households"),
    "gaps": ("residents", "households", "buildings", "area_m2"),
}
"""Figures that describe a whole feature: a key held to a region gets them only for features
wholly inside it (a circle or gap reaching beyond would tell of residents outside)."""


CLIP_TOLERANCE_DEG = 1e-7
"""About a centimetre: a feature this close to being inside its region counts as inside."""


def _region_geom(query: FeatureQuery) -> Any:
    return select(Region.geom).where(Region.id == query.scope_region).scalar_subquery()


def _geometry(collection: Collection, sub: Subquery, query: FeatureQuery) -> Any:
    """Return the geometry served; for a key held to a region, clipped to the region.

    No vertex of a feature lies beyond the region then; a parent region comes as its part
    inside.
    """
    if query.scope_region is None or collection.geometry_type == "Point":
        return sub.c.geom
    clipped = func.ST_Intersection(sub.c.geom, _region_geom(query))
    return func.ST_Multi(func.ST_CollectionExtract(clipped, 3))


def _columns(collection: Collection, sub: Subquery, query: FeatureQuery) -> Select[Any]:
    held = WITHHELD_WHEN_CLIPPED.get(collection.id, ()) if query.scope_region is not None else ()
    columns = [sub.c[p] for p in collection.properties]
    if held:  # within a centimetre of the region counts as inside: boundaries are not exact
        near = (
            select(func.ST_Buffer(Region.geom, CLIP_TOLERANCE_DEG))
            .where(Region.id == query.scope_region)
            .scalar_subquery()
        )
        inside = func.ST_CoveredBy(sub.c.geom, near)
        columns = [
            case((inside, sub.c[p]), else_=None).label(p) if p in held else sub.c[p]
            for p in collection.properties
        ]
    wkb = func.ST_AsBinary(_geometry(collection, sub, query)).label("wkb")
    return select(sub.c.id, *columns, wkb)


def _page(
    collection: Collection, sub: Subquery, where: list[ColumnElement[bool]], query: FeatureQuery
) -> Select[Any]:
    order = []
    for key in query.sortby or (collection.default_sort,):
        descending = key.startswith("-")
        name = key.lstrip("+-")
        if name not in collection.properties and name != "id":
            raise InvalidInput(
                f"sortby: {collection.id} has no property {name!r}; sortable: "
                f"id, {', '.join(collection.properties)}"
            )
        column = sub.c[name]
        order.append(column.desc().nulls_last() if descending else column.asc().nulls_last())
    if "id" not in [k.lstrip("+-") for k in query.sortby]:
        order.append(sub.c.id.asc())  # a stable order for paging
    return (
        _columns(collection, sub, query)
        .where(*where)
        .order_by(*order)
        .limit(query.limit)
        .offset(query.offset)
    )


def _where(collection: Collection, sub: Subquery, query: FeatureQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if query.bbox is not None:
        envelope = func.ST_MakeEnvelope(*(bindparam(None, float(v)) for v in query.bbox), 4326)
        where.append(func.ST_Intersects(sub.c.geom, envelope))
    for name, value in query.properties.items():
        if name not in collection.properties:
            raise InvalidInput(
                f"{name}: {collection.id} has no such property; filterable: "
                f"{', '.join(collection.properties)}"
            )
        where.append(sub.c[name] == _typed(collection, name, value))
    if query.cql:
        mapping = {name: sub.c[name] for name in collection.properties}
        mapping["id"] = sub.c.id
        mapping["geometry"] = mapping["geom"] = sub.c.geom
        where.append(cql_filter(query.cql, mapping))
    return where + _scope(sub, query)


def _scope(sub: Subquery, query: FeatureQuery) -> list[ColumnElement[bool]]:
    if query.scope_region is None:
        return []
    region = _region_geom(query)
    # a feature belongs to the region when its inner point lies in it (neighbours that only
    # touch the boundary do not); the bounding-box test lets the index do the first cut
    return [
        sub.c.geom.op("&&")(region),
        func.ST_Intersects(region, func.ST_PointOnSurface(sub.c.geom)),
    ]


def _typed(collection: Collection, name: str, value: str) -> object:
    kind = collection.properties[name]
    try:
        if kind is Integer:
            return int(value)
        if kind is Double:
            return float(value)
        if kind is Boolean:
            return {"true": True, "false": False}[value.lower()]
        if kind is DateTime:
            return np.datetime64(value).astype(object)
    except (ValueError, KeyError):
        raise InvalidInput(f"{name}: {value!r} is not a {kind.__name__.lower()}") from None
    return value


def _parameters(collection: Collection, query: FeatureQuery) -> dict[str, object]:
    values = {"plan": query.plan, "run": query.run}
    return {name: values[name] for name in collection.parameters}


def _serialise(collection: Collection, rows: Sequence[Any], crs: str) -> list[str]:
    if not rows:
        return []
    geoms = shapely.from_wkb([row.wkb for row in rows])
    if crs != "wgs84":
        convert = from_wgs84_function(crs)
        geoms = shapely.transform(geoms, lambda xy: np.column_stack(convert(xy[:, 0], xy[:, 1])))
    geometry = shapely.to_geojson(geoms)
    names = list(collection.properties)
    out = []
    for row, shape in zip(rows, geometry, strict=True):
        properties = {name: _plain(getattr(row, name)) for name in names}
        out.append(
            '{"type":"Feature","id":'
            + json.dumps(row.id)
            + ',"geometry":'
            + (shape or "null")  # a ticket without coordinates: kept, placed nowhere
            + ',"properties":'
            + json.dumps(properties, ensure_ascii=False)
            + "}"
        )
    return out


def _plain(value: object) -> object:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def bbox_of(connection: Connection, collection: Collection, query: FeatureQuery) -> list[float]:
    """Return the extent of a collection (lon/lat), for its description."""
    sub = base(collection)
    extent = func.ST_Extent(_geometry(collection, sub, query))  # a held key: within its region
    row = connection.execute(
        select(
            func.ST_XMin(extent), func.ST_YMin(extent), func.ST_XMax(extent), func.ST_YMax(extent)
        ).where(*_scope(sub, query)),
        _parameters(collection, query),
    ).one()
    return [float(v) for v in row] if row[0] is not None else []
