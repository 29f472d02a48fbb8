"""What the JSON routes answer, as models: the OpenAPI document shows them, FastAPI checks them.

The routes build plain dicts (from the library's rows and frames); each route names its model
as ``response_model``, so a key missing or of the wrong type is a server error in the tests,
never a silent change to what portals read.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class JobProgress(BaseModel):
    """How far a job has got."""

    step: int
    steps: int
    message: str | None
    fraction: float = Field(ge=0, le=1)


class Job(BaseModel):
    """A job: its status, progress and, when done, its result or error."""

    id: int
    kind: str = Field(examples=["partition", "coverage"])
    status: str = Field(examples=["queued", "running", "succeeded", "failed", "cancelled"])
    owner: str
    plan: int | None
    base_revision: int | None = Field(description="The plan's revision the job started from")
    progress: JobProgress
    result: dict[str, Any] | None
    error: str | None
    cancel_requested: bool
    created_at: str
    started_at: str | None
    finished_at: str | None


class PlanSummary(BaseModel):
    """A plan's figures over its grids."""

    households: int
    mean_polsby_popper: float
    min_polsby_popper: float
    largest_radius_m: float
    households_sd: float


class Plan(BaseModel):
    """A plan with its summary figures (its revision is also its ETag)."""

    id: int
    name: str
    status: str = Field(examples=["draft", "current", "archived"])
    parent_id: int | None
    revision: int
    parameters: dict[str, Any]
    grids: int
    summary: PlanSummary | None = None


class PlanListed(BaseModel):
    """A plan in the list of plans."""

    id: int
    name: str
    status: str
    parent_id: int | None
    revision: int
    created_at: str
    grids: int


class GridFigures(BaseModel):
    """A grid of a plan with its figures."""

    code: str
    name: str | None
    kind: str
    community: str
    locked: bool
    households: int
    residents: int
    governance_load: float | None
    area_m2: float | None
    radius_m: float | None
    polsby_popper: float | None
    units: int


class EditAnswer(BaseModel):
    """An edit applied: the plan's new revision, the grids it changed, what to look at."""

    revision: int
    grids: list[dict[str, Any]]
    warnings: list[str]


class NewGridAnswer(EditAnswer):
    """A new grid made: its code, and the edit's answer."""

    code: str


class SplitPart(BaseModel):
    """A part of a split grid: its units, figures and code (null until it is made)."""

    units: list[str]
    households: int
    residents: int
    code: str | None


class SplitAnswer(BaseModel):
    """A grid's split: the parts, previewed or made (then the edit's figures and warnings)."""

    applied: bool
    revision: int
    parts: list[SplitPart]
    grids: list[dict[str, Any]] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class Finding(BaseModel):
    """One thing wrong with (or worth a look in) a plan."""

    kind: str
    severity: str = Field(examples=["error", "warning"])
    message: str
    grid: str | None
    unit: str | None
    detail: dict[str, Any]


class PlanCheck(BaseModel):
    """A plan's integrity check."""

    plan: int
    ok: bool
    grids: int
    units: int
    errors: int
    warnings: int
    counts: dict[str, int]
    findings: list[Finding]


class StaffLeft(BaseModel):
    """The people of a grid that a plan retires."""

    grid: str
    leader: str | None
    workers: list[str]


class PlanDiff(BaseModel):
    """Two plans compared: units moved, grids kept, split, merged, new and retired."""

    model_config = {"populate_by_name": True}

    units_moved: int
    households_moved: int
    kept: list[str]
    new: list[str]
    retired: list[str]
    staff_without_grid: list[StaffLeft] = Field(
        description="The leader and workers of each retired grid: people left without a grid"
    )
    split: list[str]
    merged: list[str]
    before: list[dict[str, Any]]
    after: list[dict[str, Any]]
    moved_units: list[dict[str, Any]]
    from_: int = Field(alias="from", serialization_alias="from")
    to: int


class Locked(BaseModel):
    """Grids locked or unlocked."""

    changed: int
    revision: int


class Station(BaseModel):
    """A station with its contacts and the community it stands in."""

    code: str
    name: str
    kind: str | None
    services: list[str]
    capacity_residents: int | None
    address: str | None
    opening_hours: str | None
    phone: str | None
    lon: float
    lat: float
    community: str | None


class Removed(BaseModel):
    """The codes of the stations removed."""

    removed: list[str]


class StationsReplaced(BaseModel):
    """A file of stations made the whole list."""

    stations: int = Field(description="How many stations the file holds")
    removed: list[str] = Field(description="The codes of the stations the file no longer has")
    notes: list[str]


class Totals(BaseModel):
    """Covered residents and households against all."""

    covered_residents: int
    residents: int
    covered_households: int
    households: int
    rate: float = Field(ge=0, le=1)


class CommunityChange(BaseModel):
    """A community's covered residents before and after a what-if."""

    community: str
    residents: int
    covered_before: int
    covered_after: int


class WhatIfAnswer(BaseModel):
    """The rates now and with the stations changed as asked."""

    before: Totals
    after: Totals
    communities: list[CommunityChange]
    region: str | None
    circles: dict[str, Any] = Field(
        description="GeoJSON: the walking circle of each station added (new-1, …) or moved"
    )
    buildings: dict[str, Any] = Field(
        description="GeoJSON points: the buildings whose coverage changed, `covered` after"
    )
    buildings_gained: int = Field(description="Buildings newly covered")
    buildings_lost: int = Field(description="Buildings no longer covered")


class Site(BaseModel):
    """A suggested station site and the residents it would add."""

    label: str
    name: str | None
    lon: float
    lat: float
    gain: int


class SitingAnswer(BaseModel):
    """New stations suggested, and the rate they would reach."""

    before_rate: float
    after_rate: float
    target_reached: bool
    sites: list[Site]
    exact_rate: float | None
    note: str | None


class Token(BaseModel):
    """A short-lived, read-only embed token."""

    token: str
    expires_at: str
    region: str | None
    layers: list[str] | None
