"""Each check of an imported layer on hand-made rows, at its bounds, message by message.

No file and no database: :func:`gridmap.io.layers.validate_layer` takes the frame a reader
makes (a ``label`` per feature) and gathers every problem; the expected messages and values are
written out here by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity

from gridmap.io.layers import LAYERS, LayerSpec, validate_layer
from gridmap.io.problems import Problems

SQUARE = shapely.box(0, 0, 1, 1)
BOWTIE = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])  # two triangles of area 0.25 each


def rows(columns: dict[str, list[Any]], geometry: list[Any] | None = None) -> gpd.GeoDataFrame:
    n = len(next(iter(columns.values())))
    frame = gpd.GeoDataFrame(
        {**columns, "label": [f"feature {i + 1}" for i in range(n)]},
        geometry=geometry if geometry is not None else [SQUARE] * n,
        crs=4326,
    )
    return frame


def check(
    frame: gpd.GeoDataFrame, layer: str | LayerSpec, *, fix: bool = False
) -> tuple[gpd.GeoDataFrame, list[str], list[str]]:
    problems = Problems("test")
    spec = LAYERS[layer] if isinstance(layer, str) else layer
    validated = validate_layer(frame, spec, problems=problems, fix=fix)
    return validated.frame, problems.items, validated.repairs


def test_a_required_column_missing_is_named_with_the_columns_there_are() -> None:
    _, found, _ = check(rows({"name": ["a"], "level": ["community"]}), "regions")
    assert found == ["file: no 'code' column (it has: name, level); use --map code=..."]


def test_a_required_value_missing_or_blank_is_named_by_row() -> None:
    frame = rows({"code": ["990101", None, "  "], "name": ["a", "b", "c"]})
    out, found, _ = check(frame, "regions")
    assert found == ["feature 2: code is missing", "feature 3: code is missing"]
    assert out["code"].tolist() == ["990101", None, None]


def test_codes_stored_as_numbers_stay_text_and_lose_a_whole_numbers_point() -> None:
    frame = rows({"code": [990101.0, 990102.0], "name": [" 甲 ", "乙"]})
    out, found, _ = check(frame, "regions")
    assert found == [] and out["code"].tolist() == ["990101", "990102"]
    assert out["name"].tolist() == ["甲", "乙"]  # stripped
    halves = rows({"code": [1.5, 2.0], "name": ["a", "b"]})
    out, _, _ = check(halves, LayerSpec("things", "polygon"))
    assert out["code"].tolist() == ["1.5", "2.0"]  # not whole: kept as written


@pytest.mark.parametrize(
    ("code", "good"),
    [
        ("990101", True),  # 6 digits: a county
        ("990101001", True),  # 9: a street
        ("990101001001", True),  # 12: a community
        ("99010", False),
        ("9901010", False),
        ("9901010010010", False),
        ("99010a", False),
        ("990101 001", False),
    ],
)
def test_a_code_has_one_of_the_layers_lengths_and_only_digits(code: str, good: bool) -> None:
    _, found, _ = check(rows({"code": [code], "name": ["a"]}), "regions")
    expected = [] if good else [f"feature 1: code {code!r} is not a 6 or 9 or 12-digit region code"]
    assert found == expected


def test_a_repeated_key_names_where_it_was_first_and_blank_keys_are_not_repeats() -> None:
    frame = rows(
        {
            "external_id": ["A", "B", "A", None, None, "A"],
            "kind": ["噪音"] * 6,
            "occurred_at": ["2026-03-01 08:30"] * 6,
        },
        geometry=[shapely.Point(0, 0)] * 6,
    )
    _, found, _ = check(frame, "events")
    assert found == [
        "feature 3: duplicate external_id 'A' (first at feature 1)",
        "feature 6: duplicate external_id 'A' (first at feature 1)",
    ]


def test_counts_are_numbers_not_below_zero() -> None:
    frame = rows(
        {
            "code": [f"990101001001000{i}" for i in range(5)],
            "households": ["12", "0", "-1", "many", ""],
        }
    )
    out, found, _ = check(frame, "units")
    assert found == [
        "feature 4: households 'many' is not a number",
        "feature 3: households is negative (-1)",
    ]
    assert out["households"].tolist()[:3] == [12, 0, -1]
    assert out["households"].isna().tolist() == [False, False, False, True, True]


def test_times_without_an_offset_are_beijing_time_and_with_one_as_given() -> None:
    given = [
        "2026-03-01 08:30",
        "2026-03-01T08:30:00+08:00",
        "2026-03-01 08:30Z",
        "2026-03-01 08:30:15-0500",
        "not a time",
        None,
    ]
    frame = rows({"kind": ["噪音"] * 6, "occurred_at": given}, geometry=[shapely.Point(0, 0)] * 6)
    out, found, _ = check(frame, "events")
    assert found == [
        "feature 6: occurred_at is missing",  # required: blank is no time
        "feature 5: occurred_at 'not a time' is not a date and time",
    ]
    times = out["occurred_at"].tolist()
    assert times[:4] == [
        datetime(2026, 3, 1, 0, 30, tzinfo=UTC),  # 08:30 in Beijing
        datetime(2026, 3, 1, 0, 30, tzinfo=UTC),
        datetime(2026, 3, 1, 8, 30, tzinfo=UTC),
        datetime(2026, 3, 1, 13, 30, 15, tzinfo=UTC),
    ]
    assert pd.isna(times[4]) and pd.isna(times[5])


def test_choices_take_chinese_words_and_any_case() -> None:
    frame = rows(
        {
            "code": ["990101", "990101001", "990101001001", "990102"],
            "name": ["a", "b", "c", "d"],
            "level": ["县", "Street", "村", "planet"],
        }
    )
    out, found, _ = check(frame, "regions")
    assert out["level"].tolist()[:3] == ["district", "street", "community"]
    assert found == ["feature 4: level 'planet' is not one of city, district, street, community"]


def test_a_geometry_of_the_wrong_type_empty_or_missing_is_named() -> None:
    frame = rows(
        {"code": ["990101", "990102", "990103", "990104"], "name": ["a", "b", "c", "d"]},
        geometry=[shapely.Point(0, 0), shapely.Polygon(), None, SQUARE],
    )
    out, found, _ = check(frame, "regions")
    assert found == [
        "feature 2: has an empty geometry (no coordinates)",
        "feature 3: has no geometry",
        "feature 1: is a Point; regions must be polygons",
    ]
    assert out.geometry.iloc[3].geom_type == "MultiPolygon"  # polygons become MultiPolygons


def test_a_row_reported_already_is_not_reported_again_for_its_missing_geometry() -> None:
    frame = rows({"code": [None], "name": ["a"]}, geometry=[None])
    _, found, _ = check(frame, "regions")
    assert found == ["feature 1: code is missing"]


def test_a_ticket_without_coordinates_is_kept_a_station_without_is_not() -> None:
    ticket = rows({"kind": ["噪音"], "occurred_at": ["2026-03-01 08:30"]}, geometry=[None])
    out, found, _ = check(ticket, "events")
    assert found == [] and out.geometry.iloc[0] is None
    station = rows({"code": ["S1"], "name": ["a"]}, geometry=[None])
    assert check(station, "stations")[1] == ["feature 1: has no geometry"]


def test_an_invalid_polygon_is_refused_or_repaired_and_the_repair_reported() -> None:
    frame = rows({"code": ["990101", "990102"], "name": ["a", "b"]}, geometry=[BOWTIE, SQUARE])
    out, found, repairs = check(frame, "regions")
    assert found == [
        "feature 1: invalid geometry: Self-intersection[0.5 0.5] (use --fix to repair)"
    ]
    assert out.geometry.iloc[0] is None
    out, found, repairs = check(frame, "regions", fix=True)
    assert found == []
    # the bowtie's signed area is 0; its two triangles make 0.5
    assert repairs == [
        "feature 1: repaired Self-intersection[0.5 0.5] → 2 polygon(s), area restored"
    ]
    assert out.geometry.iloc[0].area == pytest.approx(0.5)
    assert out.geometry.iloc[1].equals(shapely.MultiPolygon([SQUARE]))


def test_a_repair_that_leaves_no_polygon_is_refused() -> None:
    line_like = shapely.Polygon([(0, 0), (1, 1), (2, 2), (0, 0)])  # no area at all
    frame = rows({"code": ["990101"], "name": ["a"]}, geometry=[line_like])
    out, found, repairs = check(frame, "regions", fix=True)
    assert repairs == [] and out.geometry.iloc[0] is None
    assert len(found) == 1 and found[0].startswith("feature 1: invalid geometry (")
    assert found[0].endswith("); make_valid leaves no polygon")


def test_a_repair_that_changes_the_area_says_by_how_much() -> None:
    # a square with a spike back along its edge: valid parts keep the square's area
    spiked = shapely.Polygon([(0, 0), (2, 0), (2, 2), (0, 2), (0, 1), (-1, 1), (0, 1), (0, 0)])
    frame = rows({"code": ["990101"], "name": ["a"]}, geometry=[spiked])
    _, found, repairs = check(frame, "regions", fix=True)
    assert found == []
    assert len(repairs) == 1 and repairs[0].endswith("→ 1 polygon(s), area +0.0%")
    assert np.isclose(4.0, check(frame, "regions", fix=True)[0].geometry.iloc[0].area)


def test_without_fix_an_invalid_polygon_is_refused_and_the_crs_kept() -> None:
    frame = rows({"code": ["990101", "990102"], "name": ["a", "b"]}, geometry=[BOWTIE, SQUARE])
    problems = Problems("test")
    out = validate_layer(frame, LAYERS["regions"], problems=problems).frame
    assert len(problems) == 1 and out.geometry.iloc[0] is None
    assert out.crs == frame.crs


def test_each_polygon_becomes_its_own_multipolygon() -> None:
    other = shapely.box(5, 5, 6, 7)
    frame = rows({"code": ["990101", "990102"], "name": ["a", "b"]}, geometry=[SQUARE, other])
    out, found, _ = check(frame, "regions")
    assert found == []
    assert out.geometry.iloc[0].equals(shapely.MultiPolygon([SQUARE]))
    assert out.geometry.iloc[1].equals(shapely.MultiPolygon([other]))


def test_a_small_repair_in_degrees_still_says_its_area_change() -> None:
    # the spiked square of 0.001° (an area of 4e-6 square degrees, as real blocks have)
    spiked = shapely.affinity.scale(
        shapely.Polygon([(0, 0), (2, 0), (2, 2), (0, 2), (0, 1), (-1, 1), (0, 1), (0, 0)]),
        0.001,
        0.001,
        origin=(0, 0),
    )
    frame = rows({"code": ["990101"], "name": ["a"]}, geometry=[spiked])
    repairs = check(frame, "regions", fix=True)[2]
    assert len(repairs) == 1 and repairs[0].endswith("area +0.0%")


def test_times_in_several_formats_in_one_column_are_read() -> None:
    given = ["2026-03-01 08:30", "2026/03/02 09:15", "2026-03-03T10:00", "2026-13-45 10:30+08:00"]
    frame = rows({"kind": ["噪音"] * 4, "occurred_at": given}, geometry=[shapely.Point(0, 0)] * 4)
    out, found, _ = check(frame, "events")
    assert found == ["feature 4: occurred_at '2026-13-45 10:30+08:00' is not a date and time"]
    assert out["occurred_at"].tolist()[:3] == [
        datetime(2026, 3, 1, 0, 30, tzinfo=UTC),
        datetime(2026, 3, 2, 1, 15, tzinfo=UTC),
        datetime(2026, 3, 3, 2, 0, tzinfo=UTC),
    ]


def test_a_local_time_that_beijing_skipped_or_saw_twice_is_named() -> None:
    # China kept summer time until 1991: 14 April 02:00 became 03:00, 15 September 02:00 01:00
    given = ["1991-04-14 02:30", "1991-09-15 01:30", "1991-07-01 12:00"]
    frame = rows({"kind": ["噪音"] * 3, "occurred_at": given}, geometry=[shapely.Point(0, 0)] * 3)
    out, found, _ = check(frame, "events")
    assert found == [
        "feature 1: occurred_at '1991-04-14 02:30' is not a date and time",
        "feature 2: occurred_at '1991-09-15 01:30' is not a date and time",
    ]
    assert out["occurred_at"].iloc[2] == datetime(1991, 7, 1, 3, 0, tzinfo=UTC)  # UTC+9 then


def test_a_repair_that_adds_area_says_how_much_from_the_triangles_areas() -> None:
    # a bowtie of unequal triangles crossing at (4/3, 4/3): 4/3 and 16/3 by hand; the invalid
    # ring's signed (shoelace) area is their difference, 4, its repair their sum, 20/3
    bowtie = shapely.Polygon([(0, 0), (4, 4), (4, 0), (0, 2)])
    frame = rows({"code": ["990101"], "name": ["a"]}, geometry=[bowtie])
    out, found, repairs = check(frame, "regions", fix=True)
    assert found == [] and out.geometry.iloc[0].area == pytest.approx(20 / 3)
    assert repairs == [
        "feature 1: repaired Self-intersection[1.33333333333333 1.33333333333333] "
        "→ 2 polygon(s), area +66.7%"
    ]


def test_a_repeated_pair_of_keys_is_named_with_both_parts() -> None:
    frame = rows({"net": ["police", "police", "police"], "code": ["7", "8", "7"]})
    _, found, _ = check(frame, "overlays")
    assert found == ["feature 3: duplicate net/code 'police/7' (first at feature 1)"]


def test_whole_number_codes_with_a_blank_among_them_stay_text() -> None:
    frame = rows({"code": [990101.0, None, 990103.0], "name": ["a", "b", "c"]})
    out, found, _ = check(frame, "regions")
    assert out["code"].tolist() == ["990101", None, "990103"]
    assert found == ["feature 2: code is missing"]
