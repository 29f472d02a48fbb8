"""An app on the session's PostGIS, built with explicit settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.main import create_app
from gridmap.config import Settings
from gridmap.db.local import LocalCluster


@pytest.fixture
def client(cluster: LocalCluster, engine: Engine) -> Iterator[TestClient]:
    """A client of the app on the migrated session database."""
    app = create_app(Settings(database_url=cluster.url()))
    with TestClient(app) as client:
        yield client
