"""Commands that put a city in: ``gridmap import``, ``gridmap units``, ``gridmap stations``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, cast

import typer
from rich.table import Table

from gridmap.cli.common import console, engine_from_settings, reports_errors, steps
from gridmap.config import get_settings
from gridmap.errors import InvalidInput
from gridmap.io.file_import import import_file
from gridmap.io.layers import LAYERS
from gridmap.io.options import ImportOptions
from gridmap.io.osm import read_osm
from gridmap.io.osm_import import import_osm_layers
from gridmap.io.read import parse_field_map
from gridmap.io.staff_import import import_staff
from gridmap.stations import (
    edit_station,
    list_stations,
    remove_stations,
    replace_stations,
    seed_stations_from_amenities,
)
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
    with steps("OSM import", total=5) as step, engine_from_settings() as engine:
        step(f"reading {path.name}")
        layers = read_osm(path)
        with engine.begin() as connection:
            counts = import_osm_layers(
                connection, layers, county_code=get_settings().county_code, step=step
            )
    table = Table("layer", "rows", title=f"Imported {path.name}")
    for name, value in counts.__dict__.items():
        if isinstance(value, int):
            table.add_row(name.replace("_", " "), f"{value:,}")
    console.print(table)
    console.print(counts.residential, highlight=False)


def import_layer_file(layer: str, path: Path, options: ImportOptions) -> None:
    """Import one user's layer file in one transaction and report what it wrote."""
    with steps(f"Import {layer}", total=2) as step, engine_from_settings() as engine:
        step(f"reading and checking {path.name}")
        with engine.begin() as connection:
            result = import_file(connection, layer, path, options)
            step("written")
    for repair in result.repairs:
        console.print(f"[yellow]fixed[/] {repair}", highlight=False)
    console.print(f"Imported {result.rows:,} {layer} from {path.name}.", highlight=False)
    for note in result.notes:
        console.print(f"  {note}", highlight=False)


def synthesize_city(buildings: int, seed: int, *, replace: bool, units: bool) -> None:
    """Generate a synthetic city, store it, and cut its units, in one transaction."""
    from gridmap.synth.city import synthesize
    from gridmap.synth.service import store_city

    settings = get_settings()
    with steps("Synthetic city", total=6) as step, engine_from_settings() as engine:
        step(f"generating {buildings:,} buildings (seed {seed})")
        city = synthesize(buildings, seed=seed, county_code=settings.county_code)
        with engine.begin() as connection:
            counts = store_city(connection, city, replace=replace, step=step)
            if units:
                step("cutting units inside communities")
                built = build_units(connection, county_code=settings.county_code)
    console.print(
        f"{counts.regions:,} regions, {counts.buildings:,} buildings with "
        f"{counts.residents:,} residents, {counts.walk_edges:,} walk edges, "
        f"{counts.stations:,} stations and {counts.events:,} events"
        + (f"; {built.units:,} units." if units else "."),
        highlight=False,
    )


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
    """Seed one station per community from amenities; list the communities left without."""
    with engine_from_settings() as engine, engine.begin() as connection:
        seeded = seed_stations_from_amenities(connection)
    word = "station" if seeded.opened == 1 else "stations"
    console.print(f"{seeded.opened} {word} opened at station-capable amenities.")
    if seeded.without:
        listed = ", ".join(f"{code} {name or ''}".strip() for code, name in seeded.without[:20])
        more = f" and {len(seeded.without) - 20} more" if len(seeded.without) > 20 else ""
        console.print(
            f"[yellow]{len(seeded.without)} communities have no station[/] (no station-capable "
            f"amenity inside them): {listed}{more}. Import yours with "
            "`gridmap import stations FILE`, or see where they would help most with "
            "`gridmap coverage siting --candidates units`.",
            highlight=False,
        )


@import_app.command("osm")
@reports_errors
def import_osm_command(
    path: Annotated[Path, typer.Argument(help="An .osm.pbf extract.")],
) -> None:
    """Import buildings, the walking network, streets, water and amenities from OSM."""
    import_osm_file(path)


CrsOption = Annotated[
    str | None,
    typer.Option(
        "--crs",
        help="Input CRS: an EPSG code (4326, 4490, 4527...), gcj02 or bd09. "
        "Default: the file's own, else WGS 84.",
    ),
]
MapOption = Annotated[
    list[str] | None,
    typer.Option("--map", help="Rename a field: target=source, e.g. households=HH. Repeatable."),
]
FixOption = Annotated[
    bool, typer.Option("--fix", help="Repair invalid polygons with make_valid and report each.")
]
EncodingOption = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        help="The text encoding of a CSV or a shapefile's .dbf (UTF-8, GB18030...). "
        "Default: found from the file (a .cpg, else UTF-8, else GB18030).",
    ),
]


ReplaceOption = Annotated[
    bool,
    typer.Option(
        "--replace",
        help="Units and buildings: replace the stored ones the file's polygons overlap "
        "(new units take over their grids). Without it such overlaps are refused.",
    ),
]
REPLACEABLE = ("units", "buildings")


def _layer_command(layer: str) -> None:
    """Register ``gridmap import <layer> FILE`` with the options every layer shares."""

    def command(
        path: Annotated[Path, typer.Argument(help="GeoJSON, GPKG, SHP or zip, CSV or XLSX.")],
        crs: CrsOption = None,
        field_map: MapOption = None,
        fix: FixOption = False,
        encoding: EncodingOption = None,
        replace: ReplaceOption = False,
    ) -> None:
        if replace and layer not in REPLACEABLE:
            raise InvalidInput(f"--replace is for {' and '.join(REPLACEABLE)}, not {layer}")
        options = ImportOptions(
            crs=crs,
            field_map=parse_field_map(field_map or []),
            fix=fix,
            encoding=encoding,
            replace=replace,
        )
        import_layer_file(layer, path, options)

    command.__doc__ = f"Import {layer} from a file, in one transaction."
    import_app.command(layer)(reports_errors(command))


for _layer in LAYERS:
    if _layer != "grids":
        _layer_command(_layer)


@import_app.command("grids")
@reports_errors
def import_grids_command(
    path: Annotated[Path, typer.Argument(help="Grid polygons: GeoJSON, GPKG, SHP or zip, CSV.")],
    crs: CrsOption = None,
    field_map: MapOption = None,
    fix: FixOption = False,
    encoding: EncodingOption = None,
    plan: Annotated[str | None, typer.Option(help="Name of the plan the grids make.")] = None,
    current: Annotated[
        bool, typer.Option("--current", help="Make the plan current (the old one is archived).")
    ] = False,
) -> None:
    """Import grids as a plan: each unit goes to the grid holding its largest part."""
    options = ImportOptions(
        crs=crs,
        field_map=parse_field_map(field_map or []),
        fix=fix,
        plan_name=plan,
        make_current=current,
        encoding=encoding,
    )
    import_layer_file("grids", path, options)


def import_staff_file(path: Path, plan: int | None, field_map: dict[str, str]) -> None:
    """Import a staff roster in one transaction and say what it changed."""
    with engine_from_settings() as engine, engine.begin() as connection:
        result = import_staff(connection, path, plan_id=plan, field_map=field_map)
    console.print(
        f"Staff of {result.grids:,} grids of plan {result.plan_id} from {path.name}: "
        f"{result.people:,} people.",
        highlight=False,
    )


@import_app.command("staff")
@reports_errors
def import_staff_command(
    path: Annotated[Path, typer.Argument(help="A roster: CSV or XLSX, one row per person.")],
    plan: Annotated[int | None, typer.Option(help="The plan (default: the current one).")] = None,
    field_map: MapOption = None,
) -> None:
    """Import grid staff (网格长, 网格员, 网格指导员) with phones and duties, in one transaction."""
    import_staff_file(path, plan, parse_field_map(field_map or []))


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


def synth_command(
    buildings: Annotated[int, typer.Option(min=1, max=2_000_000, help="How many buildings.")],
    seed: Annotated[int, typer.Option(help="Random seed: the same seed, the same city.")] = 0,
    replace: Annotated[bool, typer.Option(help="Overwrite the city in the database.")] = False,
    units: Annotated[bool, typer.Option("--units/--no-units", help="Cut units too.")] = True,
) -> None:
    """Generate a Chinese-style synthetic city for scale, deterministic for a seed.

    Districts, streets and communities with codes, a street grid with blocks, buildings with
    levels and residents, community centres, stations and events.
    """
    synthesize_city(buildings, seed, replace=replace, units=units)


@stations_app.command("list")
@reports_errors
def stations_list_command() -> None:
    """List the stations, with their community."""
    with engine_from_settings() as engine, engine.connect() as connection:
        stations = list_stations(connection)
    table = Table(
        "code", "name", "community", "services", "lon", "lat", title=f"{len(stations)} stations"
    )
    for s in stations:
        table.add_row(
            str(s["code"]),
            str(s["name"] or ""),
            str(s["community"] or "—"),
            "、".join(cast(list[str], s["services"] or [])),
            f"{s['lon']:.6f}",
            f"{s['lat']:.6f}",
        )
    console.print(table)


@stations_app.command("edit")
@reports_errors
def stations_edit_command(
    code: Annotated[str, typer.Argument(help="The station's code.")],
    name: Annotated[str | None, typer.Option(help="Its name.")] = None,
    address: Annotated[str | None, typer.Option(help="Its address (地址); '' clears it.")] = None,
    hours: Annotated[
        str | None, typer.Option(help="Opening hours (开放时间), e.g. '周一至周五 9:00-17:00'.")
    ] = None,
    phone: Annotated[str | None, typer.Option(help="Its phone (电话); '' clears it.")] = None,
    capacity: Annotated[int | None, typer.Option(min=1, help="Residents it can serve.")] = None,
) -> None:
    """Change a station's name, address, opening hours, phone or capacity."""
    given = {
        "name": name,
        "address": address,
        "opening_hours": hours,
        "phone": phone,
        "capacity_residents": capacity,
    }
    changes = {field: value for field, value in given.items() if value is not None}
    if not changes:
        raise InvalidInput("name at least one of --name, --address, --hours, --phone, --capacity")
    with engine_from_settings() as engine, engine.begin() as connection:
        station = edit_station(connection, code, changes)
    for field in ("code", "name", "address", "opening_hours", "phone", "capacity_residents"):
        console.print(
            f"{field:>18}  {station[field] if station[field] is not None else '—'}", highlight=False
        )


@stations_app.command("remove")
@reports_errors
def stations_remove_command(
    codes: Annotated[list[str], typer.Argument(help="Codes of the stations to remove.")],
) -> None:
    """Remove stations, all or none, in one transaction."""
    with engine_from_settings() as engine, engine.begin() as connection:
        removed = remove_stations(connection, codes)
    console.print(
        f"Removed {len(removed)} stations: {', '.join(removed)}. Run "
        "`gridmap coverage` for figures with the stations as they are now."
    )


@stations_app.command("replace")
@reports_errors
def stations_replace_command(
    path: Annotated[Path, typer.Argument(help="Every station: GeoJSON, GPKG, SHP, CSV, XLSX.")],
    crs: CrsOption = None,
    field_map: MapOption = None,
    encoding: EncodingOption = None,
) -> None:
    """Make a file the whole list of stations: its stations by code, the others removed."""
    options = ImportOptions(crs=crs, field_map=parse_field_map(field_map or []), encoding=encoding)
    with engine_from_settings() as engine, engine.begin() as connection:
        result, removed = replace_stations(connection, path, options)
    listed = f": {', '.join(removed[:20])}" if removed else ""
    console.print(
        f"{result.rows:,} stations from {path.name}; {len(removed)} others removed{listed}.",
        highlight=False,
    )
    for note in result.notes:
        console.print(f"  {note}", highlight=False)


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
    app.command("synth")(reports_errors(synth_command))
