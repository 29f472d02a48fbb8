"""``gridmap cards`` and ``gridmap report``: duty cards and coverage-rate reports, to files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from gridmap.cli.common import console, engine_from_settings, reports_errors, steps
from gridmap.config import get_settings
from gridmap.db import plans as plan_rows
from gridmap.errors import InvalidInput
from gridmap.reports import alignment_report
from gridmap.reports import plan as plan_report
from gridmap.reports.cards import is_loopback, load_card, render_card
from gridmap.reports.coverage_render import FORMATS as REPORT_FORMATS
from gridmap.reports.coverage_render import render
from gridmap.reports.coverage_report import load_coverage_report
from gridmap.reports.pdf import print_pdf
from gridmap.reports.web_exports import export_folium, export_pmtiles
from gridmap.reports.words import LANGUAGES

report_app = typer.Typer(help="Reports for leaders: coverage rates, plans.", no_args_is_help=True)
export_app = typer.Typer(
    help="Files other portals host: PMTiles, folium maps.", no_args_is_help=True
)

FORMATS = ("html", "pdf")


def _check_format(format: str, formats: tuple[str, ...]) -> None:
    if format not in formats:
        raise InvalidInput(f"--format must be one of {', '.join(formats)} (got {format!r})")


LangOption = Annotated[str, typer.Option("--lang", help="zh (the default) or en.")]


def _check_lang(lang: str) -> None:
    if lang not in LANGUAGES:
        raise InvalidInput(f"--lang must be one of {', '.join(LANGUAGES)} (got {lang!r})")


def card_address(code: str) -> str:
    """Return the address a printed card's QR code carries."""
    settings = get_settings()
    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    return f"{base.rstrip('/')}/cards/{code}"


@reports_errors
def cards_command(
    codes: Annotated[
        list[str] | None, typer.Argument(help="Grid codes (default: every grid).")
    ] = None,
    output: Annotated[Path, typer.Option(help="Folder the cards go to.")] = Path("cards"),
    format: Annotated[str, typer.Option("--format", help="html or pdf (A5).")] = "pdf",
) -> None:
    """Write duty cards (扫码便知) of the current plan's grids, one file per grid.

    The QR codes lead to GRIDMAP_PUBLIC_URL/cards/CODE (set it to the address residents reach).
    """
    _check_format(format, FORMATS)
    with engine_from_settings() as engine, engine.connect() as connection:
        plan = plan_rows.current_plan_id(connection)
        every = [] if plan is None else plan_rows.grid_figures(connection, plan)["code"].tolist()
        wanted = codes or every
        if not wanted:
            raise InvalidInput("there is no current plan with grids: accept a plan first")
        cards = {code: load_card(connection, code) for code in wanted}
    output.mkdir(parents=True, exist_ok=True)
    chromium = get_settings().chromium
    if is_loopback(card_address("0")):
        console.print(
            f"[yellow]The QR codes lead to {card_address('CODE')}, this machine's own address: "
            "a phone scanning them reaches nothing. Set GRIDMAP_PUBLIC_URL to the address "
            "residents reach and print again.[/]",
            highlight=False,
        )
    with steps("Cards", total=len(cards)) as step:
        for code, card in cards.items():
            step(code)
            html = render_card(card, card_address(code))
            target = output / f"grid-{code}.{format}"
            if format == "pdf":
                target.write_bytes(print_pdf(html, chromium=chromium))
            else:
                target.write_text(html, encoding="utf-8")
    console.print(f"{len(cards)} card(s) in {output}/", highlight=False)


@report_app.command("coverage")
@reports_errors
def report_coverage_command(
    region: Annotated[str, typer.Option(help="The region's code (city to community).")],
    format: Annotated[str, typer.Option("--format", help="html, pdf, xlsx or csv.")] = "html",
    output: Annotated[
        Path | None, typer.Option(help="The file (default: coverage-CODE.FORMAT).")
    ] = None,
    run: Annotated[int | None, typer.Option(help="A coverage run (default: the latest).")] = None,
    lang: LangOption = "zh",
) -> None:
    """Write the coverage-rate report of a region: rates, ranking, map, gaps, siting."""
    _check_format(format, REPORT_FORMATS)
    _check_lang(lang)
    target = output or Path(f"coverage-{region}.{format}")
    with steps("Coverage report", total=2) as step, engine_from_settings() as engine:
        step("reading the run and suggesting a site")
        with engine.connect() as connection:
            report = load_coverage_report(connection, region, run_id=run)
        step(f"writing {format}")
        target.write_bytes(render(report, format, chromium=get_settings().chromium, lang=lang))
    rate = report.rates["residents"]
    console.print(
        f"{report.region['name']}: {100 * rate['rate']:.1f}% of residents covered "
        f"({rate['covered']:,} of {rate['total']:,}), run {report.run['id']} → {target}",
        highlight=False,
    )


@report_app.command("plan")
@reports_errors
def report_plan_command(
    plan: Annotated[int, typer.Option(help="The plan's id.")],
    format: Annotated[str, typer.Option("--format", help="html, pdf, xlsx or csv.")] = "html",
    output: Annotated[Path | None, typer.Option(help="The file (default: plan-ID.FORMAT).")] = None,
    lang: LangOption = "zh",
) -> None:
    """Write a plan's report: households against the bounds, compactness, radius, the diff."""
    _check_format(format, plan_report.FORMATS)
    _check_lang(lang)
    target = output or Path(f"plan-{plan}.{format}")
    with engine_from_settings() as engine, engine.connect() as connection:
        report = plan_report.load_plan_report(connection, plan)
    target.write_bytes(
        plan_report.render(report, format, chromium=get_settings().chromium, lang=lang)
    )
    figures = plan_report.summary(report)
    console.print(
        f"Plan {plan}: {figures['grids']} grids, {figures['in_bounds']} within their "
        f"household bounds → {target}",
        highlight=False,
    )


@report_app.command("alignment")
@reports_errors
def report_alignment_command(
    net: Annotated[str | None, typer.Option(help="One special net (default: every net).")] = None,
    format: Annotated[str, typer.Option("--format", help="html, pdf, xlsx or csv.")] = "html",
    output: Annotated[Path | None, typer.Option(help="The file (default: alignment.FMT).")] = None,
    lang: LangOption = "zh",
) -> None:
    """Write the multi-net alignment report (多网合一): zones cutting grids, and their snapping."""
    _check_format(format, alignment_report.FORMATS)
    _check_lang(lang)
    target = output or Path(f"alignment.{format}")
    with engine_from_settings() as engine, engine.connect() as connection:
        nets = alignment_report.load_alignment(connection, net)
    target.write_bytes(
        alignment_report.render(nets, format, chromium=get_settings().chromium, lang=lang)
    )
    for n in nets:
        zones = n.result.zones
        console.print(
            f"{n.net}: {int((zones['grids_cut'] > 0).sum())} of {len(zones)} zones cut "
            f"base grids, {int(zones['households_affected'].sum()):,} households "
            "affected",
            highlight=False,
        )
    console.print(f"→ {target}", highlight=False)


@export_app.command("pmtiles")
@reports_errors
def export_pmtiles_command(
    region: Annotated[str, typer.Option(help="The region's code.")],
    output: Annotated[Path | None, typer.Option(help="The file (default: CODE.pmtiles).")] = None,
    minzoom: Annotated[int, typer.Option(help="Lowest zoom.")] = 12,
    maxzoom: Annotated[int, typer.Option(help="Highest zoom.")] = 16,
    tileset: Annotated[str, typer.Option(help="gridmap, basemap or buildings.")] = "gridmap",
) -> None:
    """Write a PMTiles archive of a region's vector tiles, clipped to it, for static hosting."""
    target = output or Path(f"{region}.pmtiles")
    with (
        Progress(console=console) as bar,
        engine_from_settings() as engine,
        engine.connect() as connection,
    ):
        task = bar.add_task("PMTiles: tiles", total=None)
        done = export_pmtiles(
            connection,
            region,
            target,
            minzoom=minzoom,
            maxzoom=maxzoom,
            tileset_name=tileset,
            progress=lambda n, of: bar.update(task, completed=n, total=of),
        )
    console.print(
        f"{done.tiles:,} tiles ({done.visited:,} looked at), {done.bytes:,} bytes → {target}",
        highlight=False,
    )


@export_app.command("folium")
@reports_errors
def export_folium_command(
    region: Annotated[str, typer.Option(help="The region's code.")],
    output: Annotated[Path | None, typer.Option(help="The file (default: CODE.html).")] = None,
) -> None:
    """Write a self-contained HTML map of a region (Leaflet inlined: no CDN, no network)."""
    target = output or Path(f"{region}.html")
    with engine_from_settings() as engine, engine.connect() as connection:
        page = export_folium(connection, region)
    target.write_text(page, encoding="utf-8")
    console.print(f"{len(page):,} characters → {target}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the report and export commands to the ``gridmap`` command."""
    app.command("cards")(cards_command)
    app.add_typer(report_app, name="report")
    app.add_typer(export_app, name="export")
