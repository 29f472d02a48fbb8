"""``gridmap plan`` and ``gridmap partition``: drafts, re-partitioning, diffs, acceptance."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from gridmap.cli.common import console, engine_from_settings, reports_errors, steps
from gridmap.db import plans as plan_rows
from gridmap.errors import InvalidInput
from gridmap.partition.engine import Bounds
from gridmap.partition.service import diff_plans, partition_plan
from gridmap.plans.check import KINDS, check_plan
from gridmap.plans.export import EXPORT_FORMATS, export_plan
from gridmap.plans.lifecycle import accept_plan, new_plan, set_locks
from gridmap.standards import GRID_BOUNDS

plan_app = typer.Typer(
    help="Plans of grids (网格方案): drafts, diffs, acceptance.", no_args_is_help=True
)
URBAN = GRID_BOUNDS["urban"]


@plan_app.command("list")
@reports_errors
def plan_list() -> None:
    """List the plans, newest first."""
    with engine_from_settings() as engine, engine.connect() as connection:
        plans = plan_rows.list_plans(connection)
    table = Table("id", "name", "status", "from", "revision", "grids")
    for row in plans.itertuples():
        parent = "" if pd.isna(row.parent_id) else str(int(row.parent_id))
        table.add_row(str(row.id), row.name, row.status, parent, str(row.revision), str(row.grids))
    console.print(table)


@plan_app.command("new")
@reports_errors
def plan_new(
    source: Annotated[
        str | None, typer.Option("--from", help="'current', or a plan id to copy.")
    ] = None,
    name: Annotated[str, typer.Option(help="The draft's name.")] = "draft",
) -> None:
    """Start a draft plan, empty or as a copy of another."""
    with engine_from_settings() as engine, engine.begin() as connection:
        origin = None
        if source == "current":
            origin = plan_rows.current_plan_id(connection)
            if origin is None:
                raise InvalidInput("there is no current plan: start an empty draft instead")
        elif source is not None:
            origin = int(source)
        plan_id = new_plan(connection, name=name, source=origin, author="cli")
    console.print(f"Draft plan {plan_id} '{name}'" + (f" from plan {origin}." if origin else "."))


@plan_app.command("check")
@reports_errors
def plan_check(
    plan: Annotated[
        int | None, typer.Argument(help="The plan to check (default: the current one).")
    ] = None,
) -> None:
    """Check a plan's integrity; exit 1 when it has errors (warnings are listed, exit 0).

    Errors: units in no grid or in two, grids across communities, empty grids, invalid or
    duplicate codes, grids in pieces. Warnings: grids out of bounds, grids without households.
    """
    with engine_from_settings() as engine, engine.connect() as connection:
        plan_id = plan if plan is not None else plan_rows.current_plan_id(connection)
        if plan_id is None:
            raise InvalidInput("there is no current plan: name the plan to check")
        result = check_plan(connection, plan_id)
    counts = Table(
        "finding",
        "severity",
        "count",
        title=f"Plan {plan_id}: {result.grids:,} grids, {result.units:,} units",
    )
    for kind, n in result.counts().items():
        style = "red" if n and KINDS[kind] == "error" else ("yellow" if n else "")
        counts.add_row(kind, KINDS[kind], f"[{style}]{n}[/]" if style else str(n))
    console.print(counts)
    for finding in result.findings[:50]:
        colour = "red" if finding.severity == "error" else "yellow"
        console.print(f"[{colour}]{finding.severity}[/] {finding.message}", highlight=False)
    if len(result.findings) > 50:
        console.print(f"… and {len(result.findings) - 50} more")
    if not result.ok:
        console.print(f"Plan {plan_id} has {len(result.errors)} errors.")
        raise typer.Exit(1)
    console.print(f"Plan {plan_id} passes the check ({len(result.warnings)} warnings).")


@plan_app.command("accept")
@reports_errors
def plan_accept(plan: Annotated[int, typer.Argument(help="The draft to make current.")]) -> None:
    """Make a draft the current plan; the old current plan is archived (one transaction)."""
    with engine_from_settings() as engine, engine.begin() as connection:
        accept_plan(connection, plan, actor="cli")
    console.print(f"Plan {plan} is current.")


def _lock(plan: int, grids: list[str], locked: bool) -> None:
    with engine_from_settings() as engine, engine.begin() as connection:
        changed, revision = set_locks(connection, plan, grids, locked, actor="cli")
    console.print(
        f"{changed} grids {'locked' if locked else 'unlocked'}; plan {plan} is at "
        f"revision {revision}."
    )


@plan_app.command("lock")
@reports_errors
def plan_lock(plan: int, grids: list[str]) -> None:
    """Lock grids: re-partitions never change them."""
    _lock(plan, grids, True)


@plan_app.command("unlock")
@reports_errors
def plan_unlock(plan: int, grids: list[str]) -> None:
    """Unlock grids."""
    _lock(plan, grids, False)


@plan_app.command("diff")
@reports_errors
def plan_diff(a: int, b: int) -> None:
    """Compare plan A with plan B: units moved, grids kept, split, merged, new, retired."""
    with engine_from_settings() as engine, engine.connect() as connection:
        diff = diff_plans(connection, a, b)
    table = Table("", "count", "grids", title=f"Plan {a} → plan {b}")
    table.add_row(
        "units moved", f"{diff['units_moved']:,}", f"{diff['households_moved']:,} households"
    )
    for key in ("kept", "split", "merged", "new", "retired"):
        codes = diff[key]
        shown = ", ".join(codes[:6]) + (" …" if len(codes) > 6 else "")
        table.add_row(key, str(len(codes)), shown)
    console.print(table)
    before, after = diff["before"], diff["after"]
    figures = Table("", f"plan {a}", f"plan {b}", title="Figures")
    for label, frame in (("grids", None), ("mean households", "households")):
        if frame is None:
            figures.add_row(label, str(len(before)), str(len(after)))
        else:
            figures.add_row(label, f"{before[frame].mean():.0f}", f"{after[frame].mean():.0f}")
    figures.add_row(
        "mean Polsby-Popper",
        f"{before['polsby_popper'].mean():.2f}",
        f"{after['polsby_popper'].mean():.2f}",
    )
    figures.add_row(
        "largest radius (m)", f"{before['radius_m'].max():.0f}", f"{after['radius_m'].max():.0f}"
    )
    console.print(figures)


@plan_app.command("export")
@reports_errors
def plan_export(
    plan: int,
    output: Annotated[Path, typer.Option(help="The file to write.")],
    fmt: Annotated[str, typer.Option("--format", help="geojson, gpkg or csv.")] = "geojson",
) -> None:
    """Export a plan: grid polygons (GeoJSON, GeoPackage) or a unit → grid table (CSV)."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"--format must be one of {', '.join(EXPORT_FORMATS)}")
    with engine_from_settings() as engine, engine.connect() as connection:
        content, rows = export_plan(connection, plan, fmt)
    output.write_bytes(content)
    console.print(f"Wrote {rows:,} rows of plan {plan} to {output}.")


def partition_command(
    plan: Annotated[int, typer.Option(help="The draft plan to re-partition.")],
    mode: Annotated[str, typer.Option(help="full, or adjust (fix only what breaks).")] = "full",
    target: Annotated[int, typer.Option(help="Target households.")] = URBAN.target_households,
    min_households: Annotated[int, typer.Option("--min")] = URBAN.min_households,
    max_households: Annotated[int, typer.Option("--max")] = URBAN.max_households,
    max_residents: Annotated[int | None, typer.Option()] = URBAN.max_residents,
    radius: Annotated[float | None, typer.Option(help="Service radius, metres.")] = None,
    radius_by: Annotated[
        str, typer.Option(help="Measure the radius straight, or walk on the network.")
    ] = "straight",
    seed: Annotated[int, typer.Option()] = 0,
    region: Annotated[
        str | None,
        typer.Option(help="Only this district, street or community (code); the rest is kept."),
    ] = None,
) -> None:
    """Re-partition a draft plan into grids within household bounds."""
    bounds = Bounds(min_households, max_households, target, max_residents, radius, radius_by)
    walking = radius is not None and radius_by == "walk"
    with (
        steps("Partition", total=4 if walking else 3) as step,
        engine_from_settings() as engine,
        engine.begin() as connection,
    ):
        summary = partition_plan(
            connection,
            plan,
            mode=mode,
            bounds=bounds,
            seed=seed,
            author="cli",
            step=step,
            region=region,
        )
    console.print(
        f"Plan {plan} revision {summary.revision}: {summary.grids} grids, "
        f"{summary.in_bounds} within {min_households}–{max_households} households; "
        f"{summary.units_moved} units changed grid."
    )
    with engine_from_settings() as engine, engine.connect() as connection:
        figures = plan_rows.grid_figures(connection, plan)
    console.print(
        f"  Polsby-Popper mean {figures['polsby_popper'].mean():.2f}, "
        f"min {figures['polsby_popper'].min():.2f}; largest radius "
        f"{figures['radius_m'].max():.0f} m; households sd {figures['households'].std():.0f}."
    )
    for case in summary.cases[:20]:
        console.print(f"  [yellow]{case.kind}[/]: {case.message}", highlight=False)


def first_plan(name: str = "现状") -> None:
    """Partition the city into a first plan and make it current (the demo's grids)."""
    with (
        steps("First plan", total=3) as step,
        engine_from_settings() as engine,
        engine.begin() as connection,
    ):
        plan = new_plan(connection, name=name, source=None, author="demo")
        summary = partition_plan(connection, plan, seed=0, author="demo", step=step)
        accept_plan(connection, plan, actor="demo")
    console.print(
        f"Plan {plan} '{name}' is current: {summary.grids} grids, "
        f"{summary.in_bounds} within bounds."
    )


def register(app: typer.Typer) -> None:
    """Add ``gridmap plan`` and ``gridmap partition`` to ``app``."""
    app.add_typer(plan_app, name="plan")
    app.command("partition")(reports_errors(partition_command))
