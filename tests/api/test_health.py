"""``/health``: versions, schema revision, and a 503 when the database cannot serve."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from api.main import create_app
from gridmap.config import Settings
from gridmap.db.local import LocalCluster
from gridmap.db.migrate import head_revision


def test_health_reports_postgresql_postgis_and_the_schema(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["postgresql_version"].startswith("15.")
    assert body["postgis_version"].startswith("3.")
    assert body["schema_revision"] == body["schema_head"] == head_revision()


@pytest.fixture
def unmigrated_client(cluster: LocalCluster) -> Iterator[TestClient]:
    name = "gridmap_unmigrated"
    admin = cluster.url(driver=None, database="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with TestClient(create_app(Settings(database_url=cluster.url(database=name)))) as client:
            yield client
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_health_is_503_before_postgis_and_the_schema_are_installed(
    unmigrated_client: TestClient,
) -> None:
    response = unmigrated_client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["postgis_version"] is None
    assert body["schema_revision"] is None


def test_health_is_a_503_problem_when_the_database_is_unreachable() -> None:
    settings = Settings(database_url="postgresql://nobody:secret@127.0.0.1:9/nowhere")
    with TestClient(create_app(settings)) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["title"] == "StoreError"
    assert "cannot be reached" in problem["detail"]
    assert "secret" not in problem["detail"]
