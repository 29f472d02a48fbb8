"""Residents and households of buildings, estimated from footprint, levels and building type.

residents = footprint area × levels × residential share ÷ floor area per person, and
households = residents ÷ persons per household. Imported counts replace these estimates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gridmap.standards import (
    DEFAULT_RESIDENTIAL_LEVELS,
    FLOOR_AREA_PER_PERSON_M2,
    PERSONS_PER_HOUSEHOLD,
)

RESIDENTIAL_SHARE: Mapping[str, float] = MappingProxyType({
    # homes
    "apartments": 1.0, "residential": 1.0, "house": 1.0, "detached": 1.0,
    "semidetached_house": 1.0, "terrace": 1.0, "bungalow": 1.0, "dormitory": 1.0,
    "farm": 1.0, "cabin": 1.0,
    # mixed or unknown: flats above shops are the rule in a city centre
    "yes": 0.5, "block": 0.5, "building": 0.5,
    "hotel": 0.0, "commercial": 0.1, "retail": 0.1,
})  # fmt: skip
"""Share of a building's floor area that is homes, by OSM building=* value; others get 0."""


@dataclass(frozen=True)
class ResidentModel:
    """How residents are estimated; every number is configurable."""

    floor_area_per_person_m2: float = FLOOR_AREA_PER_PERSON_M2
    persons_per_household: float = PERSONS_PER_HOUSEHOLD
    default_levels: int = DEFAULT_RESIDENTIAL_LEVELS
    residential_share: Mapping[str, float] = field(default_factory=lambda: RESIDENTIAL_SHARE)
    other_share: float = 0.0


def estimate_residents(
    footprint_m2: ArrayLike,
    levels: ArrayLike,
    building_type: ArrayLike,
    model: ResidentModel | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Estimate the residents and households of buildings.

    Parameters
    ----------
    footprint_m2
        Footprint areas in square metres.
    levels
        Levels above ground; NaN where unknown (then ``model.default_levels``).
    building_type
        OSM ``building=*`` values.
    model
        The estimate's parameters; the defaults of :class:`ResidentModel` when None.

    Returns
    -------
    residents, households
        Whole numbers per building.

    Examples
    --------
    >>> r, h = estimate_residents([400.0, 400.0, 400.0], [5, np.nan, 5], ["apartments", "apartments", "office"])
    >>> r.tolist(), h.tolist()
    ([50, 30, 0], [19, 11, 0])
    """  # noqa: E501
    model = model or ResidentModel()
    area = np.asarray(footprint_m2, dtype=float)
    floors = np.asarray(levels, dtype=float)
    floors = np.where(np.isnan(floors) | (floors <= 0), model.default_levels, floors)
    kinds = np.asarray(building_type, dtype=object)
    share = np.array(
        [model.residential_share.get(k, model.other_share) for k in kinds], dtype=float
    ) if kinds.size else np.zeros(0)  # fmt: skip
    residents = np.round(area * floors * share / model.floor_area_per_person_m2).astype(np.int64)
    households = np.round(residents / model.persons_per_household).astype(np.int64)
    return residents, households
