"""Errors as problem documents: one status per error class, the field named."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.errors import add_exception_handlers, status_for
from api.main import create_app
from gridmap.errors import (
    Conflict,
    GridmapError,
    InvalidInput,
    MissingBinaries,
    NotFound,
    StoreError,
)
from tests.api.conftest import Served


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidInput("x"), 400),
        (NotFound("x"), 404),
        (Conflict("x"), 409),
        (StoreError("x"), 503),
        (MissingBinaries("x"), 503),  # a subclass takes its nearest listed class
        (GridmapError("x"), 500),
    ],
)
def test_each_error_class_has_one_status(error: GridmapError, status: int) -> None:
    assert status_for(error) == status


def _app() -> FastAPI:
    app = FastAPI()
    add_exception_handlers(app)

    @app.get("/grids")
    def grids(limit: int = 10) -> dict[str, int]:
        if limit > 100:
            raise InvalidInput(f"limit {limit} is above the maximum of 100")
        return {"limit": limit}

    return app


def test_a_malformed_parameter_is_a_400_problem_naming_it() -> None:
    response = TestClient(_app()).get("/grids", params={"limit": "many"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 400
    assert problem["detail"].startswith("query.limit:")


def test_a_domain_error_keeps_its_message() -> None:
    response = TestClient(_app()).get("/grids", params={"limit": 500})
    assert response.status_code == 400
    assert response.json() == {
        "type": "about:blank",
        "title": "InvalidInput",
        "status": 400,
        "detail": "limit 500 is above the maximum of 100",
    }


def test_keys_and_tokens_never_reach_the_access_log(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    create_app(served.settings())  # installs the filter, as every API process does
    secret = served.keys["embed"]
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "GET",
            f"/tiles/gridmap/14/1/2.mvt?lang=en&key={secret}&token={secret}",
            "1.1",
            200,
        )
    logged = caplog.text
    assert secret not in logged
    assert "/tiles/gridmap/14/1/2.mvt?lang=en&key=***&token=***" in logged


@pytest.mark.parametrize("body", ["WhatIf", "SitingAsk", "CoverageJob"])
def test_the_api_states_the_engine_s_walking_limits(body: str) -> None:
    from gridmap.coverage.engine import LIMITS, CoverageParameters

    schema = create_app().openapi()["components"]["schemas"][body]["properties"]
    for name, (low, high) in LIMITS.items():
        if name not in schema:
            continue
        field = schema[name]
        assert (field["exclusiveMinimum"], field["maximum"]) == (low, high), name
        assert field["default"] == getattr(CoverageParameters(), name)


def test_a_walking_speed_beyond_the_engine_s_is_refused_before_any_work(
    api: TestClient, served: Served
) -> None:
    h = served.headers("planner")
    for speed, status in ((250, 400), (200, 200), (10, 400)):
        reply = api.post("/coverage/whatif", json={"speed_m_per_min": speed}, headers=h)
        assert reply.status_code == status, (speed, reply.text)
        if status == 400:
            assert reply.json()["detail"].startswith("body.speed_m_per_min:")
