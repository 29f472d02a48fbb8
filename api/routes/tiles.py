"""Vector tiles, their TileJSON 3.0.0 documents, and the MapLibre styles that draw them.

Tiles are cached (in memory by data revision, and in the shared store until a write changes
them) and answered with an ETag, a digest of their bytes (304 on ``If-None-Match``),
gzip-compressed when the client accepts it; a tile with nothing in it is a 204. TileJSON
URLs carry a version token (``v``): a tile asked for with the current token may be kept by
the browser for a year, since new data means a new token.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Path, Query, Request, Response

from api.auth import Viewer
from api.deps import MAX_ID, ConnectionDep
from gridmap.auth.keys import Principal, issue_token
from gridmap.auth.scope import check_plan_readable
from gridmap.auth.tokens import tile_token_expiry
from gridmap.db.city import region_extent
from gridmap.errors import Forbidden, InvalidInput
from gridmap.tiles.service import Tile, TileRequest, TileServer
from gridmap.tiles.styles import STYLES, style
from gridmap.tiles.tilesets import TILESETS, Tileset, narrowed, tileset, vector_layers

router = APIRouter(tags=["Tiles"])

MVT = "application/vnd.mapbox-vector-tile"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"  # keep it, but ask (a 304 costs no tile)

TilesetName = Annotated[  # listed in the schema; an unknown one is a 404
    str, Path(description="A tileset", json_schema_extra={"enum": list(TILESETS)})
]
StyleName = Annotated[str, Path(description="A style", json_schema_extra={"enum": list(STYLES)})]
PlanQuery = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="A plan's grids (default: current)")
]
RunQuery = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="A coverage run (default: latest)")
]
VersionQuery = Annotated[str | None, Query(description="The data version the URL was made for")]


def _server(request: Request) -> TileServer:
    return request.app.state.tiles


def _request(
    tiles: Tileset, z: int, x: int, y: int, who: Principal, plan: int | None, run: int | None
) -> TileRequest:
    return TileRequest(_readable(tiles, who), z, x, y, plan, run, who.region_id)


def _readable(tiles: Tileset, who: Principal) -> Tileset:
    """Return the part of ``tiles`` that ``who`` may read (a token may be held to layers)."""
    mine = narrowed(tiles, who.layers, embed=who.embed)
    if mine is None:
        raise Forbidden(
            f"this token reads only {', '.join(who.layers or ())}: none of them is "
            f"in the {tiles.name} tiles"
        )
    return mine


def url_token(request: Request, connection: Any, who: Principal) -> str | None:
    """Return the token that URLs written for this request carry, never a key.

    A request authenticated by ``?token=`` passes its token on; one by ``?key=`` gets a token
    made from the key (held to its region and layers, expiring on the hour, 11 to 12 hours
    ahead), so that the key appears in one request only and in no tile URL. A request
    authenticated by a header gets URLs without any: its client sends the header again.
    """
    if token := request.query_params.get("token"):
        return token
    if request.query_params.get("key") and who.key_id is not None:
        return issue_token(connection, who, expires=tile_token_expiry(time.time()))[0]
    return None


@router.get(
    "/tiles/{tileset_name}/{z}/{x}/{y}.mvt",
    name="tile",
    response_class=Response,
    responses={
        200: {"content": {MVT: {}}, "description": "A Mapbox Vector Tile"},
        204: {"description": "Nothing in this tile"},
        304: {"description": "Not modified since the ETag given"},
    },
)
async def tile(
    request: Request,
    tileset_name: TilesetName,
    z: Annotated[int, Path(ge=0, le=22)],
    x: Annotated[int, Path(ge=0)],
    y: Annotated[int, Path(ge=0)],
    who: Viewer,
    plan: PlanQuery = None,
    run: RunQuery = None,
    v: VersionQuery = None,
) -> Response:
    """Return one vector tile of a tileset (a cached one costs no database work)."""
    wanted = _request(tileset(tileset_name), z, x, y, who, plan, run)
    async with request.app.state.tile_builder.slots:  # among the tiles being built, a few
        return await to_thread.run_sync(_tile, request, wanted, who, v)


def _tile(request: Request, wanted: TileRequest, who: Principal, v: str | None) -> Response:
    server = _server(request)
    engine = request.app.state.tile_engine
    if wanted.plan is not None and (who.region_id is not None or who.embed):
        with engine.connect() as connection:
            check_plan_readable(connection, who, wanted.plan)
    return answer(
        server.tile(engine, wanted),
        who=who,
        version=v,
        current=server.version(engine, wanted.tileset),
        if_none_match=request.headers.get("if-none-match"),
        accept_encoding=request.headers.get("accept-encoding", ""),
    )


def _matches(asked: str, etag: str) -> bool:
    return asked.strip() == "*" or etag in [t.strip() for t in asked.split(",")]


def _headers(who: Principal, version: str | None, current: str) -> dict[str, str]:
    cache = IMMUTABLE if version == current else REVALIDATE
    if who.region_id is not None or who.embed:
        cache = "private, " + REVALIDATE
    return {"Cache-Control": cache, "Vary": "Accept-Encoding"}


def reply(
    found: Tile,
    *,
    who: Principal,
    version: str | None,
    current: str,
    if_none_match: str | None,
    accept_encoding: str,
) -> tuple[int, dict[str, str], bytes]:
    """Return the status, headers and body for a tile: 304, 204, or the tile.

    The tile is gzipped when the client accepts gzip.
    """
    headers = {
        **_headers(who, version, current),
        "ETag": found.etag,
        "Server-Timing": f'tile;desc="{found.source}"',  # memory, store or built
    }
    if if_none_match is not None and _matches(if_none_match, found.etag):
        return 304, headers, b""
    if found.empty:
        return 204, headers, b""
    headers["Content-Type"] = MVT
    if "gzip" in accept_encoding:
        headers["Content-Encoding"] = "gzip"
        return 200, headers, found.compressed()
    return 200, headers, found.plain()


def answer(found: Tile, **asked: Any) -> Response:
    """Return the response for a tile (see :func:`reply`)."""
    status, headers, body = reply(found, **asked)
    return Response(body, status_code=status, headers=headers)


@router.get("/tiles/{tileset_name}.json", name="tilejson")
def tilejson(
    request: Request,
    tileset_name: TilesetName,
    connection: ConnectionDep,
    who: Viewer,
    plan: PlanQuery = None,
    run: RunQuery = None,
) -> dict[str, Any]:
    """Return the TileJSON 3.0.0 document of a tileset."""
    tiles = tileset(tileset_name)
    server = _server(request)
    template = str(request.url_for("tile", tileset_name=tiles.name, z="{z}", x="{x}", y="{y}"))
    tiles = _readable(tiles, who)
    template = template.replace("%7B", "{").replace("%7D", "}")
    query = {"v": server.version(connection.engine, tiles)}
    if plan is not None:
        query["plan"] = str(plan)
    if run is not None:
        query["run"] = str(run)
    if token := url_token(request, connection, who):
        query["token"] = token
    url = template + "?" + "&".join(f"{k}={v}" for k, v in query.items())
    bounds = _bounds(connection, who)
    return {
        "tilejson": "3.0.0",
        "name": tiles.name,
        "description": tiles.description,
        "version": "1.0.0",
        "scheme": "xyz",
        "tiles": [url],
        "minzoom": tiles.minzoom,
        "maxzoom": tiles.maxzoom,
        "bounds": bounds,
        "center": [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, 14],
        "vector_layers": vector_layers(tiles),
        "attribution": "© OpenStreetMap contributors; gridmap",
    }


def _bounds(connection: Any, who: Principal) -> list[float]:
    extent = region_extent(connection, who.region_id)
    return [-180.0, -85.0511, 180.0, 85.0511] if extent is None else [round(v, 6) for v in extent]


@router.get("/styles/{name}.json", name="style")
def style_document(
    request: Request,
    name: StyleName,
    who: Viewer,
    connection: ConnectionDep,
    lang: Annotated[str, Query()] = "zh",
) -> dict[str, Any]:
    """Return a MapLibre style: the city's own basemap under gridmap's layers.

    Fetched with ``?key=`` or ``?token=``, its sources' URLs carry a token, never the key.
    """
    if lang not in ("zh", "en"):
        raise InvalidInput(f"lang must be zh or en (got {lang!r})")
    token = url_token(request, connection, who)

    def source(tileset_name: str) -> str:
        url = str(request.url_for("tilejson", tileset_name=tileset_name))
        return url + (f"?token={token}" if token else "")

    return style(name, {t: source(t) for t in ("gridmap", "basemap")}, lang=lang)


__all__ = ["STYLES", "router"]
