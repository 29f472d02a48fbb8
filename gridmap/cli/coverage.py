"""``gridmap coverage``: 5-minute service-circle rates, what-if and siting, on the command line."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import typer
from rich.table import Table
from sqlalchemy import Connection

from gridmap.cli.common import console, engine_from_settings, reports_errors, steps
from gridmap.coverage.engine import MAX_SNAP_M, CoverageParameters
from gridmap.coverage.service import run_coverage
from gridmap.coverage.station_planning import StationChanges, suggest_sites, whatif_answer
from gridmap.db import coverage as coverage_rows
from gridmap.errors import InvalidInput
from gridmap.standards import WALK_MINUTES, WALK_SPEED_M_PER_MIN

coverage_app = typer.Typer(
    help="5-minute service-circle coverage (5分钟服务圈覆盖率) on the walking network.",
    invoke_without_command=True,
)
LOWEST_SHOWN = 5
ALL_SHOWN = 10


def _percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _parameters(ctx: typer.Context) -> CoverageParameters:
    return ctx.obj


@coverage_app.callback()
@reports_errors
def coverage_command(
    ctx: typer.Context,
    minutes: Annotated[float, typer.Option(help="Walking minutes.")] = WALK_MINUTES,
    speed: Annotated[float, typer.Option(help="Walking speed, metres a minute.")] = (
        WALK_SPEED_M_PER_MIN
    ),
    max_snap: Annotated[
        float, typer.Option(help="Metres from a walkway beyond which a building is unreachable.")
    ] = MAX_SNAP_M,
    plan: Annotated[int | None, typer.Option(help="Plan whose grids get rates (current).")] = None,
) -> None:
    """Compute and save coverage rates at every level, circles, station loads and gaps."""
    ctx.obj = CoverageParameters(minutes=minutes, speed_m_per_min=speed, max_snap_m=max_snap)
    if ctx.invoked_subcommand is None:
        run_and_print(ctx.obj, plan_id=plan)


def run_and_print(parameters: CoverageParameters, *, plan_id: int | None = None) -> None:
    """Run coverage in one transaction, with progress, and print what it found."""
    with engine_from_settings() as engine:
        with steps("Coverage", total=5) as step, engine.begin() as connection:
            summary = run_coverage(connection, parameters, plan_id=plan_id, step=step)
        with engine.connect() as connection:
            print_run(connection, summary.run_id, parameters)


def print_run(connection: Connection, run_id: int, parameters: CoverageParameters) -> None:
    """Print a run's city rates, its regions (lowest first), gaps and overloaded stations."""
    regions = coverage_rows.region_rates(connection, run_id)
    city = regions.loc[regions["level"] == "city"]
    figures = coverage_rows.run_figures(connection, run_id)
    title = (
        f"Coverage run {run_id}: {parameters.minutes:g} min × {parameters.speed_m_per_min:g} "
        f"m/min = {parameters.budget_m:g} m"
    )
    table = Table("", "covered", "total", "rate", "Euclidean disc", title=title)
    whole = city.iloc[0] if len(city) else None
    table.add_row(
        "residents",
        f"{figures['covered_residents']:,}",
        f"{figures['residents']:,}",
        _percent(figures["covered_residents"], figures["residents"]),
        f"{100 * figures['euclidean_rate_residents']:.1f}%",
    )
    table.add_row(
        "households",
        f"{figures['covered_households']:,}",
        f"{figures['households']:,}",
        _percent(figures["covered_households"], figures["households"]),
        "",
    )
    if whole is not None:
        table.add_row(
            "units",
            f"{whole['covered_units']:,}",
            f"{whole['units']:,}",
            _percent(whole["covered_units"], whole["units"]),
            "",
        )
    console.print(table)
    if figures["unreachable_buildings"]:
        console.print(
            f"[yellow]{figures['unreachable_buildings']:,} buildings "
            f"({figures['unreachable_residents']:,} residents) lie farther than "
            f"{parameters.max_snap_m:g} m from any walkway: counted as not covered.[/]"
        )
    _print_levels(regions)
    _print_gaps(coverage_rows.gaps(connection, run_id))
    _print_overloaded(coverage_rows.station_loads(connection, run_id))


def _print_levels(regions: pd.DataFrame) -> None:
    table = Table(
        "level",
        "code",
        "name",
        "residents",
        "covered",
        "rate",
        title=f"By region (at most the lowest {ALL_SHOWN} of each level)",
    )
    regions = regions.assign(rate=regions["covered_residents"] / regions["residents"].clip(lower=1))
    for level in ("district", "street", "community"):
        rows = regions.loc[regions["level"] == level].sort_values("rate").head(ALL_SHOWN)
        for row in rows.itertuples():
            table.add_row(
                level,
                row.code,
                row.name,
                f"{row.residents:,}",
                f"{row.covered_residents:,}",
                f"{100 * row.rate:.1f}%",
            )
    console.print(table)


def _print_gaps(gaps: pd.DataFrame) -> None:
    if gaps.empty:
        console.print("No gaps: every resident is within the walk.")
        return
    table = Table(
        "rank",
        "residents",
        "households",
        "buildings",
        "area (ha)",
        title="Largest gaps (uncovered residents)",
    )
    for row in gaps.head(LOWEST_SHOWN).itertuples():
        table.add_row(
            str(row.rank + 1),
            f"{row.residents:,}",
            f"{row.households:,}",
            f"{row.buildings:,}",
            f"{row.area_m2 / 1e4:.1f}",
        )
    console.print(table)


def _print_overloaded(loads: pd.DataFrame) -> None:
    loads = loads.assign(capacity_residents=pd.to_numeric(loads["capacity_residents"]))
    over = loads.loc[
        loads["capacity_residents"].notna() & (loads["residents"] > loads["capacity_residents"])
    ]
    busiest = loads.sort_values("residents", ascending=False).head(LOWEST_SHOWN)
    table = Table(
        "station",
        "name",
        "residents served",
        "capacity",
        title=f"Busiest stations ({len(over)} over capacity)",
    )
    for row in busiest.itertuples():
        capacity = "-" if pd.isna(row.capacity_residents) else f"{int(row.capacity_residents):,}"
        table.add_row(row.code, row.name, f"{row.residents:,}", capacity)
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``gridmap coverage`` to ``app``."""
    app.add_typer(coverage_app, name="coverage")


def _lon_lat(text: str, option: str) -> tuple[float, float]:
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError:
        raise InvalidInput(f"{option} {text!r}: write LON,LAT, e.g. 104.06,30.64") from None
    return lon, lat


@coverage_app.command("whatif")
@reports_errors
def whatif_command(
    ctx: typer.Context,
    add: Annotated[list[str] | None, typer.Option(help="A new station at LON,LAT.")] = None,
    move: Annotated[list[str] | None, typer.Option(help="CODE=LON,LAT: move a station.")] = None,
    remove: Annotated[list[str] | None, typer.Option(help="CODE: close a station.")] = None,
) -> None:
    """Ask what the rates would be with stations added, moved or closed (nothing is saved)."""
    moves = [
        (code, *_lon_lat(point, "--move"))
        for code, _, point in (change.partition("=") for change in move or [])
    ]
    changes = StationChanges(
        [_lon_lat(point, "--add") for point in add or []], moves, list(remove or [])
    )
    with steps("What if", total=1) as step, engine_from_settings() as engine:
        step("loading the city, walking from its stations, changing them")
        with engine.connect() as connection:
            answer = whatif_answer(connection, _parameters(ctx), changes)
    table = Table("", "residents covered", "rate", title="What if")
    for label, key in (("now", "before"), ("after", "after")):
        totals = answer[key]
        table.add_row(
            label,
            f"{totals['covered_residents']:,}",
            _percent(totals["covered_residents"], totals["residents"]),
        )
    console.print(table)
    changed = [c for c in answer["communities"] if c["covered_before"] != c["covered_after"]]
    if changed:
        communities = Table("community", "before", "after", title="Communities that change")
        for c in changed:
            communities.add_row(
                c["community"],
                _percent(c["covered_before"], c["residents"]),
                _percent(c["covered_after"], c["residents"]),
            )
        console.print(communities)


@coverage_app.command("siting")
@reports_errors
def siting_command(
    ctx: typer.Context,
    k: Annotated[int | None, typer.Option("--k", help="How many new stations.")] = None,
    target: Annotated[
        float | None, typer.Option(help="Fewest stations to reach this rate, e.g. 0.98.")
    ] = None,
    candidates: Annotated[str, typer.Option(help="amenities or units.")] = "amenities",
    capacity: Annotated[int | None, typer.Option(help="Residents one station can serve.")] = None,
    exact: Annotated[
        bool, typer.Option(help="Also solve exactly with HiGHS; show the gap.")
    ] = False,
) -> None:
    """Suggest where new stations would cover the most uncovered residents."""
    with steps("Siting", total=1) as step, engine_from_settings() as engine:
        step("scoring candidates")
        with engine.connect() as connection:
            report = suggest_sites(
                connection,
                _parameters(ctx),
                k=k,
                target_rate=target,
                candidates=candidates,
                capacity=capacity,
                solve_exactly=exact,
            )
    table = Table(
        "#",
        "site",
        "name",
        "lon",
        "lat",
        "adds residents",
        title=f"Suggested stations (greedy; coverage {100 * report.before_rate:.1f}% → "
        f"{100 * report.greedy.rate:.1f}%)",
    )
    for i, row in enumerate(report.sites.itertuples(), start=1):
        table.add_row(
            str(i), row.label, str(row.name), f"{row.lon:.6f}", f"{row.lat:.6f}", f"{row.gain:,}"
        )
    console.print(table)
    if report.note:
        console.print(f"[yellow]{report.note}[/]", highlight=False)
    if not report.target_reached and target is not None:
        console.print(
            f"[yellow]The target {100 * target:.1f}% cannot be reached with these candidates: "
            f"at most {100 * report.greedy.rate:.1f}% (try --candidates units).[/]"
        )
    if report.exact is not None:
        gap = report.exact.covered_residents - report.greedy.covered_residents
        console.print(
            f"Exact (HiGHS): {len(report.exact.chosen)} stations, coverage "
            f"{100 * report.exact.rate:.1f}%; greedy is {gap:,} residents short of the optimum."
        )
