"""Resident estimates: the formula, its defaults, and its parameters."""

from __future__ import annotations

import numpy as np

from gridmap.units.residents import ResidentModel, estimate_residents


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
    model = ResidentModel(floor_area_per_person_m2=30, persons_per_household=3.0,
                          default_levels=5, residential_share={"shikumen": 1.0})  # fmt: skip
    residents, households = estimate_residents([300.0], [np.nan], ["shikumen"], model)
    assert (residents.tolist(), households.tolist()) == ([50], [17])
