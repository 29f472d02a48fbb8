"""Stations on the demo city: seeded with the communities left out, listed, removed, replaced."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from sqlalchemy import text

from gridmap.coverage.station_planning import SitingReport
from gridmap.errors import InvalidInput, NotFound
from gridmap.stations import (
    list_stations,
    remove_stations,
    replace_stations,
    seed_stations_from_amenities,
)
from tests.gridmap.conftest import City


def stored(city: City) -> list[str]:
    return list(city.connection.execute(text("SELECT code FROM station ORDER BY code")).scalars())


def test_seeding_names_the_communities_left_without_a_station(city: City) -> None:
    connection = city.connection
    community = connection.execute(
        text(
            "SELECT r.code FROM region r JOIN station s ON ST_Intersects(s.geom, r.geom) "
            "WHERE r.level = 'community' ORDER BY r.code LIMIT 1"
        )
    ).scalar_one()
    connection.execute(text("DELETE FROM station"))
    connection.execute(
        text(
            "DELETE FROM amenity a USING region r WHERE r.code = :c AND ST_Intersects(a.geom, "
            "r.geom)"
        ),
        {"c": community},
    )

    seeded = seed_stations_from_amenities(connection)

    communities = connection.execute(text("SELECT count(*) FROM region WHERE level = 'community'"))
    assert seeded.opened == communities.scalar_one() - 1
    assert [code for code, _ in seeded.without] == [community]


def test_stations_are_listed_with_their_community(city: City) -> None:
    found = list_stations(city.connection)
    assert [s["code"] for s in found] == stored(city)
    for s in found:
        assert str(s["code"]).startswith(str(s["community"]))  # seeded: community code + "-01"


def test_removing_is_all_or_nothing(city: City) -> None:
    before = stored(city)
    with pytest.raises(NotFound, match="no station NOPE; nothing was removed"):
        remove_stations(city.connection, [before[0], "NOPE"])
    assert stored(city) == before
    with pytest.raises(InvalidInput, match="name at least one station"):
        remove_stations(city.connection, [" "])

    assert remove_stations(city.connection, [before[0], before[0]]) == [before[0]]
    assert stored(city) == before[1:]


def test_a_file_replaces_the_whole_list(city: City, tmp_path: Path) -> None:
    before = list_stations(city.connection)
    keep = before[0]
    frame = gpd.GeoDataFrame(
        {"code": [keep["code"], "NEW-1"], "name": ["改名的站", "新站"]},
        geometry=[
            shapely.Point(keep["lon"], keep["lat"]),
            shapely.Point(keep["lon"] + 0.001, keep["lat"]),
        ],
        crs=4326,
    )
    path = tmp_path / "stations.geojson"
    frame.to_file(path)

    result, removed = replace_stations(city.connection, path)

    assert result.rows == 2
    assert sorted(removed) == sorted(str(s["code"]) for s in before[1:])
    assert stored(city) == sorted([str(keep["code"]), "NEW-1"])
    name = city.connection.execute(
        text("SELECT name FROM station WHERE code = :c"), {"c": keep["code"]}
    ).scalar_one()
    assert name == "改名的站"


def test_a_bad_replacement_removes_nothing(city: City, tmp_path: Path) -> None:
    before = stored(city)
    path = tmp_path / "stations.csv"
    path.write_text("code,name,lon,lat\nA,,24.94,60.17\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="row 2: name is missing"):
        replace_stations(city.connection, path)
    assert stored(city) == before


def test_siting_says_when_no_candidate_helps_and_what_to_try() -> None:
    none = SitingReport(
        pd.DataFrame(columns=["label", "name", "lon", "lat", "gain"]),
        0.002,
        None,
        None,
        None,
        "amenities",
        16,
    )  # type: ignore[arg-type]
    assert none.note is not None
    assert none.note.startswith("None of the 16 candidate sites among the amenities would")
    assert "--candidates units" in none.note
    units = replace(none, candidates="units")
    assert units.note is not None and "--candidates" not in units.note
    some = replace(none, sites=pd.DataFrame({"label": ["a"], "gain": [10]}))
    assert some.note is None
