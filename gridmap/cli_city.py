"""Commands that put a city in: ``gridmap import``, ``gridmap units``, ``gridmap stations``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gridmap.cli_common import console, engine_from_settings, reports_errors, steps
from gridmap.config import get_settings
from gridmap.io.osm import read_osm
from gridmap.io.osm_import import import_osm_layers
from gridmap.stations import seed_stations_from_amenities
from gridmap.units.service import build_units

import_app = typer.Typer(
    help="Import data: OpenStreetMap extracts and users' files.", no_args_is_help=True
)
units_app = typer.Typer(
    help="Units (单元): cut blocks, estimate residents, derive regions.", no_args_is_help=True
)
stations_app = typer.Typer(help="Party-mass service stations (党群服务站).", no_args_is_help=True)


def import_osm_file(path: Path) -> None:
    """Read an OSM PBF file and write its layers in one transaction, showing progress."""
    with steps("OSM import", total=4) as step, engine_from_settings() as engine:
        step(f"reading {path.name}")
        layers = read_osm(path)
        with engine.begin() as connection:
            counts = import_osm_layers(connection, layers, step=step)
    table = Table("layer", "rows", title=f"Imported {path.name}")
    for name, value in counts.__dict__.items():
        table.add_row(name.replace("_", " "), f"{value:,}")
    console.print(table)


def build_city_units(county_code: str, *, replace: bool) -> None:
    """Cut units and derive regions in one transaction, showing progress."""
    with steps("Units", total=4) as step, engine_from_settings() as engine, engine.begin() as conn:
        counts = build_units(conn, county_code=county_code, replace=replace, step=step)
    streets = "street" if counts.streets == 1 else "streets"
    console.print(
        f"{counts.units:,} units in {counts.communities} communities and {counts.streets} "
        f"{streets}: {counts.residents:,} residents, {counts.households:,} households."
    )


def seed_stations() -> None:
    """Seed one station per community from amenities."""
    with engine_from_settings() as engine, engine.begin() as connection:
        added = seed_stations_from_amenities(connection)
    console.print(f"{added} stations opened at station-capable amenities.")


@import_app.command("osm")
@reports_errors
def import_osm_command(
    path: Annotated[Path, typer.Argument(help="An .osm.pbf extract.")],
) -> None:
    """Import buildings, the walking network, streets, water and amenities from OSM."""
    import_osm_file(path)


@units_app.command("build")
@reports_errors
def units_build_command(
    county: Annotated[
        str | None, typer.Option(help="6-digit county code (GB/T 2260); GRIDMAP_COUNTY_CODE.")
    ] = None,
    replace: Annotated[bool, typer.Option(help="Rebuild units and regions that exist.")] = False,
) -> None:
    """Cut the city into units wall to wall and derive its streets and communities with codes."""
    build_city_units(county or get_settings().county_code, replace=replace)


@stations_app.command("seed")
@reports_errors
def stations_seed_command() -> None:
    """Open one station per community at the amenity nearest its residents."""
    seed_stations()


def register(app: typer.Typer) -> None:
    """Add this module's command groups to ``app``."""
    app.add_typer(import_app, name="import")
    app.add_typer(units_app, name="units")
    app.add_typer(stations_app, name="stations")
