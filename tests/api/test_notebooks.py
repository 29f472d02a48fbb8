"""The worked notebooks: the coverage analysis runs top to bottom on the served demo city.

They sit beside the API tests because they read the same served city.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest

from gridmap.config import get_settings
from gridmap.db.coverage import latest_run_id, run_figures
from tests.api.conftest import Served

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def build_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS / "build.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_the_committed_notebooks_are_the_built_ones_and_executed() -> None:
    build = build_module()
    for name, cells in build.NOTEBOOKS.items():
        saved = nbformat.read(NOTEBOOKS / name, as_version=4)
        assert [c.source for c in saved.cells] == [source for _, source in cells], name
        code = [c for c in saved.cells if c.cell_type == "code"]
        assert all(c.execution_count for c in code), f"{name} was not run"
        assert not [o for c in code for o in c.outputs if o.output_type == "error"], name


def test_the_coverage_notebook_runs_on_the_served_city(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", served.url)
    get_settings.cache_clear()
    try:
        build = build_module()
        nb = build.execute(build.notebook(build.NOTEBOOKS["coverage_analysis.ipynb"]))
    finally:
        get_settings.cache_clear()
    first = "".join(o.get("text", "") for o in nb.cells[1].outputs)
    with served.engine.connect() as connection:
        run = latest_run_id(connection)
        figures = run_figures(connection, run)
    assert first.strip() == (
        f"run {run}: {figures['covered_residents']:,} of {figures['residents']:,} residents covered"
    )
    kinds = {
        key
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        for key in o.get("data", {})
    }
    assert "image/svg+xml" in kinds and "text/html" in kinds
