"""gridmap's errors as HTTP answers: one status per error class, in application/problem+json."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gridmap.db.outage import RETRY_AFTER_SECONDS, lost_connection
from gridmap.errors import (
    Cancelled,
    Conflict,
    Forbidden,
    GridmapError,
    InvalidInput,
    JobRunning,
    NotFound,
    PreconditionRequired,
    Stale,
    StoreError,
    Unauthorized,
)

log = logging.getLogger("gridmap.api")
PROBLEM_JSON = "application/problem+json"

STATUS_BY_ERROR: dict[type[GridmapError], int] = {
    InvalidInput: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Cancelled: 409,
    Stale: 412,
    PreconditionRequired: 428,
    StoreError: 503,
    GridmapError: 500,
}


def status_for(error: GridmapError) -> int:
    """Return the HTTP status of ``error``: that of its nearest class in the table."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def problem(status: int, title: str, detail: str, **members: object) -> JSONResponse:
    """Return an RFC 9457 problem document (with extension ``members``)."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **members}
    response = JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


UNREACHABLE = "the database cannot be reached just now; try again in a few seconds"


def unreachable(request_or_app: Any, error: BaseException) -> JSONResponse:
    """Return the 503 of a database that cannot be reached, and note the outage once."""
    outage = getattr(getattr(request_or_app, "state", None), "outage", None)
    if outage is not None:
        outage.down(error)
    return problem(503, "StoreError", UNREACHABLE)


async def _gridmap_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, GridmapError)
    members = {"job": error.job_id} if isinstance(error, JobRunning) else {}
    if isinstance(error, StoreError):
        outage = getattr(request.app.state, "outage", None)
        if outage is not None:
            outage.down(error)
    response = problem(status_for(error), type(error).__name__, str(error), **members)
    if isinstance(error, Unauthorized):
        response.headers["WWW-Authenticate"] = 'Bearer realm="gridmap"'
    return response


async def _database_error(request: Request, error: Exception) -> JSONResponse:
    """Answer a database that went away as a 503; a statement that failed is logged."""
    if lost_connection(error):
        return unreachable(request.app, error)
    if isinstance(error, IntegrityError):  # two writers raced to the same row (one current plan)
        return problem(
            409,
            "Conflict",
            "the request clashed with a change made at the same moment; reload and try again",
        )
    log.error(
        "a database statement failed on %s %s", request.method, request.url.path, exc_info=error
    )
    return problem(503, "StoreError", "the database could not answer this request; try again")


async def _data_error(request: Request, error: Exception) -> JSONResponse:
    """Answer a value the database cannot hold (out of range, badly encoded) as a 400."""
    assert isinstance(error, DataError)
    first = str(error.orig).strip().splitlines()[0] if error.orig else "a value cannot be stored"
    return problem(400, "InvalidInput", f"a value is out of range or malformed: {first}")


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    response = problem(error.status_code, HTTPStatus(error.status_code).phrase, str(error.detail))
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    return response


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    details = "; ".join(
        f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in error.errors()
    )
    return problem(400, "InvalidInput", details)


def add_exception_handlers(app: FastAPI) -> None:
    """Answer gridmap's errors and invalid requests as problem documents."""
    app.add_exception_handler(GridmapError, _gridmap_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(psycopg.Error, _database_error)
