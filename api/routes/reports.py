"""Reports: a region's coverage rates, a plan, the nets' alignment; HTML, PDF, XLSX or CSV.

Handlers are plain functions (FastAPI runs them in its thread pool): reading a run, siting
and printing with Chromium take a while and must not hold the event loop.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import Connection

from api.auth import Viewer
from api.deps import MAX_ID, ConnectionDep
from gridmap.db.coverage import region_prefix
from gridmap.db.reports import region_by_code
from gridmap.errors import Forbidden, InvalidInput
from gridmap.reports import alignment_report, ranking_render
from gridmap.reports import plan as plan_report
from gridmap.reports.coverage_render import FORMATS, MEDIA_TYPES, render
from gridmap.reports.coverage_report import load_coverage_report
from gridmap.reports.ranking import load_ranking
from gridmap.tickets.service import ticket_filter

router = APIRouter(prefix="/reports", tags=["Reports"])
Lang = Annotated[
    str, Query(pattern="^(zh|en)$", description="zh (the default: every label in Chinese) or en")
]


@router.get(
    "/coverage",
    name="coverage_report",
    response_class=Response,
    responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}}},
)
def coverage_report(
    request: Request,
    connection: ConnectionDep,
    who: Viewer,
    region: Annotated[str, Query(pattern="^[0-9]{6,12}$", description="A region's code")],
    format: Annotated[str, Query(description="html, pdf, xlsx or csv")] = "html",
    run: Annotated[int | None, Query(ge=1, le=MAX_ID, description="A run (default latest)")] = None,
    lang: Lang = "zh",
) -> Response:
    """Return the coverage-rate report of a region: rates, ranking, map, gaps, siting."""
    _check(format)
    if who.region_id is not None and not _inside(connection, region, who.region_id):
        raise Forbidden(f"region: this key is held to another region than {region}")
    report = load_coverage_report(connection, region, run_id=run)
    body = render(report, format, chromium=request.app.state.settings.chromium, lang=lang)
    return _answer(body, format, f"coverage-{region}-run{report.run['id']}")


@router.get(
    "/plan",
    name="plan_report",
    response_class=Response,
    responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}}},
)
def plan_report_route(
    request: Request,
    connection: ConnectionDep,
    who: Viewer,
    plan: Annotated[int, Query(ge=1, le=MAX_ID, description="A plan's id")],
    format: Annotated[str, Query(description="html, pdf, xlsx or csv")] = "html",
    lang: Lang = "zh",
) -> Response:
    """Return a plan's report: households against the bounds, compactness, radius, the diff."""
    _check(format)
    if who.region_id is not None:
        raise Forbidden("plans are the whole city's: a key held to a region cannot read them")
    report = plan_report.load_plan_report(connection, plan)
    body = plan_report.render(
        report, format, chromium=request.app.state.settings.chromium, lang=lang
    )
    return _answer(body, format, f"plan-{plan}")


@router.get(
    "/alignment",
    name="alignment_report",
    response_class=Response,
    responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}}},
)
def alignment_report_route(
    request: Request,
    connection: ConnectionDep,
    who: Viewer,
    net: Annotated[str | None, Query(max_length=32, description="One special net")] = None,
    format: Annotated[str, Query(description="html, pdf, xlsx or csv")] = "html",
    lang: Lang = "zh",
) -> Response:
    """Return the multi-net alignment report: zones cutting base grids, and their snapping."""
    _check(format)
    if who.region_id is not None:
        raise Forbidden("the nets are the whole city's: a key held to a region cannot read them")
    nets = alignment_report.load_alignment(connection, net)
    body = alignment_report.render(
        nets, format, chromium=request.app.state.settings.chromium, lang=lang
    )
    return _answer(body, format, "alignment")


@router.get(
    "/ranking",
    name="ranking_report",
    response_class=Response,
    responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}}},
)
def ranking_report_route(
    request: Request,
    connection: ConnectionDep,
    who: Viewer,
    region: Annotated[str, Query(pattern="^[0-9]{6,12}$", description="A region's code")],
    level: Annotated[
        str, Query(pattern="^(community|grid)$", description="Rank its communities or grids")
    ] = "community",
    since: Annotated[date | None, Query(description="Tickets from this day (Beijing time)")] = None,
    until: Annotated[date | None, Query(description="Tickets before this day")] = None,
    kind: Annotated[
        list[str] | None,
        Query(
            max_length=50, description="Ticket kinds (诉求类型) to count; repeat it (default all)"
        ),
    ] = None,
    format: Annotated[str, Query(description="html, pdf, xlsx or csv")] = "html",
    lang: Lang = "zh",
) -> Response:
    """Return the ranking of a region's communities or grids: coverage, tickets, staff, size."""
    _check(format)
    tickets = ticket_filter(kind, since, until)
    if who.region_id is not None and not _inside(connection, region, who.region_id):
        raise Forbidden(f"region: this key is held to another region than {region}")
    ranked = load_ranking(connection, region, level, tickets)
    body = ranking_render.render(
        ranked, format, chromium=request.app.state.settings.chromium, lang=lang
    )
    return _answer(body, format, f"ranking-{region}-{level}")


def _check(format: str) -> None:
    if format not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)} (got {format!r})")


def _answer(body: bytes, format: str, name: str) -> Response:
    """Send a report: pages inline, spreadsheets and tables as downloads."""
    disposition = "inline" if format in ("html", "pdf") else "attachment"
    return Response(
        body,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'{disposition}; filename="{name}.{format}"'},
    )


def _inside(connection: Connection, code: str, region_id: int) -> bool:
    """Say whether region ``code`` lies within region ``region_id`` (codes nest by prefix)."""
    region_by_code(connection, code)  # 404 when there is none
    return code.startswith(region_prefix(connection, region_id))
