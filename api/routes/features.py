"""OGC API - Features (Part 1 Core, GeoJSON; Part 3 CQL2 text filters; sorting).

Routes parse and check the request, then call :mod:`gridmap.features`; an embed key's region
scope goes into every query, so nothing outside its region is ever read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from api.auth import Viewer
from api.deps import MAX_ID, ConnectionDep, parse_bbox
from gridmap.auth.keys import Principal
from gridmap.auth.scope import check_plan_readable
from gridmap.errors import Forbidden, InvalidInput
from gridmap.features.collections import COLLECTIONS, Collection, collection
from gridmap.features.query import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    FeatureQuery,
    bbox_of,
    feature,
    features,
)
from gridmap.tiles.tilesets import PRIVATE_LAYERS

router = APIRouter(tags=["OGC API - Features"])

GEOJSON = "application/geo+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
RESERVED = {
    "bbox",
    "limit",
    "offset",
    "filter",
    "filter-lang",
    "filter-crs",
    "sortby",
    "plan",
    "run",
    "crs",
    "key",
    "token",
    "f",
    "datetime",
    "bbox-crs",
}
CRS_NAMES = {
    "wgs84": "wgs84",
    CRS84: "wgs84",
    "gcj02": "gcj02",
    "http://www.opengis.net/def/crs/EPSG/0/4326": "wgs84",
}

CollectionId = Annotated[  # listed in the schema; an unknown one is a 404, as OGC asks
    str, Path(description="A collection", json_schema_extra={"enum": list(COLLECTIONS)})
]
BboxQuery = Annotated[
    str | None,
    Query(description="west,south,east,north in degrees (CRS84)", examples=["24.9,60.1,25,60.2"]),
]
LimitQuery = Annotated[int, Query(ge=1, description=f"Features per page (at most {MAX_LIMIT})")]
OffsetQuery = Annotated[int, Query(ge=0, description="Features to skip")]
FilterQuery = Annotated[
    str | None,
    Query(
        alias="filter", description="A CQL2 text filter, e.g. `households > 400 AND kind = 'urban'`"
    ),
]
FilterLangQuery = Annotated[str | None, Query(alias="filter-lang", description="cql2-text")]
SortQuery = Annotated[
    str | None, Query(description="Properties to sort by, comma-separated; `-` for descending")
]
PlanQuery = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="The plan (default: the current one)")
]
RunQuery = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="The coverage run (default: the latest)")
]
CrsQuery = Annotated[
    str | None,
    Query(description="Output coordinates: CRS84 (default) or `gcj02` for Amap-based portals"),
]


def _readable(collection_id: str, who: Principal) -> Collection:
    """Return the collection, when ``who`` may read it (a token may be held to some)."""
    c = collection(collection_id)
    if not who.allows(c.id):
        raise Forbidden(f"this token reads only {', '.join(who.layers or ())}, not {collection_id}")
    if who.embed and c.id in PRIVATE_LAYERS:
        raise Forbidden(
            f"an embed does not read {collection_id}: hotline tickets are the city's own"
        )
    return c


def _url(request: Request, name: str, **params: Any) -> str:
    return str(request.url_for(name, **params))


def _description(request: Request, c: Collection, extent: list[float] | None) -> dict[str, Any]:
    items = _url(request, "items", collection_id=c.id)
    body: dict[str, Any] = {
        "id": c.id,
        "title": c.title,
        "description": f"{c.title_zh}: {c.description}",
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "links": [
            {
                "href": _url(request, "collection_page", collection_id=c.id),
                "rel": "self",
                "type": "application/json",
                "title": c.title,
            },
            {"href": items, "rel": "items", "type": GEOJSON, "title": f"{c.title} as GeoJSON"},
            {
                "href": _url(request, "queryables", collection_id=c.id),
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "type": "application/schema+json",
                "title": "Queryable properties",
            },
        ],
    }
    if extent:
        body["extent"] = {"spatial": {"bbox": [extent], "crs": CRS84}}
    return body


@router.get("/collections", name="collections")
def collections(request: Request, connection: ConnectionDep, who: Viewer) -> dict[str, Any]:
    """List the feature collections."""
    return {
        "links": [
            {
                "href": _url(request, "collections"),
                "rel": "self",
                "type": "application/json",
                "title": "The collections",
            }
        ],
        "collections": [
            _description(request, c, None)
            for c in COLLECTIONS.values()
            if who.allows(c.id) and not (who.embed and c.id in PRIVATE_LAYERS)
        ],
    }


@router.get("/collections/{collection_id}", name="collection_page")
def collection_page(
    request: Request, collection_id: CollectionId, connection: ConnectionDep, who: Viewer
) -> dict[str, Any]:
    """Describe one collection, with its extent."""
    c = _readable(collection_id, who)
    query = FeatureQuery(scope_region=who.region_id)
    return _description(request, c, bbox_of(connection, c, query))


@router.get("/collections/{collection_id}/queryables", name="queryables")
def queryables(request: Request, collection_id: CollectionId, who: Viewer) -> JSONResponse:
    """Return the properties a filter can name, as a JSON schema (OGC API Features Part 3)."""
    c = _readable(collection_id, who)
    kinds = {
        "Integer": "integer",
        "Double": "number",
        "Boolean": "boolean",
        "Text": "string",
        "DateTime": "string",
    }
    properties: dict[str, Any] = {"geometry": {"format": f"geometry-{c.geometry_type.lower()}"}}
    for name, kind in c.properties.items():
        properties[name] = {"type": kinds[kind.__name__]}
        if kind.__name__ == "DateTime":
            properties[name]["format"] = "date-time"
    body = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _url(request, "queryables", collection_id=c.id),
        "type": "object",
        "title": c.title,
        "properties": properties,
        "additionalProperties": False,
    }
    return JSONResponse(body, media_type="application/schema+json")


def feature_query(
    request: Request,
    who: Principal,
    *,
    bbox: str | None,
    limit: int,
    offset: int,
    cql: str | None,
    filter_lang: str | None,
    sortby: str | None,
    plan: int | None,
    run: int | None,
    crs: str | None,
) -> FeatureQuery:
    """Build the query from the request: every parameter checked, the scope applied."""
    if filter_lang not in (None, "cql2-text"):
        raise InvalidInput(f"filter-lang: only cql2-text is supported (got {filter_lang!r})")
    box = parse_bbox(bbox) if bbox else None
    if crs is not None and crs not in CRS_NAMES:
        raise InvalidInput(f"crs: {crs!r} is not offered; use {CRS84} or gcj02")
    properties = {k: v for k, v in request.query_params.items() if k not in RESERVED}
    return FeatureQuery(
        bbox=box,
        limit=min(limit, MAX_LIMIT),
        offset=offset,
        properties=properties,
        cql=cql,
        sortby=tuple(s.strip() for s in sortby.split(",") if s.strip()) if sortby else (),
        plan=plan,
        run=run,
        scope_region=who.region_id,
        crs=CRS_NAMES[crs] if crs else "wgs84",
    )


@router.get(
    "/collections/{collection_id}/items",
    name="items",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}, "description": "A GeoJSON FeatureCollection"}},
)
def items(
    request: Request,
    collection_id: CollectionId,
    connection: ConnectionDep,
    who: Viewer,
    bbox: BboxQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    offset: OffsetQuery = 0,
    cql: FilterQuery = None,
    filter_lang: FilterLangQuery = None,
    sortby: SortQuery = None,
    plan: PlanQuery = None,
    run: RunQuery = None,
    crs: CrsQuery = None,
) -> Response:
    """Return a page of a collection's features, filtered, sorted and paged.

    Any other query parameter named after a property filters on it (`?kind=urban`).
    """
    c = _readable(collection_id, who)
    query = feature_query(
        request,
        who,
        bbox=bbox,
        limit=limit,
        offset=offset,
        cql=cql,
        filter_lang=filter_lang,
        sortby=sortby,
        plan=plan,
        run=run,
        crs=crs,
    )
    check_plan_readable(connection, who, plan)
    page = features(connection, c, query)
    here = request.url.remove_query_params("key")
    links = [
        {"href": str(here), "rel": "self", "type": GEOJSON, "title": "This page"},
        {
            "href": _url(request, "collection_page", collection_id=c.id),
            "rel": "collection",
            "type": "application/json",
            "title": c.title,
        },
    ]
    if query.offset + page.number_returned < page.number_matched:
        after = here.include_query_params(offset=query.offset + query.limit, limit=query.limit)
        links.append({"href": str(after), "rel": "next", "type": GEOJSON, "title": "Next page"})
    if query.offset > 0:
        before = here.include_query_params(
            offset=max(0, query.offset - query.limit), limit=query.limit
        )
        links.append(
            {"href": str(before), "rel": "prev", "type": GEOJSON, "title": "Previous page"}
        )
    head = {
        "type": "FeatureCollection",
        "numberMatched": page.number_matched,
        "numberReturned": page.number_returned,
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links,
    }
    body = _json(head)[:-1] + ',"features":[' + ",".join(page.features) + "]}"
    return Response(body, media_type=GEOJSON, headers=_crs_header(query))


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    name="item",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}, "description": "A GeoJSON Feature"}},
)
def item(
    request: Request,
    collection_id: CollectionId,
    feature_id: str,
    connection: ConnectionDep,
    who: Viewer,
    plan: PlanQuery = None,
    run: RunQuery = None,
    crs: CrsQuery = None,
) -> Response:
    """Return one feature."""
    c = _readable(collection_id, who)
    query = feature_query(
        request,
        who,
        bbox=None,
        limit=1,
        offset=0,
        cql=None,
        filter_lang=None,
        sortby=None,
        plan=plan,
        run=run,
        crs=crs,
    )
    check_plan_readable(connection, who, plan)
    text = feature(connection, c, feature_id, query)
    links = [
        {"href": str(request.url.remove_query_params("key")), "rel": "self", "type": GEOJSON},
        {
            "href": _url(request, "collection_page", collection_id=c.id),
            "rel": "collection",
            "type": "application/json",
        },
    ]
    body = text[:-1] + ',"links":' + _json(links) + "}"
    return Response(body, media_type=GEOJSON, headers=_crs_header(query))


def _crs_header(query: FeatureQuery) -> dict[str, str]:
    if query.crs == "gcj02":
        return {"Content-Crs": "gcj02"}
    return {"Content-Crs": f"<{CRS84}>"}


def _json(value: object) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
