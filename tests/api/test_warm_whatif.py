"""What-if from a city kept warm: loaded once, forked per request, reloaded after a write."""

from __future__ import annotations

from sqlalchemy import text

from gridmap.coverage.engine import CoverageParameters
from gridmap.coverage.station_planning import LiveCoverage, live_coverage, warm_coverage
from tests.api.conftest import Served

PLACE = (24.944, 60.170)  # central Helsinki, inside the demo city


def figures(live: LiveCoverage) -> tuple[object, ...]:
    """The what-if's rates: city-wide and per community."""
    r = live.whatif.rates()
    return (r.covered_residents, r.residents, r.covered_households, r.households,
            r.group_covered_residents.tolist(), r.group_residents.tolist())  # fmt: skip


def test_the_warm_city_is_loaded_once_and_each_what_if_is_its_own(served: Served) -> None:
    parameters = CoverageParameters()
    with served.engine.connect() as connection:
        first = warm_coverage(connection, parameters)
    with served.engine.connect() as connection:
        second = warm_coverage(connection, parameters)
        cold = live_coverage(connection, parameters)
    assert second.city is first.city  # not loaded again
    before = figures(second)
    first.add("new-1", *PLACE)
    cold.add("new-1", *PLACE)
    assert first.whatif.rates().covered_residents > second.whatif.rates().covered_residents
    assert figures(first) == figures(cold)  # the same answer as a city loaded anew
    assert figures(second) == before  # one what-if's change is not another's
    with served.engine.connect() as connection:
        assert figures(warm_coverage(connection, parameters)) == before
        other = warm_coverage(connection, CoverageParameters(minutes=10))
    assert other.city is not first.city  # other walking parameters: their own city


def test_a_write_to_what_it_reads_loads_the_city_again(served: Served) -> None:
    parameters = CoverageParameters()
    with served.engine.connect() as connection:
        kept = warm_coverage(connection, parameters)
    with served.engine.begin() as connection:
        code = connection.execute(text("SELECT min(code) FROM station")).scalar_one()
        connection.execute(text("UPDATE station SET name = name WHERE code = :c"), {"c": code})
        inside = warm_coverage(connection, parameters)  # this transaction wrote: its own city
        assert inside.city is not kept.city
    with served.engine.connect() as connection:
        after = warm_coverage(connection, parameters)
    assert after.city is not kept.city and figures(after) == figures(kept)
