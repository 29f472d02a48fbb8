"""The planners' web map: its page, its scripts, MapLibre GL JS from npm, and what it starts from.

Everything the page loads comes from this service (``static/`` and the npm packages that the
set-up installs under ``static/node_modules``), never from a CDN: government intranets have
no internet.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.auth import principal
from api.deps import ConnectionDep
from gridmap.auth.keys import Principal
from gridmap.coverage.engine import CoverageParameters
from gridmap.db.city import region_extent
from gridmap.db.plans import current_plan_id
from gridmap.standards import GRID_BOUNDS

STATIC = Path(__file__).resolve().parents[2] / "static"
MAPLIBRE = STATIC / "node_modules" / "maplibre-gl" / "dist"
NO_CACHE = {"Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


@router.api_route("/map", methods=["GET", "HEAD"])
def web_map_slash() -> RedirectResponse:
    """Send ``/map`` to ``/map/``, where the page's relative addresses resolve."""
    return RedirectResponse("/map/", status_code=308)


@router.api_route("/map/", methods=["GET", "HEAD"], name="web_map")
def web_map() -> FileResponse:
    """Return the web map's page."""
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=NO_CACHE)


@router.api_route("/embed", methods=["GET", "HEAD"], name="embed")
def embed() -> FileResponse:
    """Return the read-only map for other portals' iframes.

    ``?layers=grids,stations,circles,gaps,buildings,units,regions`` (default grids and stations),
    ``?region=CODE`` to fit, ``?key=`` an embed key (the page sends it as a header, so what it
    shows is held to the key's region), ``?lang=en``. Framing by any site is allowed.
    """
    return FileResponse(STATIC / "embed.html", media_type="text/html", headers=NO_CACHE)


@router.get("/map/config.json", name="web_config")
def web_config(
    request: Request, connection: ConnectionDep, who: Annotated[Principal, Depends(principal)]
) -> dict[str, Any]:
    """Return what the page starts from: who is asking, the city's extent, the standards."""
    defaults = CoverageParameters()
    return {
        "role": who.role,
        "embed": who.embed,
        "name": who.name,
        "scoped": who.region_id is not None,
        "extent": region_extent(connection, who.region_id),
        "current_plan": None if who.region_id is not None else current_plan_id(connection),
        "bounds": {kind: asdict(b) for kind, b in GRID_BOUNDS.items()},
        "coverage": {"minutes": defaults.minutes, "speed_m_per_min": defaults.speed_m_per_min},
        "style": str(request.url_for("style", name="gridmap")),
    }


def mount_assets(app: FastAPI) -> None:
    """Serve the page's scripts and MapLibre GL JS (installed by ``npm ci`` in ``static/``)."""
    app.mount("/map/src", StaticFiles(directory=STATIC / "src"), name="web-src")
    app.mount(
        "/map/vendor/maplibre-gl",
        StaticFiles(directory=MAPLIBRE, check_dir=False),
        name="web-maplibre",
    )
