"""The field's numbers, each in one place: walking budgets, grid bounds, household sizes.

Sources: GB 50180-2018 (the 5-minute living circle, 300 m at 60 m/min), the grid-governance rules
that docs/architecture.md summarises (urban comprehensive grids of 300–500 households and at most
2,500 residents; rural grids of about 300 households), and China's 7th census (2.62 persons per
household). Every value can be overridden where it is used.
"""

from __future__ import annotations

from dataclasses import dataclass

WALK_MINUTES = 5.0
WALK_SPEED_M_PER_MIN = 60.0
WALK_BUDGET_M = WALK_MINUTES * WALK_SPEED_M_PER_MIN

PERSONS_PER_HOUSEHOLD = 2.62
FLOOR_AREA_PER_PERSON_M2 = 40.0
DEFAULT_RESIDENTIAL_LEVELS = 3

MIN_HOME_FLOOR_AREA_M2 = 22.0
"""Floor area (footprint × levels) under which a building holds no home: the smallest dwelling
GB 50096-2011 §5.1.2 allows (a studio of 22 m² usable area)."""
MIN_UNTYPED_FOOTPRINT_M2 = 40.0
"""A footprint under this without a home type (OSM building=yes) is a shed, a garage, a sauna
or a kiosk: it gets no residents."""
NON_RESIDENTIAL_KEYS = (
    "shop",
    "amenity",
    "office",
    "tourism",
    "leisure",
    "craft",
    "industrial",
    "healthcare",
    "man_made",
    "power",
    "sport",
    "public_transport",
    "military",
    "religion",
)
"""OSM keys that name what a building is used for (OSM wiki, Key:building: "building=yes"
with a use tag on the same way). A building of unknown type carrying one holds no homes."""

COMMUNITY_RESIDENTS = (3_000, 8_000)
"""Residents of a community derived when a source has no admin boundaries (min, max)."""

COMMUNITIES_PER_STREET = (4, 12)
"""Communities of a street derived when a source has no admin boundaries (min, max)."""

SLIVER_AREA_M2 = 200.0
"""Blocks smaller than this are merged into a neighbour."""


@dataclass(frozen=True)
class GridBounds:
    """Size rules of one kind of grid."""

    min_households: int
    max_households: int
    target_households: int
    max_residents: int | None = None


GRID_BOUNDS = {
    "urban": GridBounds(300, 500, 400, max_residents=2_500),
    "suburban": GridBounds(300, 500, 400, max_residents=2_500),
    "rural": GridBounds(200, 400, 300),
}
"""Default bounds per comprehensive grid kind; dedicated grids are never re-partitioned."""


def community_kind(code: str) -> str:
    """Return the grid kind of a community by its street part (docs/architecture.md, Codes).

    Streets (001–099) are urban, towns (100–199) suburban, townships (200–399) rural.

    >>> [community_kind(c) for c in ("510107001002", "510107105003", "510107201001")]
    ['urban', 'suburban', 'rural']
    """
    serial = int(code[6:9]) if len(code) >= 9 and code[6:9].isdigit() else 1
    return "urban" if serial < 100 else "suburban" if serial < 200 else "rural"


CITY_TIME_ZONE = "Asia/Shanghai"
"""Beijing time, the one time zone of China's hotlines: a ticket's month is its month here."""
HOTSPOT_PERCENTILE = 90.0
"""A grid or unit stands out when its tickets per 1,000 households lie above this percentile of
the city's (the areas with households), over the same months and kinds."""


def code_prefix(code: str) -> str:
    """Return what the codes of everything inside region ``code`` begin with.

    A 6-digit code ending in 00 is a city's (0000 a province's): the districts under it share
    only its first 4 (2) digits. A county's, a street's and a community's codes are their own.

    >>> [code_prefix(c) for c in ("990100", "990000", "990101", "990101001", "990101001001")]
    ['9901', '99', '990101', '990101001', '990101001001']
    """
    if len(code) == 6:
        return code[:2] if code.endswith("0000") else code[:4] if code.endswith("00") else code
    return code
