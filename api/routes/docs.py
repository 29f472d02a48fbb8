"""The API definition and its documentation page, served without any CDN."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import fastapi_offline
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from api.openapi30 import as_openapi30

OPENAPI_MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.0"
SWAGGER_ASSETS = Path(fastapi_offline.__file__).parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/openapi.json", name="openapi")
def openapi(
    request: Request, version: Annotated[Literal["3.0", "3.1"], Query()] = "3.0"
) -> JSONResponse:
    """Return the OpenAPI document, with the media type OGC API clients look for.

    OpenAPI 3.0 by default, as OGC API - Features Part 1 asks; ``?version=3.1`` gives the
    document FastAPI writes.
    """
    document = request.app.openapi()
    if version == "3.0":
        state = request.app.state
        if getattr(state, "openapi30", None) is None:
            state.openapi30 = as_openapi30(document)
        document = state.openapi30
    media_type = OPENAPI_MEDIA_TYPE.replace("3.0", version)
    return JSONResponse(document, media_type=media_type)


@router.get("/docs", name="swagger_ui_html")
def swagger_ui(request: Request) -> HTMLResponse:
    """Return the interactive API documentation, its scripts served by this app."""
    assets = str(request.url_for("docs-assets", path="")).rstrip("/")
    return get_swagger_ui_html(
        openapi_url=str(request.url_for("openapi")),
        title="gridmap API",
        swagger_js_url=f"{assets}/swagger-ui-bundle.js",
        swagger_css_url=f"{assets}/swagger-ui.css",
        swagger_favicon_url=f"{assets}/favicon.png",
    )


def mount_assets(app: FastAPI) -> None:
    """Serve Swagger UI's scripts and styles from the installed package."""
    app.mount("/docs/assets", StaticFiles(directory=SWAGGER_ASSETS), name="docs-assets")
