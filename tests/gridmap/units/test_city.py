"""The real demo city in PostGIS: Helsinki's OSM extract imported, cut into units, coded."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pytest
from psycopg import sql
from shapely import box
from sqlalchemy import text
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.config import get_settings
from gridmap.db.local import LocalCluster
from gridmap.errors import Conflict, InvalidInput
from gridmap.geometry import pieces
from gridmap.io.file_import import import_file
from gridmap.io.osm import read_osm
from gridmap.io.osm_import import import_osm_layers
from gridmap.units.service import build_units
from tests.gridmap.conftest import COUNTY, City


@pytest.fixture
def city(helsinki: City) -> City:
    """The session's Helsinki."""
    return helsinki


def test_the_osm_layers_are_in_postgis(city: City) -> None:
    assert city.value("SELECT count(*) FROM building") == len(city.layers.buildings) > 400
    assert city.value("SELECT count(*) FROM walk_edge") == len(city.layers.walk_edges) > 6000
    assert city.value("SELECT count(*) FROM walk_node") == len(city.layers.walk_nodes)
    assert city.value("SELECT count(*) FROM amenity") == len(city.layers.amenities) > 5
    assert city.value("SELECT count(*) FROM street WHERE kind = 'rail'") > 0


def test_walk_edge_lengths_are_geodesic_metres(city: City) -> None:
    worst = city.value("SELECT max(abs(length_m - ST_Length(geom::geography))) FROM walk_edge")
    assert worst < 0.05  # pyproj's geodesic and PostGIS's agree within centimetres


def test_the_walking_network_has_no_motorway_and_no_trunk_without_sidewalk(city: City) -> None:
    assert city.value("SELECT count(*) FROM walk_edge WHERE highway LIKE 'motorway%'") == 0
    edges = city.layers.walk_edges
    assert edges["source"].isin(city.layers.walk_nodes["id"]).all()


def test_units_cover_each_community_wall_to_wall(city: City) -> None:
    worst = city.value("""
        SELECT max(
            ST_Area(ST_SymDifference(r.geom, u.geom)::geography) / ST_Area(r.geom::geography)
        )
        FROM region r
        JOIN (SELECT community_id, ST_Union(geom) AS geom FROM unit GROUP BY community_id) u
          ON u.community_id = r.id
    """)
    assert worst < 0.001


def test_no_two_units_overlap_by_more_than_a_square_metre(city: City) -> None:
    overlapping = city.value("""
        SELECT count(*) FROM unit a JOIN unit b ON a.id < b.id AND ST_Intersects(a.geom, b.geom)
        WHERE ST_Area(ST_Intersection(a.geom, b.geom)::geography) > 1
    """)
    assert overlapping == 0


def test_every_building_lies_in_exactly_one_unit(city: City) -> None:
    assert city.value("SELECT count(*) FROM building WHERE unit_id IS NULL") == 0
    outside = city.value("""
        SELECT count(*) FROM building b JOIN unit u ON u.id = b.unit_id
        WHERE NOT ST_Intersects(ST_PointOnSurface(b.geom), u.geom)
    """)
    assert outside == 0


def test_every_unit_is_one_piece_as_the_map_draws_it(city: City) -> None:
    rows = city.connection.execute(
        text("SELECT u.code, (ST_Dump(u.geom)).geom AS part FROM unit u")
    ).all()
    codes = np.array([code for code, _ in rows])
    parts = gpd.GeoSeries.from_wkb([bytes.fromhex(str(p)) for _, p in rows], crs=4326)
    metric = np.asarray(parts.to_crs(parts.estimate_utm_crs()).values, dtype=object)
    labels = pieces(metric, codes)
    per_unit = pd.Series(labels, index=codes).groupby(level=0).nunique()
    assert per_unit.max() == 1, per_unit[per_unit > 1]


def test_units_carry_the_sums_of_their_buildings(city: City) -> None:
    mismatched = city.value("""
        SELECT count(*) FROM unit u
        LEFT JOIN (
            SELECT unit_id, sum(residents) r, sum(households) h FROM building GROUP BY unit_id
        ) b ON b.unit_id = u.id
        WHERE u.residents <> coalesce(b.r, 0) OR u.households <> coalesce(b.h, 0)
    """)
    assert mismatched == 0
    assert city.value("SELECT sum(residents) FROM unit") == city.counts.residents > 10_000
    assert city.value("SELECT max(households) FROM unit") <= 500  # a partition can meet its bounds


def test_regions_nest_and_carry_codes_of_their_parents(city: City) -> None:
    assert city.value("SELECT code FROM region WHERE level = 'district'") == COUNTY
    bad_parent = city.value("""
        SELECT count(*) FROM region c JOIN region p ON p.id = c.parent_id
        WHERE left(c.code, length(p.code)) <> p.code AND c.level <> 'district'
    """)
    assert bad_parent == 0
    bad_units = city.value("""
        SELECT count(*) FROM unit u JOIN region r ON r.id = u.community_id
        WHERE left(u.code, 12) <> r.code OR r.level <> 'community'
    """)
    assert bad_units == 0


def test_communities_hold_about_three_to_eight_thousand_residents(city: City) -> None:
    sizes = (
        city.connection.execute(text("SELECT sum(residents) FROM unit GROUP BY community_id"))
        .scalars()
        .all()
    )
    assert len(sizes) == city.counts.communities >= 2
    assert all(3_000 <= s <= 8_000 for s in sizes)


def test_seeded_stations_stand_in_their_communities(city: City) -> None:
    assert city.stations == city.value("SELECT count(*) FROM station") >= 2
    misplaced = city.value("""
        SELECT count(*) FROM station s JOIN region r ON r.code = split_part(s.code, '-', 1)
        WHERE NOT ST_Intersects(s.geom, r.geom)
    """)
    assert misplaced == 0


def test_reimporting_the_same_file_replaces_and_keeps_units(city: City) -> None:
    before = city.value("SELECT count(*) FROM building")
    with city.connection.begin_nested() as savepoint:
        import_osm_layers(city.connection, city.layers)
        assert city.value("SELECT count(*) FROM building") == before
        assert city.value("SELECT count(*) FROM building WHERE unit_id IS NULL") == 0
        assert city.value("SELECT count(*) FROM walk_edge") == len(city.layers.walk_edges)
        savepoint.rollback()


def test_building_units_twice_needs_replace(city: City) -> None:
    with pytest.raises(Conflict, match="units already"):
        build_units(city.connection, county_code=COUNTY)


@pytest.mark.parametrize("code", ["99010", "990100", "abcdef", "0901011"])
def test_a_bad_county_code_is_refused(city: City, code: str) -> None:
    with pytest.raises(InvalidInput, match="is not a 6-digit county code"):
        build_units(city.connection, county_code=code, replace=True)


def test_a_file_that_is_not_pbf_is_refused(tmp_path: object) -> None:
    fake = tmp_path / "city.osm.pbf"  # type: ignore[operator]
    fake.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(InvalidInput, match="not an OSM PBF file"):
        read_osm(fake)
    with pytest.raises(InvalidInput, match="no such file"):
        read_osm(tmp_path / "missing.osm.pbf")  # type: ignore[operator]


def _plans_from_the_command_line(runner: CliRunner, folder: Path) -> None:
    def run(*args: str) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    assert "现状" in run("plan", "list") and "current" in run("plan", "list")
    assert "Draft plan 2" in run("plan", "new", "--from", "current", "--name", "调整")
    out = run(
        "partition",
        "--plan",
        "2",
        "--mode",
        "adjust",
        "--max",
        "450",
        "--target",
        "380",
        "--radius",
        "800",
        "--radius-by",
        "walk",
    )
    assert "Plan 2 revision 2" in out
    bad = runner.invoke(app, ["partition", "--plan", "2", "--radius", "800", "--radius-by", "car"])
    assert bad.exit_code == 1 and "radius_by must be straight or walk" in bad.output
    diff = run("plan", "diff", "1", "2")
    assert "units moved" in diff and "kept" in diff and "Polsby-Popper" in diff
    for fmt in ("geojson", "gpkg", "csv"):
        out = run("plan", "export", "2", "--format", fmt, "--output", str(folder / f"p.{fmt}"))
        assert "rows of plan 2" in out
    grids = gpd.read_file(folder / "p.geojson")
    assert len(grids) > 10 and grids["code"].str.len().eq(15).all()
    assert "Imported" in run("import", "grids", str(folder / "p.geojson"), "--plan", "往返")
    assert "grids locked" in run("plan", "lock", "2", grids["code"].iloc[0])
    assert "is current" in run("plan", "accept", "2")
    refused = runner.invoke(app, ["plan", "accept", "1"])
    assert refused.exit_code == 1 and "archived" in refused.output


def _keys_from_the_command_line(runner: CliRunner) -> None:
    made = runner.invoke(
        app, ["keys", "create", "区平台", "--role", "viewer", "--embed", "--region", "990101001001"]
    )
    assert made.exit_code == 0, made.output
    secret = made.output.strip().splitlines()[-1]
    assert secret.startswith("gm_") and len(secret) > 40
    listed = runner.invoke(app, ["keys", "list"])
    assert (
        "区平台" in listed.output and secret not in listed.output and secret[:10] in listed.output
    )
    key_id = made.output.split("Key ", 1)[1].split(" ", 1)[0]  # "Key 2 (viewer):"
    assert runner.invoke(app, ["keys", "revoke", key_id]).exit_code == 0
    again = runner.invoke(app, ["keys", "revoke", key_id])
    assert again.exit_code == 1 and f"no live key {key_id}" in again.output
    bad = runner.invoke(app, ["keys", "create", "x", "--role", "king"])
    assert bad.exit_code == 1 and "role must be one of" in bad.output


def test_the_demo_command_builds_the_city_once(
    cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    name = "gridmap_demo"
    admin = cluster.url(driver=None, database="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    monkeypatch.setenv("DATABASE_URL", cluster.url(driver=None, database=name))
    monkeypatch.setenv("GRIDMAP_STATE_DIR", str(tmp_path / "state"))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        first = runner.invoke(app, ["demo", "--no-serve"])
        assert first.exit_code == 0, first.output
        assert "Imported Helsinki.osm.pbf" in first.output
        assert "stations opened" in first.output
        assert "schema revision: empty" not in first.output  # migrated before it says so
        key_file = tmp_path / "state" / "demo-key"  # the demo's admin key, for the web map
        key = key_file.read_text().strip()
        assert key_file.stat().st_mode & 0o777 == 0o600 and f"/map/#key={key}" in first.output
        second = runner.invoke(app, ["demo", "--no-serve"])
        assert second.exit_code == 0, second.output
        assert "Imported" not in second.output and "units in" not in second.output
        assert f"/map/#key={key}" in second.output  # the same key on every run
        with psycopg.connect(cluster.url(driver=None, database=name)) as conn:
            counts = conn.execute(
                "SELECT (SELECT count(*) FROM unit), (SELECT count(*) FROM region), "
                "(SELECT count(*) FROM station)"
            ).fetchone()
        assert counts is not None and all(c > 0 for c in counts)
        check = runner.invoke(app, ["plan", "check"])
        assert check.exit_code == 0, check.output
        assert "passes the check" in check.output
        assert "grid in pieces          │ error    │ 0" in check.output

        coverage = runner.invoke(app, ["coverage"])
        assert coverage.exit_code == 0, coverage.output
        for part in (
            "Coverage run 2: 5 min × 60 m/min = 300 m",
            "residents",
            "households",
            "units",
            "By region",
            "Largest gaps",
            "Busiest stations",
        ):
            assert part in coverage.output
        timed = re.findall(r"^  ([a-z ,]+): (\d+\.\d) s$", coverage.output, re.MULTILINE)
        assert [name for name, _ in timed] == [
            "loading the network, buildings and stations",
            "snapping and walking",
            "drawing circles",
            "grouping gaps",
            "saving",
        ]  # each step's time, where a whole-city run spends it (issue 19)
        assert re.search(r"^  Coverage: \d+\.\d s in all$", coverage.output, re.MULTILINE)
        whatif = runner.invoke(app, ["coverage", "whatif", "--add", "24.944,60.170"])
        assert whatif.exit_code == 0, whatif.output
        assert "What if" in whatif.output and "after" in whatif.output
        with psycopg.connect(cluster.url(driver=None, database=name)) as conn:
            stored = conn.execute(  # the saved run, computed by `gridmap coverage` above
                "SELECT sum(b.residents) FROM building_coverage bc JOIN building b "
                "ON b.id = bc.building_id WHERE bc.covered AND bc.run_id = "
                "(SELECT max(id) FROM coverage_run)"
            ).fetchone()[0]  # type: ignore[index]
        now, after = (
            int(re.search(rf"{label}\s*│\s*([\d,]+)", whatif.output)[1].replace(",", ""))  # type: ignore[index]
            for label in ("now", "after")
        )
        assert now == stored and after > now  # a station in the centre adds residents
        siting = runner.invoke(app, ["coverage", "siting", "--k", "2", "--exact"])
        assert siting.exit_code == 0, siting.output
        assert "Suggested stations" in siting.output and "Exact (HiGHS)" in siting.output
        _plans_from_the_command_line(runner, tmp_path)
        _keys_from_the_command_line(runner)
        bad = runner.invoke(app, ["coverage", "--minutes", "-5"])
        assert bad.exit_code == 1 and "minutes must be above 0" in bad.output
        assert "Traceback" not in bad.output
        listed = runner.invoke(app, ["stations", "list"])
        assert listed.exit_code == 0 and "3 stations" in listed.output
        nope = runner.invoke(app, ["stations", "remove", "NOPE"])
        assert nope.exit_code == 1 and "no station NOPE; nothing was removed" in nope.output
        with psycopg.connect(cluster.url(driver=None, database=name)) as conn:
            first = conn.execute("SELECT min(code) FROM station").fetchone()[0]  # type: ignore[index]
        edited = runner.invoke(
            app,
            [
                "stations",
                "edit",
                first,
                "--hours",
                "周一至周五 9:00-17:00",
                "--phone",
                "028-8888 6666",
            ],
        )
        assert edited.exit_code == 0, edited.output
        with psycopg.connect(cluster.url(driver=None, database=name)) as conn:
            assert conn.execute(
                "SELECT opening_hours, phone FROM station WHERE code = %s", (first,)
            ).fetchone() == ("周一至周五 9:00-17:00", "028-8888 6666")
        for args, says in (
            (["stations", "edit", first], "name at least one of"),
            (["stations", "edit", "NOPE", "--phone", "1"], "no station NOPE"),
            (["stations", "edit", first, "--name", " "], "a station needs a name"),
        ):
            refused = runner.invoke(app, args)
            assert refused.exit_code == 1 and says in refused.output, refused.output
            assert "Traceback" not in refused.output
        with psycopg.connect(cluster.url(driver=None, database=name)) as conn:
            conn.execute(
                "DELETE FROM assignment WHERE unit_id = (SELECT min(id) FROM unit) "
                "AND plan_id = (SELECT id FROM plan WHERE status = 'current')"
            )
        broken = runner.invoke(app, ["plan", "check"])
        assert broken.exit_code == 1, broken.output
        assert "unit without grid       │ error    │ 1" in broken.output
        assert "has 1 errors" in broken.output and "Traceback" not in broken.output
    finally:
        get_settings.cache_clear()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_units_are_cut_inside_imported_communities(city: City, tmp_path: Path) -> None:
    savepoint = city.connection.begin_nested()
    try:
        xmin, ymin, xmax, ymax = city.layers.buildings.total_bounds
        middle = (xmin + xmax) / 2
        west = box(xmin - 0.001, ymin - 0.001, middle, ymax + 0.001)
        east = box(middle, ymin - 0.001, xmax + 0.001, ymax + 0.001)
        regions = gpd.GeoDataFrame(
            {
                "code": ["110105", "110105001", "110105001001", "110105001002"],
                "name": ["朝阳区", "西街道", "西社区", "东社区"],
            },
            geometry=[west.union(east), west.union(east), west, east],
            crs=4326,
        )
        regions.to_file(tmp_path / "regions.geojson")
        import_file(city.connection, "regions", tmp_path / "regions.geojson")

        counts = build_units(city.connection, county_code=COUNTY, replace=True)

        assert counts.communities == 2
        assert city.value("SELECT count(*) FROM region WHERE source = 'derived'") == 0
        assert city.value("SELECT count(*) FROM building WHERE unit_id IS NULL") == 0
        assert (
            city.value("""
            SELECT count(*) FROM unit u JOIN region r ON r.id = u.community_id
            WHERE left(u.code, 12) <> r.code  -- outside its community: only metric round-off
               OR ST_Area(ST_Difference(u.geom, r.geom)::geography)
                  > 1e-4 * ST_Area(u.geom::geography)
        """)
            == 0
        )
        worst = city.value("""
            SELECT max(ST_Area(ST_SymDifference(r.geom, u.geom)::geography)
                       / ST_Area(r.geom::geography))
            FROM region r
            JOIN (SELECT community_id, ST_Union(geom) AS geom FROM unit GROUP BY community_id) u
              ON u.community_id = r.id
        """)
        assert worst < 0.001
        assert city.value("SELECT sum(residents) FROM unit") == city.counts.residents
    finally:
        savepoint.rollback()


def test_osm_admin_boundaries_become_regions_with_units_inside(city: City) -> None:
    savepoint = city.connection.begin_nested()
    try:
        xmin, ymin, xmax, ymax = city.layers.buildings.total_bounds
        middle = (ymin + ymax) / 2
        south = box(xmin - 0.001, ymin - 0.001, xmax + 0.001, middle)
        north = box(xmin - 0.001, middle, xmax + 0.001, ymax + 0.001)
        boundaries = gpd.GeoDataFrame(
            {"name": ["Kluuvi", "Kaartinkaupunki"], "admin_level": [10, 10]},
            geometry=[north, south],
            crs=4326,
        )
        layers = replace(city.layers, boundaries=boundaries)

        counts = import_osm_layers(city.connection, layers, county_code="990102")
        build_units(city.connection, county_code="990102", replace=True)

        assert counts.regions == 4  # a district, its street, two communities
        rows = city.connection.execute(
            text(
                "SELECT r.code, r.name, r.source, count(u.id) FROM region r "
                "JOIN unit u ON u.community_id = r.id GROUP BY r.id ORDER BY r.code"
            )
        ).all()
        assert [r[:3] for r in rows] == [
            ("990102001001", "Kluuvi", "osm"),
            ("990102001002", "Kaartinkaupunki", "osm"),
        ]
        assert all(n > 10 for *_, n in rows)
        assert city.value("SELECT count(*) FROM building WHERE unit_id IS NULL") == 0
    finally:
        savepoint.rollback()


def test_derived_regions_are_named_after_their_longest_street(city: City) -> None:
    names = (
        city.connection.execute(
            text("SELECT name FROM region WHERE level IN ('street', 'community') ORDER BY code")
        )
        .scalars()
        .all()
    )
    street_names = set(city.layers.streets["name"].dropna())
    assert len(names) == len(set(names))  # a street names one region only
    assert all(n.endswith(("街道", "社区")) for n in names)
    assert sum(n[:-2] in street_names for n in names) >= len(names) - 1


def test_a_real_county_code_names_the_parents_officially(city: City) -> None:
    savepoint = city.connection.begin_nested()
    try:
        build_units(city.connection, county_code="320111", replace=True)
        parents = "SELECT level, name FROM region WHERE level IN ('city', 'district')"
        names = dict(city.connection.execute(text(parents)).all())
    finally:
        savepoint.rollback()
    assert names == {"city": "南京市", "district": "浦口区"}
