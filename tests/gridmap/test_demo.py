"""The demo city's one recipe: its steps, in order."""

from __future__ import annotations

import pytest

from gridmap.demo import DEMO_STEPS, build_demo_city
from gridmap.errors import InvalidInput


def test_the_recipe_names_its_steps_and_refuses_another() -> None:
    assert DEMO_STEPS[0] == "osm" and DEMO_STEPS[-1] == "coverage"
    with pytest.raises(InvalidInput, match="until: one of osm, units"):
        build_demo_city(None, until="tiles")  # type: ignore[arg-type]  # refused before any work
