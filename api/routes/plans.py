"""Plans: list, read, create, rename and discard drafts, edit grids, diff, accept, lock, export.

Every write goes through the plan's lifecycle (:mod:`gridmap.plans.lifecycle`). A plan's ETag
is its revision; an edit or an accept must send it back in ``If-Match`` and gets 412 when the
plan changed since (428 when it sends none); while a job works on a draft, writes to it get
409 naming the job.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Header, Path, Query, Request, Response
from pydantic import BaseModel, Field

from api.auth import Admin, Planner, Viewer
from api.deps import MAX_ID, ConnectionDep, EngineDep, PlanId
from api.schemas import (
    EditAnswer,
    GridFigures,
    Locked,
    NewGridAnswer,
    Plan,
    PlanCheck,
    PlanDiff,
    PlanListed,
    SplitAnswer,
)
from gridmap.db import plans as plan_rows
from gridmap.errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionRequired
from gridmap.partition.service import diff_plans
from gridmap.partition.split import MAX_PARTS, apply_split, propose_split
from gridmap.plans.check import check_plan
from gridmap.plans.export import EXPORT_FORMATS, export_plan
from gridmap.plans.grid_edits import carve_grids
from gridmap.plans.lifecycle import (
    Move,
    accept_plan,
    discard_plan,
    move_units,
    new_plan,
    rename_plan,
    set_locks,
)

router = APIRouter(prefix="/plans", tags=["Plans"])


class NewPlan(BaseModel):
    """A draft to make: empty, or a copy of a plan."""

    name: str = Field(min_length=1, max_length=200, examples=["2027 调整"])
    source: int | str | None = Field(
        default="current", description="`current`, a plan id, or null for an empty draft"
    )


class UnitMove(BaseModel):
    """One unit into one grid of the plan."""

    unit: str = Field(min_length=1, max_length=32, description="The unit's code")
    grid: str = Field(min_length=1, max_length=32, description="The grid's code in this plan")


class Edit(BaseModel):
    """Units to move, all at once, and/or a new name."""

    moves: list[UnitMove] = Field(default_factory=list, max_length=5000)
    name: str | None = Field(default=None, min_length=1, max_length=200)


class NewGrid(BaseModel):
    """A new grid of a draft, holding these units (all of one community)."""

    units: list[str] = Field(min_length=1, max_length=5000, description="Unit codes")


class Split(BaseModel):
    """Split a grid into ``k`` (a seeded cut of that grid alone): previewed, or applied."""

    k: int = Field(ge=2, le=MAX_PARTS, description="How many grids the grid becomes")
    seed: int = Field(default=0, ge=0, le=2**31 - 1, description="The same seed, the same cut")
    apply: bool = Field(
        default=False, description="false: only say the parts; true: make them (If-Match)"
    )


class Locks(BaseModel):
    """Grids to lock or unlock."""

    grids: list[str] = Field(min_length=1, max_length=10000)
    locked: bool = True


def _plain(frame: pd.DataFrame) -> list[dict[str, Any]]:
    frame = frame.replace({np.nan: None})
    return [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def _edited(result: Any) -> dict[str, Any]:
    """Return an edit's answer: the plan's revision, the touched grids' figures, warnings."""
    return {
        "revision": result.revision,
        "grids": _plain(pd.DataFrame(result.grids)),
        "warnings": result.warnings,
    }


def _scoped_out(who: Any) -> None:
    if who.region_id is not None:
        raise Forbidden("plans are the whole city's: a key held to a region cannot read them")


def _plan_body(connection: Any, plan_id: int) -> dict[str, Any]:
    row = plan_rows.plan_row(connection, plan_id)
    figures = plan_rows.grid_figures(connection, plan_id)
    body = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
    body["grids"] = len(figures)
    if len(figures):
        body["summary"] = {
            "households": int(figures["households"].sum()),
            "mean_polsby_popper": float(figures["polsby_popper"].mean()),
            "min_polsby_popper": float(figures["polsby_popper"].min()),
            "largest_radius_m": float(figures["radius_m"].max()),
            "households_sd": float(figures["households"].std(ddof=0)),
        }
    return body


@router.get("", name="plans", response_model=list[PlanListed])
def plans(connection: ConnectionDep, who: Viewer) -> list[dict[str, Any]]:
    """List the plans, newest first."""
    _scoped_out(who)
    return _plain(plan_rows.list_plans(connection).astype({"created_at": str}))


@router.get("/{plan_id}", name="plan", response_model=Plan)
def plan(
    plan_id: PlanId, response: Response, connection: ConnectionDep, who: Viewer
) -> dict[str, Any]:
    """Return a plan with its summary figures; its ETag is its revision."""
    _scoped_out(who)
    body = _plan_body(connection, plan_id)
    response.headers["ETag"] = f'"{body["revision"]}"'
    return body


@router.post("", name="new_plan", status_code=201, response_model=Plan)
def create_plan(
    body: NewPlan, request: Request, response: Response, engine: EngineDep, who: Planner
) -> dict[str, Any]:
    """Make a draft: a copy of the current plan (default), of another plan, or empty."""
    _scoped_out(who)
    with engine.begin() as connection:
        source: int | None
        if body.source == "current":
            source = plan_rows.current_plan_id(connection)
            if source is None:
                raise Conflict("source: there is no current plan to copy; give null")
        elif body.source is None:
            source = None
        elif (isinstance(body.source, int) or str(body.source).isdigit()) and 0 < int(
            body.source
        ) <= MAX_ID:
            source = int(body.source)
        else:
            raise InvalidInput(f"source: {body.source!r} is not current, a plan id or null")
        plan_id = new_plan(connection, name=body.name, source=source, author=who.name)
        result = _plan_body(connection, plan_id)
    response.headers["Location"] = str(request.url_for("plan", plan_id=plan_id))
    response.headers["ETag"] = f'"{result["revision"]}"'
    return result


def _revision(if_match: str | None) -> int:
    if if_match is None:
        raise PreconditionRequired("If-Match: send the plan's ETag (its revision) with an edit")
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise InvalidInput(f"If-Match: {if_match!r} is not a plan revision")
    return int(value)


@router.patch("/{plan_id}", name="edit_plan", response_model=EditAnswer)
def edit_plan(
    plan_id: PlanId,
    body: Edit,
    response: Response,
    engine: EngineDep,
    who: Planner,
    if_match: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Move units between grids of a draft (or rename it), if it is at ``If-Match``'s revision."""
    _scoped_out(who)
    expected = _revision(if_match)
    with engine.begin() as connection:
        revision, grids, warnings = expected, [], []
        if body.name is not None:
            revision = rename_plan(
                connection, plan_id, body.name, actor=who.name, expected_revision=revision
            )
        if body.moves or body.name is None:
            result = move_units(
                connection,
                plan_id,
                [Move(m.unit, m.grid) for m in body.moves],
                expected_revision=revision,
                author=who.name,
            )
            revision, grids, warnings = result.revision, result.grids, result.warnings
    response.headers["ETag"] = f'"{revision}"'
    return {"revision": revision, "grids": _plain(pd.DataFrame(grids)), "warnings": warnings}


@router.get("/{plan_id}/grids", name="plan_grids", response_model=list[GridFigures])
def plan_grids(plan_id: PlanId, connection: ConnectionDep, who: Viewer) -> list[dict[str, Any]]:
    """Return each grid of a plan with its figures."""
    _scoped_out(who)
    plan_rows.plan_row(connection, plan_id)
    return _plain(plan_rows.grid_figures(connection, plan_id))


@router.get("/{plan_id}/units", name="plan_units")
def plan_units(plan_id: PlanId, connection: ConnectionDep, who: Viewer) -> dict[str, str]:
    """Return each unit's grid in a plan, by code."""
    _scoped_out(who)
    plan_rows.plan_row(connection, plan_id)
    return plan_rows.unit_grid_codes(connection, plan_id)


@router.get("/{plan_id}/check", name="plan_check", response_model=PlanCheck)
def plan_check(plan_id: PlanId, connection: ConnectionDep, who: Viewer) -> dict[str, Any]:
    """Check a plan's integrity: its errors and warnings, counted by kind and listed.

    Errors: units in no grid or in two, grids across communities, empty grids, invalid or
    duplicate codes, grids in pieces. Warnings: grids out of bounds or without households.
    """
    _scoped_out(who)
    return check_plan(connection, plan_id).as_dict()


@router.get("/{plan_id}/diff", name="plan_diff", response_model=PlanDiff)
def plan_diff(
    plan_id: PlanId,
    connection: ConnectionDep,
    who: Viewer,
    against: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> dict[str, Any]:
    """Compare a plan with another (the current one by default): moves, splits, merges."""
    _scoped_out(who)
    other = against if against is not None else plan_rows.current_plan_id(connection)
    if other is None:
        raise NotFound("against: there is no current plan; give a plan id")
    plan_rows.plan_row(connection, plan_id)
    plan_rows.plan_row(connection, other)
    diff = diff_plans(connection, other, plan_id)
    body = {k: v for k, v in diff.items() if k not in ("before", "after")}
    body["before"] = _plain(diff["before"].reset_index())
    body["after"] = _plain(diff["after"].reset_index())
    body["moved_units"] = plan_rows.moved_units(connection, other, plan_id)
    body["from"], body["to"] = other, plan_id
    return body


@router.post("/{plan_id}/accept", name="accept_plan", response_model=Plan)
def accept(
    plan_id: PlanId,
    response: Response,
    engine: EngineDep,
    who: Admin,
    if_match: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Make a draft the current plan, archiving the old one, in one transaction (admin).

    Send the draft's ETag in ``If-Match``: the draft is accepted only as it was seen.
    """
    _scoped_out(who)
    expected = _revision(if_match)
    with engine.begin() as connection:
        accept_plan(connection, plan_id, actor=who.name, expected_revision=expected)
        body = _plan_body(connection, plan_id)
    response.headers["ETag"] = f'"{body["revision"]}"'
    return body


@router.delete("/{plan_id}", name="discard_plan", status_code=204)
def discard(
    plan_id: PlanId,
    engine: EngineDep,
    who: Planner,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Discard a draft with its grids (the current and archived plans are kept)."""
    _scoped_out(who)
    expected = None if if_match is None else _revision(if_match)
    with engine.begin() as connection:
        discard_plan(connection, plan_id, actor=who.name, expected_revision=expected)
    return Response(status_code=204)


@router.post("/{plan_id}/locks", name="lock_grids", response_model=Locked)
def lock_grids(
    plan_id: PlanId,
    body: Locks,
    response: Response,
    engine: EngineDep,
    who: Planner,
    if_match: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Lock grids (a partition never changes them) or unlock them."""
    _scoped_out(who)
    expected = None if if_match is None else _revision(if_match)
    with engine.begin() as connection:
        changed, revision = set_locks(
            connection, plan_id, body.grids, body.locked, actor=who.name, expected_revision=expected
        )
    response.headers["ETag"] = f'"{revision}"'
    return {"changed": changed, "revision": revision}


@router.post("/{plan_id}/grids", name="new_grid", status_code=201, response_model=NewGridAnswer)
def new_grid(
    plan_id: PlanId,
    body: NewGrid,
    response: Response,
    engine: EngineDep,
    who: Planner,
    if_match: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Make a new grid of these units (the next serial code of their community)."""
    _scoped_out(who)
    expected = _revision(if_match)
    with engine.begin() as connection:
        (code,), result = carve_grids(
            connection, plan_id, [body.units], expected_revision=expected, author=who.name
        )
    response.headers["ETag"] = f'"{result.revision}"'
    return {"code": code, **_edited(result)}


@router.post("/{plan_id}/grids/{code}/split", name="split_grid", response_model=SplitAnswer)
def split_grid(
    plan_id: PlanId,
    code: Annotated[str, Path(min_length=1, max_length=32)],
    body: Split,
    response: Response,
    engine: EngineDep,
    who: Planner,
    if_match: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Split a grid into ``k`` contiguous parts: say the parts (a preview), or make them.

    The part with the most households keeps the code; the others get new codes. Applying
    needs ``If-Match``; the same ``k`` and ``seed`` give the parts previewed.
    """
    _scoped_out(who)
    if not body.apply:
        with engine.connect() as plain:  # one snapshot: the parts of the revision said
            connection = plain.execution_options(isolation_level="REPEATABLE READ")
            revision = int(plan_rows.plan_row(connection, plan_id)["revision"])
            parts = propose_split(connection, plan_id, code, body.k, seed=body.seed)
        response.headers["ETag"] = f'"{revision}"'
        return {"applied": False, "revision": revision, "parts": [p.__dict__ for p in parts]}
    expected = _revision(if_match)
    with engine.begin() as connection:
        parts, result = apply_split(
            connection,
            plan_id,
            code,
            body.k,
            seed=body.seed,
            expected_revision=expected,
            author=who.name,
        )
    response.headers["ETag"] = f'"{result.revision}"'
    return {"applied": True, "parts": [p.__dict__ for p in parts], **_edited(result)}


@router.get(
    "/{plan_id}/export",
    name="export_plan",
    response_class=Response,
    responses={200: {"content": {t: {} for t in EXPORT_FORMATS.values()}}},
)
def export(
    plan_id: PlanId,
    connection: ConnectionDep,
    who: Viewer,
    format: Annotated[str, Query(pattern="^(geojson|gpkg|csv)$")] = "geojson",
) -> Response:
    """Download a plan: grid polygons (GeoJSON, GeoPackage) or each unit's grid (CSV)."""
    _scoped_out(who)
    content, _ = export_plan(connection, plan_id, format)
    name = f"plan-{plan_id}.{format}"
    return Response(
        content,
        media_type=EXPORT_FORMATS[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
