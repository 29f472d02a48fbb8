"""gridmap's errors as HTTP answers: one status per error class, in application/problem+json."""

from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gridmap.errors import (
    Cancelled,
    Conflict,
    Forbidden,
    GridmapError,
    InvalidInput,
    NotFound,
    PreconditionRequired,
    Stale,
    StoreError,
    Unauthorized,
)

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


def problem(status: int, title: str, detail: str) -> JSONResponse:
    """Return an RFC 9457 problem document."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


async def _gridmap_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, GridmapError)
    response = problem(status_for(error), type(error).__name__, str(error))
    if isinstance(error, Unauthorized):
        response.headers["WWW-Authenticate"] = 'Bearer realm="gridmap"'
    return response


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
