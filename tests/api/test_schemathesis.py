"""The API fuzzed against its own OpenAPI schema: no request, however odd, gets a 5xx.

Each operation's cases are drawn by schemathesis' strategies and run through hypothesis here
(schemathesis' own pytest plugin does not load under the pytest this project uses).
"""

from __future__ import annotations

import contextlib
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from api.main import create_app
from tests.api.conftest import Served

SKIPPED = {"/coverage/siting"}  # an exact solve of hundreds of sites is long by design


def fuzz(operation: Any, served: Served, failures: list[str]) -> None:
    """Send an operation ten generated requests; note each one answered with a 5xx."""

    @given(operation.as_strategy())
    @settings(
        max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def run(case: Any) -> None:
        response = case.call(headers={**(case.headers or {}), **served.headers("planner")})
        try:
            case.validate_response(response, checks=[not_a_server_error])
        except AssertionError as error:
            failures.append(f"{operation.method.upper()} {operation.path}: {error}"[:500])
            raise

    with contextlib.suppress(AssertionError):  # noted in failures
        run()


def test_no_request_gets_a_server_error(served: Served) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(served.settings()))
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 20
    failures: list[str] = []
    for operation in operations:
        if operation.path not in SKIPPED:
            fuzz(operation, served, failures)
    served.clear_jobs()  # the jobs it started are no later test's business
    assert not failures, "\n".join(failures)
