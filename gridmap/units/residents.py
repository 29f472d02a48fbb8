"""Residents and households of buildings, estimated from footprint, levels and building type.

residents = footprint area × levels × residential share ÷ floor area per person, and
households = residents ÷ persons per household. Imported counts replace these estimates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from gridmap.standards import (
    DEFAULT_RESIDENTIAL_LEVELS,
    FLOOR_AREA_PER_PERSON_M2,
    MIN_HOME_FLOOR_AREA_M2,
    MIN_UNTYPED_FOOTPRINT_M2,
    PERSONS_PER_HOUSEHOLD,
)

RESIDENTIAL_SHARE: Mapping[str, float] = MappingProxyType(
    {
        # homes
        "apartments": 1.0,
        "residential": 1.0,
        "house": 1.0,
        "detached": 1.0,
        "semidetached_house": 1.0,
        "terrace": 1.0,
        "bungalow": 1.0,
        "dormitory": 1.0,
        "farm": 1.0,
        "cabin": 1.0,
        # mixed or unknown: flats above shops are the rule in a city centre
        "yes": 0.5,
        "block": 0.5,
        "building": 0.5,
        "hotel": 0.0,
        "commercial": 0.1,
        "retail": 0.1,
    }
)
"""Share of a building's floor area that is homes, by OSM building=* value; others get 0."""
UNTYPED = frozenset({"yes", "block", "building"})
"""building=* values that say nothing of the use: a use tag or a small footprint decides."""


@dataclass(frozen=True)
class ResidentModel:
    """How residents are estimated; every number is configurable."""

    floor_area_per_person_m2: float = FLOOR_AREA_PER_PERSON_M2
    persons_per_household: float = PERSONS_PER_HOUSEHOLD
    default_levels: int = DEFAULT_RESIDENTIAL_LEVELS
    residential_share: Mapping[str, float] = field(default_factory=lambda: RESIDENTIAL_SHARE)
    other_share: float = 0.0
    min_home_floor_area_m2: float = MIN_HOME_FLOOR_AREA_M2
    min_untyped_footprint_m2: float = MIN_UNTYPED_FOOTPRINT_M2


def not_residential(
    footprint_m2: ArrayLike,
    levels: ArrayLike,
    building_type: ArrayLike,
    uses: ArrayLike | None = None,
    model: ResidentModel | None = None,
) -> NDArray[np.object_]:
    """Say why each building holds no homes ("" for one that may).

    Reasons: ``type office`` (a building=* value that is not homes), ``use amenity=school``
    (a use tag on a building of unknown type), ``under 40 m²`` (a footprint too small for a
    home without a home type), ``under 22 m² of floor`` (too small for any dwelling).

    >>> not_residential([400, 400, 30, 100, 10], [2, 2, 1, 1, 2],
    ...                 ["yes", "office", "yes", "house", "house"],
    ...                 [None, None, None, "shop=bakery", None]).tolist()
    ['', 'type office', 'under 40 m²', '', 'under 22 m² of floor']
    """
    model = model or ResidentModel()
    area = np.asarray(footprint_m2, dtype=float)
    kinds = np.asarray(building_type, dtype=object)
    n = len(area)
    use = np.asarray(uses if uses is not None else [None] * n, dtype=object)
    untyped = np.isin(kinds, list(UNTYPED))
    home_type = (
        np.array([model.residential_share.get(k, model.other_share) > 0 for k in kinds], dtype=bool)
        if n
        else np.zeros(0, dtype=bool)
    )
    floors = _floors(levels, model)
    reasons = np.full(n, "", dtype=object)
    tiny = area * floors < model.min_home_floor_area_m2
    small = untyped & (area < model.min_untyped_footprint_m2)
    tagged = untyped & np.array([isinstance(u, str) and u != "" for u in use], dtype=bool)
    reasons[tiny] = f"under {model.min_home_floor_area_m2:g} m² of floor"
    reasons[small & ~tiny] = f"under {model.min_untyped_footprint_m2:g} m²"
    reasons[tagged & ~tiny & ~small] = [f"use {u}" for u in use[tagged & ~tiny & ~small]]
    typed_out = ~home_type & (reasons == "")
    reasons[typed_out] = [f"type {k}" for k in kinds[typed_out]]
    return reasons


def _floors(levels: ArrayLike, model: ResidentModel) -> NDArray[np.float64]:
    floors = np.asarray(levels, dtype=float)
    return np.where(np.isnan(floors) | (floors <= 0), model.default_levels, floors)


def residential_note(reasons: NDArray[np.object_]) -> str:
    """Say how many buildings counted as homes, and why the others did not, most common first.

    >>> residential_note(np.array(["", "", "type office", "use shop=bakery", "type office"]))
    '2 buildings counted as residential; 3 not: type office 2, use shop 1'
    """
    homes = int((reasons == "").sum())
    others = pd.Series([r.split("=")[0] for r in reasons if r]).value_counts()
    if others.empty:
        return f"{homes:,} buildings counted as residential"
    shown = ", ".join(f"{why} {n:,}" for why, n in others.head(8).items())
    more = f", {int(others.iloc[8:].sum()):,} other" if len(others) > 8 else ""
    return f"{homes:,} buildings counted as residential; {int(others.sum()):,} not: {shown}{more}"


def estimate_residents(
    footprint_m2: ArrayLike,
    levels: ArrayLike,
    building_type: ArrayLike,
    model: ResidentModel | None = None,
    uses: ArrayLike | None = None,
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
    uses
        A use tag per building (``shop=bakery``), None where there is none.

    Returns
    -------
    residents, households
        Whole numbers per building; 0 for a building :func:`not_residential` names.

    Examples
    --------
    >>> r, h = estimate_residents([400.0, 400.0, 400.0], [5, np.nan, 5], ["apartments", "apartments", "office"])
    >>> r.tolist(), h.tolist()
    ([50, 30, 0], [19, 11, 0])
    """  # noqa: E501
    model = model or ResidentModel()
    area = np.asarray(footprint_m2, dtype=float)
    floors = _floors(levels, model)
    kinds = np.asarray(building_type, dtype=object)
    share = (
        np.array([model.residential_share.get(k, model.other_share) for k in kinds], dtype=float)
        if kinds.size
        else np.zeros(0)
    )
    share[not_residential(area, floors, kinds, uses, model) != ""] = 0.0
    residents = np.round(area * floors * share / model.floor_area_per_person_m2).astype(np.int64)
    households = np.round(residents / model.persons_per_household).astype(np.int64)
    return residents, households
