"""Resident estimates: the formula, its defaults, and its parameters."""

from __future__ import annotations

import numpy as np
from sqlalchemy import text

from gridmap.io.osm_import import import_osm_layers
from gridmap.units.residents import ResidentModel, estimate_residents, not_residential
from tests.gridmap.conftest import City


def test_the_formula_with_the_default_parameters() -> None:
    # 600 m² × 6 levels × 1.0 ÷ 40 m² = 90 residents; 90 ÷ 2.62 = 34.35 → 34 households
    residents, households = estimate_residents([600.0], [6], ["apartments"])
    assert (residents.tolist(), households.tolist()) == ([90], [34])


def test_a_residential_building_without_levels_gets_three() -> None:
    residents, _ = estimate_residents([400.0, 400.0], [np.nan, 0], ["house", "house"])
    assert residents.tolist() == [30, 30]  # 400 × 3 ÷ 40


def test_the_share_follows_the_building_type() -> None:
    residents, _ = estimate_residents(
        [800.0] * 4, [4] * 4, ["apartments", "yes", "office", "school"]
    )
    assert residents.tolist() == [80, 40, 0, 0]


def test_every_number_is_configurable() -> None:
    model = ResidentModel(
        floor_area_per_person_m2=30,
        persons_per_household=3.0,
        default_levels=5,
        residential_share={"shikumen": 1.0},
    )
    residents, households = estimate_residents([300.0], [np.nan], ["shikumen"], model)
    assert (residents.tolist(), households.tolist()) == ([50], [17])


def test_buildings_of_unknown_type_with_a_use_tag_or_a_tiny_footprint_get_no_residents() -> None:
    area = [1000.0, 1000.0, 1000.0, 35.0, 35.0, 10.0]
    levels = [3, 3, 3, 1, 1, 2]
    kinds = ["yes", "yes", "apartments", "yes", "house", "house"]
    uses = [None, "shop=garden_centre", "shop=bakery", None, None, None]

    residents, _ = estimate_residents(area, levels, kinds, None, uses)

    # 1000 m² × 3 levels × 0.5 ÷ 40 m² = 37.5 → 38; flats above a bakery keep their homes;
    # a 35 m² house of one level (35 m² of floor) is a home, a 10 m² one (20 m²) is not
    assert residents.tolist() == [38, 0, 75, 0, 1, 0]
    assert not_residential(area, levels, kinds, uses).tolist() == [
        "",
        "use shop=garden_centre",
        "",
        "under 40 m²",
        "",
        "under 22 m² of floor",
    ]


def test_the_osm_import_says_how_many_buildings_count_as_homes(helsinki: City) -> None:
    savepoint = helsinki.connection.begin_nested()
    try:
        counts = import_osm_layers(helsinki.connection, helsinki.layers)
    finally:
        savepoint.rollback()
    homes = helsinki.layers.buildings
    museum = homes.loc[homes["use"].fillna("").str.startswith("tourism=museum")]
    assert len(museum) >= 2  # Ateneum and Kiasma
    value = helsinki.connection.execute(
        text("SELECT coalesce(sum(residents), 0) FROM building WHERE osm_id = ANY(:ids)"),
        {"ids": museum["osm_id"].tolist()},
    ).scalar_one()
    assert value == 0
    assert "buildings counted as residential;" in counts.residential
    assert "use amenity" in counts.residential and "type office" in counts.residential
