"""What-if and siting on the real demo city."""

from __future__ import annotations

import pytest

from gridmap.coverage.engine import CoverageParameters
from gridmap.coverage.service import run_coverage
from gridmap.coverage.station_planning import live_coverage, suggest_sites
from gridmap.errors import InvalidInput, NotFound
from tests.gridmap.conftest import City


def test_the_live_city_starts_where_a_saved_run_does(helsinki: City) -> None:
    savepoint = helsinki.connection.begin_nested()
    try:
        saved = run_coverage(helsinki.connection).figures
    finally:
        savepoint.rollback()
    live = live_coverage(helsinki.connection, CoverageParameters())
    assert live.whatif.rates().covered_residents == saved["covered_residents"]
    assert live.community_rates()["covered_residents"].sum() == saved["covered_residents"]


def test_closing_every_station_uncovers_everyone_and_a_new_one_helps(helsinki: City) -> None:
    live = live_coverage(helsinki.connection, CoverageParameters())
    before = live.whatif.rates().covered_residents
    for code in list(live.keys):
        live.remove(code)
    assert live.whatif.rates().covered_residents == 0
    live.add("new", 24.9440, 60.1700)  # the middle of the extract
    assert live.whatif.rates().covered_residents > 0
    with pytest.raises(NotFound):
        live.remove("no-such-station")
    assert before > 0


def test_siting_raises_coverage_and_greedy_is_within_the_optimum(helsinki: City) -> None:
    report = suggest_sites(helsinki.connection, CoverageParameters(), k=2, solve_exactly=True)
    assert len(report.sites) == 2
    assert report.greedy.rate > report.before_rate
    assert report.greedy.covered_residents <= report.exact.covered_residents
    assert report.sites["gain"].is_monotonic_decreasing


def test_the_fewest_stations_to_a_target(helsinki: City) -> None:
    report = suggest_sites(
        helsinki.connection, CoverageParameters(), target_rate=0.8, candidates="units"
    )
    assert report.target_reached and report.greedy.rate >= 0.8
    fewer = suggest_sites(
        helsinki.connection, CoverageParameters(), k=len(report.sites) - 1, candidates="units"
    )
    assert fewer.greedy.rate < 0.8
    beyond = suggest_sites(helsinki.connection, CoverageParameters(), target_rate=0.999)
    assert not beyond.target_reached  # said, not silently short


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"target_rate": 1.5}, "target rate"),
        ({"k": 0}, "k must be"),
        ({"k": 2, "candidates": "parks"}, "amenities' or 'units"),
        ({}, "either k"),
    ],
)
def test_bad_siting_requests_are_refused(helsinki: City, options: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        suggest_sites(helsinki.connection, CoverageParameters(), **options)
