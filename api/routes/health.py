"""``/health``: is the database there, which versions, and is the schema up to date."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import ConnectionDep
from gridmap.db.health import server_info

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The state of the service and its database."""

    status: str
    postgresql_version: str
    postgis_version: str | None
    schema_revision: str | None
    schema_head: str


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(connection: ConnectionDep) -> JSONResponse:
    """Report the PostgreSQL and PostGIS versions and the schema revision.

    200 when PostGIS is installed and the schema is at the newest revision, else 503.
    """
    info = server_info(connection)
    ready = info.postgis_version is not None and info.schema_current
    body = Health(
        status="ok" if ready else "unavailable",
        postgresql_version=info.postgresql_version,
        postgis_version=info.postgis_version,
        schema_revision=info.schema_revision,
        schema_head=info.head_revision,
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
