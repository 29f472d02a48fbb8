"""Tilesets: which layers a vector tile holds at each zoom, and the one SQL query per tile.

Each layer reads its table's stored web-mercator geometry (``geom_3857``; the simplified
``geom_3857_s`` below zoom 14, where one tile unit is over a metre), so no tile transforms or
simplifies a row. A tile is one statement: every layer's ``ST_AsMVT`` concatenated, with the
tile envelope computed once. The SQL is assembled from the constants in this module; what a
client sends (z, x, y, plan, run, region) arrives only as bound parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

from gridmap.db.coverage import RUN_OR_LATEST
from gridmap.db.plans import PLAN_OR_CURRENT
from gridmap.errors import InvalidInput, NotFound
from gridmap.standards import CITY_TIME_ZONE

EXTENT = 4096
BUFFER = 64
FULL_DETAIL_ZOOM = 14
"""From this zoom on, layers read the full geometry; below it, the simplified one."""
MAX_ZOOM = 22
EVENTS_MINZOOM = 15
"""From this zoom on, hotline tickets are points (kind, status, Beijing day as YYYYMMDD; no
address or number); below it a grid's tickets are its figures (GET /tickets/...)."""
EVENT_DAY = f"to_char(t.occurred_at AT TIME ZONE '{CITY_TIME_ZONE}', 'YYYYMMDD')::int"

PLAN = PLAN_OR_CURRENT
RUN = RUN_OR_LATEST


@dataclass(frozen=True)
class Layer:
    """One layer of a tileset: a table, the attributes drawn, the zooms it shows at."""

    name: str
    table: str  # the table, aliased ``t``
    attributes: str  # select list over ``t`` (and the joins)
    fields: dict[str, str]  # attribute → TileJSON type (Number, String, Boolean)
    minzoom: int
    maxzoom: int = MAX_ZOOM
    joins: str = ""
    where: str = ""  # extra condition over ``t``
    simplified: bool = True  # the table keeps geom_3857_s
    parameters: tuple[str, ...] = ()
    column: str | None = None  # a stored geometry drawn at every zoom (label_3857)
    key: str = "t.id"  # what orders the features: the same tile, the same bytes
    shape_only: bool = False
    """The layer draws its grid rows by shape and identity (code, name, kind, locked) alone,
    none of the figures an edit changes: where it reads the full geometry, a grid's change
    redraws it only where the shape changed (:data:`GRID_SHAPE`)."""
    depends: tuple[str, ...] = ()
    """Changes the layer follows beyond its tables' rows (:data:`GRID_UNITS`)."""


@dataclass(frozen=True)
class Tileset:
    """Layers served together under one URL template."""

    name: str
    description: str
    layers: tuple[Layer, ...]

    @cached_property
    def tables(self) -> tuple[str, ...]:
        """Every table a tile of this set reads: what its cache key follows (asked per tile)."""
        return _tables_of(self.layers)

    def tables_at(self, z: int) -> tuple[str, ...]:
        """Every table a tile of this set reads at zoom ``z``, sorted."""
        return _tables_of(self.layers_at(z))

    def follows_at(self, z: int) -> tuple[str, ...]:
        """Every change a tile of this set at zoom ``z`` must be dropped for, sorted.

        The tables it reads, less ``grid`` when each layer reading grids draws them by their
        full shape alone (:data:`GRID_SHAPE` instead), and the layers' further dependencies.
        """
        layers = self.layers_at(z)
        names = set(_tables_of(layers))
        for layer in layers:
            names |= set(layer.depends)
        reading = [layer for layer in layers if "grid" in _tables_of((layer,))]
        if reading and all(
            layer.shape_only and not (layer.table == "grid" and _simplified(layer, z))
            for layer in reading
        ):
            names = (names - {"grid"}) | {GRID_SHAPE}
        return tuple(sorted(names))

    @property
    def minzoom(self) -> int:
        """The lowest zoom any layer shows at."""
        return min(layer.minzoom for layer in self.layers)

    @property
    def maxzoom(self) -> int:
        """The highest zoom any layer shows at."""
        return max(layer.maxzoom for layer in self.layers)

    def layers_at(self, z: int) -> tuple[Layer, ...]:
        """Return the layers shown at zoom ``z``."""
        return tuple(layer for layer in self.layers if layer.minzoom <= z <= layer.maxzoom)


def _simplified(layer: Layer, z: int) -> bool:
    """Say whether ``layer`` draws the simplified geometry at zoom ``z``."""
    return layer.column is None and layer.simplified and z < FULL_DETAIL_ZOOM


def _tables_of(layers: tuple[Layer, ...]) -> tuple[str, ...]:
    names = {layer.table for layer in layers}
    for layer in layers:
        text = layer.joins + layer.attributes + layer.where
        names |= {t for t in _JOINED if t in text}
    return tuple(sorted(names))


_JOINED = (
    "plan",
    "assignment",
    "unit_coverage",
    "building_coverage",
    "coverage_run",
    "station_circle",
    "grid",
    "region",
    "station",
)

GRID_SHAPE = "grid/shape"
"""A change noted where a grid's shape or identity changed (migration 0016): its symmetric
difference, its label points; its whole shape when its code, name, kind or lock changed. A
simplified shape (below zoom 14) follows the whole row: simplifying a ring anew may move it
anywhere."""
GRID_UNITS = "assignment/grid"
"""A change noted over both grids of each assignment written (migration 0016): what a layer
summing a grid's units (its coverage) follows. ``assignment`` itself notes the unit alone."""

GRID_COVERAGE = f"""
    LEFT JOIN LATERAL (
        SELECT sum(uc.covered_residents)::float8 / nullif(sum(uc.residents), 0) AS coverage
        FROM assignment a JOIN unit_coverage uc ON uc.unit_id = a.unit_id AND uc.run_id = {RUN}
        WHERE a.grid_id = t.id
    ) c ON true"""

UNITS = Layer(
    "units",
    "unit",
    "t.code, t.kind, t.households, t.residents, g.code AS grid, "
    "uc.covered_residents::float8 / nullif(uc.residents, 0) AS coverage",
    {
        "code": "String",
        "kind": "String",
        "households": "Number",
        "residents": "Number",
        "grid": "String",
        "coverage": "Number",
    },
    13,
    joins=f"""
  LEFT JOIN assignment a ON a.unit_id = t.id AND a.plan_id = {PLAN}
  LEFT JOIN grid g ON g.id = a.grid_id
  LEFT JOIN unit_coverage uc ON uc.unit_id = t.id AND uc.run_id = {RUN}""",
    parameters=("plan", "run"),
    shape_only=True,  # of its grid, the code alone
)
"""A plan's units with their grid's code: what a move changes is the unit's own tile."""

TILESETS: dict[str, Tileset] = {
    ts.name: ts
    for ts in (
        Tileset(
            "gridmap",
            "Regions, grids, units, buildings, stations, circles, gaps and hotline tickets",
            (
                Layer(
                    "regions",
                    "region",
                    "t.code, t.name, t.level",
                    {"code": "String", "name": "String", "level": "String"},
                    8,
                ),
                Layer(
                    "grids",
                    "grid",
                    "t.code, t.name, t.kind, t.households, t.residents, t.governance_load, "
                    "t.locked, t.polsby_popper, c.coverage",
                    {
                        "code": "String",
                        "name": "String",
                        "kind": "String",
                        "households": "Number",
                        "residents": "Number",
                        "governance_load": "Number",
                        "locked": "Boolean",
                        "polsby_popper": "Number",
                        "coverage": "Number",
                    },
                    11,
                    joins=GRID_COVERAGE,
                    where=f"t.plan_id = {PLAN}",
                    parameters=("plan", "run"),
                    depends=(GRID_UNITS,),
                ),
                Layer(
                    "grid_labels",
                    "grid",
                    "t.code, t.name, t.households",
                    {"code": "String", "name": "String", "households": "Number"},
                    13,
                    where=f"t.plan_id = {PLAN}",
                    parameters=("plan",),
                    column="label_3857",
                ),
                Layer(
                    "region_labels",
                    "region",
                    "t.code, t.name, t.level",
                    {"code": "String", "name": "String", "level": "String"},
                    11,
                    column="label_3857",
                ),
                UNITS,
                Layer(
                    "buildings",
                    "building",
                    "t.id, t.residents, t.households, t.levels, bc.covered, bc.walk_m",
                    {
                        "id": "Number",
                        "residents": "Number",
                        "households": "Number",
                        "levels": "Number",
                        "covered": "Boolean",
                        "walk_m": "Number",
                    },
                    14,
                    joins=f"""
                  LEFT JOIN building_coverage bc ON bc.building_id = t.id AND bc.run_id = {RUN}""",
                    simplified=False,
                    parameters=("run",),
                ),
                Layer(
                    "circles",
                    "station_circle",
                    "s.code AS station, t.method, t.residents, t.households",
                    {
                        "station": "String",
                        "method": "String",
                        "residents": "Number",
                        "households": "Number",
                    },
                    12,
                    joins="JOIN station s ON s.id = t.station_id",
                    where=f"t.run_id = {RUN}",
                    parameters=("run",),
                    key="t.station_id, t.method",
                ),
                Layer(
                    "gaps",
                    "coverage_gap",
                    "t.rank, t.residents, t.households, t.buildings",
                    {
                        "rank": "Number",
                        "residents": "Number",
                        "households": "Number",
                        "buildings": "Number",
                    },
                    12,
                    where=f"t.run_id = {RUN}",
                    parameters=("run",),
                    key="t.rank",
                ),
                Layer(
                    "events",
                    "event",
                    f"t.kind, t.status, {EVENT_DAY} AS day",
                    {"kind": "String", "status": "String", "day": "Number"},
                    EVENTS_MINZOOM,
                    simplified=False,
                ),
                Layer(
                    "stations",
                    "station",
                    "t.code, t.name, t.kind, sc.residents AS residents_served",
                    {
                        "code": "String",
                        "name": "String",
                        "kind": "String",
                        "residents_served": "Number",
                    },
                    11,
                    joins=f"""
                  LEFT JOIN station_circle sc ON sc.station_id = t.id
                       AND sc.method = 'network' AND sc.run_id = {RUN}""",
                    simplified=False,
                    parameters=("run",),
                ),
            ),
        ),
        Tileset(
            "buildings",
            "Building footprints with their residents and households; "
            "below zoom 14, where a footprint is a pixel or less, the blocks (units) they "
            "make up, with their residents and households",
            (
                Layer(
                    "buildings",
                    "unit",
                    "t.code, t.residents, t.households",
                    {"code": "String", "residents": "Number", "households": "Number"},
                    12,
                    maxzoom=FULL_DETAIL_ZOOM - 1,
                ),
                Layer(
                    "buildings",
                    "building",
                    "t.id, t.residents, t.households, t.levels",
                    {
                        "id": "Number",
                        "residents": "Number",
                        "households": "Number",
                        "levels": "Number",
                    },
                    FULL_DETAIL_ZOOM,
                    simplified=False,
                ),
            ),
        ),
        Tileset(
            "basemap",
            "The city's own OpenStreetMap layers: water, streets, buildings",
            (
                Layer("water", "water", "t.kind, t.name", {"kind": "String", "name": "String"}, 8),
                Layer(
                    "streets",
                    "street",
                    "t.kind, t.name",
                    {"kind": "String", "name": "String"},
                    11,
                    where="t.kind IN ('motorway', 'trunk', 'primary', 'secondary', "
                    "'tertiary', 'rail', 'motorway_link', 'trunk_link', 'primary_link')",
                    maxzoom=13,
                ),
                Layer(
                    "streets", "street", "t.kind, t.name", {"kind": "String", "name": "String"}, 14
                ),
                Layer(
                    "buildings", "building", "t.levels", {"levels": "Number"}, 14, simplified=False
                ),
            ),
        ),
        Tileset(
            "plan",
            "A plan's grids, their labels and its units, drawn by shape and code without the "
            "figures an edit changes (households, residents, load, compactness, coverage: "
            "GET /plans/{id}/grids, joined by code, e.g. as feature state): a move rebuilds "
            "only the tiles where its unit lies",
            (
                Layer(
                    "grids",
                    "grid",
                    "t.code, t.name, t.kind, t.locked",
                    {"code": "String", "name": "String", "kind": "String", "locked": "Boolean"},
                    11,
                    where=f"t.plan_id = {PLAN}",
                    parameters=("plan",),
                    shape_only=True,
                ),
                Layer(
                    "grid_labels",
                    "grid",
                    "t.code, t.name",
                    {"code": "String", "name": "String"},
                    13,
                    where=f"t.plan_id = {PLAN}",
                    parameters=("plan",),
                    column="label_3857",
                    shape_only=True,
                ),
                UNITS,
            ),
        ),
    )
}


def vector_layers(tiles: Tileset) -> list[dict[str, object]]:
    """Return the TileJSON ``vector_layers`` of ``tiles``: one entry per layer id.

    A layer drawn from different tables at different zooms (the buildings tileset's blocks and
    footprints, the basemap's main and all streets) is one vector layer to a client: its fields
    and zooms are the union of its parts'.
    """
    layers: dict[str, dict[str, object]] = {}
    for layer in tiles.layers:
        entry = layers.setdefault(
            layer.name,
            {"id": layer.name, "fields": {}, "minzoom": layer.minzoom, "maxzoom": layer.maxzoom},
        )
        entry["fields"] = {**entry["fields"], **layer.fields}  # type: ignore[dict-item]
        entry["minzoom"] = min(entry["minzoom"], layer.minzoom)  # type: ignore[call-overload]
        entry["maxzoom"] = max(entry["maxzoom"], layer.maxzoom)  # type: ignore[call-overload]
    return list(layers.values())


def tileset(name: str) -> Tileset:
    """Return the tileset ``name``.

    Raises
    ------
    NotFound
        When there is no such tileset.
    """
    try:
        return TILESETS[name]
    except KeyError:
        raise NotFound(f"no tileset {name!r}; there are {', '.join(TILESETS)}") from None


def check_tile(z: int, x: int, y: int) -> None:
    """Refuse tile coordinates outside the tile matrix.

    Raises
    ------
    InvalidInput
        Naming the coordinate at fault.
    """
    if not 0 <= z <= MAX_ZOOM:
        raise InvalidInput(f"z must be between 0 and {MAX_ZOOM} (got {z})")
    side = 1 << z
    for name, value in (("x", x), ("y", y)):
        if not 0 <= value < side:
            raise InvalidInput(f"{name} must be between 0 and {side - 1} at zoom {z} (got {value})")


def tile_sql(tiles: Tileset, z: int, *, scoped: bool) -> str | None:
    """Return the one statement that builds a tile of ``tiles`` at zoom ``z`` (None: no layer).

    Bound parameters: ``z``, ``x``, ``y``, and ``plan``, ``run``, ``scope`` (a region id)
    where used. With ``scoped``, only the features of the region are kept (those whose inner
    point lies in it, as :mod:`gridmap.features.query` does) and clipped at its edge.
    """
    layers = tiles.layers_at(z)
    if not layers:
        return None
    parts = []
    for layer in layers:
        column = layer.column or (
            "geom_3857_s" if layer.simplified and z < FULL_DETAIL_ZOOM else "geom_3857"
        )
        geometry = f"t.{column}"
        conditions = [f"t.{column} && b.buffered"]
        if layer.where:
            conditions.append(layer.where)
        if scoped:
            conditions.append(f"t.{column} && r.geom")  # the feature's inner point in the region
            conditions.append("ST_Intersects(r.geom, ST_PointOnSurface(t.geom_3857))")
            geometry = f"ST_Intersection(t.{column}, r.geom)"
        # ST_AsMVT skips a row whose geometry clipped away (NULL): a filter on q.geom outside
        # would be pushed into the scan and compute every geometry twice. The order makes a
        # tile's bytes the same whatever plan the query takes (+ 0: no index scan for it).
        first, *rest = layer.key.split(", ")
        order = ", ".join([f"{first} + 0", *rest])
        parts.append(f"""
        (SELECT coalesce(ST_AsMVT(q, '{layer.name}', {EXTENT}, 'geom'), ''::bytea) FROM (
            SELECT {layer.attributes},
                   ST_AsMVTGeom({geometry}, b.envelope, {EXTENT}, {BUFFER}, true) AS geom
            FROM {layer.table} t {layer.joins}
            WHERE {" AND ".join(conditions)}
            ORDER BY {order}
        ) q)""")
    scope = ", (SELECT geom_3857 AS geom FROM region WHERE id = :scope) r" if scoped else ""
    return f"""
    WITH b AS (
        SELECT ST_TileEnvelope(:z, :x, :y) AS envelope,
               ST_TileEnvelope(:z, :x, :y, margin => {BUFFER / EXTENT}) AS buffered
    )
    SELECT {" || ".join(parts)} AS tile
    FROM b{scope}"""


def uses(tiles: Tileset, z: int) -> tuple[str, ...]:
    """Return the parameters (plan, run) a tile of ``tiles`` at ``z`` takes."""
    return tuple(sorted({p for layer in tiles.layers_at(z) for p in layer.parameters}))


TOKEN_LAYERS = {"grids": ("grids", "grid_labels"), "regions": ("regions", "region_labels")}
"""The tile layers a token's layer opens, where they are more than the layer of that name."""
NARROWED = ("gridmap", "buildings", "plan")
"""The tilesets a token's layers narrow; the basemap (water, streets, footprints) is for all."""
PRIVATE_LAYERS = ("events",)
"""Layers an embed never reads: where residents' hotline tickets come from is for the city's
own keys; a portal gets the figures (GET /tickets/...), not the points."""


def narrowed(
    tiles: Tileset, layers: tuple[str, ...] | None, *, embed: bool = False
) -> Tileset | None:
    """Return ``tiles`` with only the layers a token held to ``layers`` (or an embed) may read.

    None when it may read none of them; ``tiles`` itself when it may read them all. The
    narrowed set has a name of its own, so that its SQL and its cached tiles are its own.
    """
    if tiles.name not in NARROWED:
        return tiles
    if embed:
        tiles = _public(tiles.name)
    if layers is None:
        return tiles
    kept = _narrowed(tiles.name.split("~")[0], layers)
    if kept is None or not embed:
        return kept
    public = tuple(layer for layer in kept.layers if layer.name not in PRIVATE_LAYERS)
    if not public:
        return None
    if len(public) == len(kept.layers):
        return kept
    return Tileset(f"{kept.name}~public", kept.description, public)


@cache
def _public(name: str) -> Tileset:
    tiles = TILESETS[name]
    kept = tuple(layer for layer in tiles.layers if layer.name not in PRIVATE_LAYERS)
    return (
        tiles
        if len(kept) == len(tiles.layers)
        else Tileset(f"{name}~public", tiles.description, kept)
    )


@cache
def _narrowed(name: str, layers: tuple[str, ...]) -> Tileset | None:
    tiles = TILESETS[name]
    open_ = {name for layer in layers for name in TOKEN_LAYERS.get(layer, (layer,))}
    if tiles.name == "buildings":
        open_ = {"buildings"} if "buildings" in layers else set()
    kept = tuple(layer for layer in tiles.layers if layer.name in open_)
    if not kept:
        return None
    if len(kept) == len(tiles.layers):
        return tiles
    return Tileset(f"{tiles.name}~{'+'.join(layers)}", tiles.description, kept)
