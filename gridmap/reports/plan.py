"""The plan report: households per grid against the bounds, and what changed.

It holds compactness, radius, the grids out of bounds, and the difference from the current
plan.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import shapely
from openpyxl import Workbook
from sqlalchemy import Connection

from gridmap.db import plans as plan_rows
from gridmap.db.bulk import read_geoframe
from gridmap.partition.service import diff_plans
from gridmap.plans.check import PlanCheck, check_plan, plan_bounds
from gridmap.reports.cards import TEMPLATES
from gridmap.reports.charts import histogram_svg
from gridmap.reports.pdf import print_pdf
from gridmap.reports.svg import Shape, map_svg
from gridmap.reports.words import finding_text, list_separator, template_words, translator

FORMATS = ("html", "pdf", "xlsx", "csv")
COLUMNS = {
    "code": "编码",
    "name": "名称",
    "kind": "类型",
    "community": "社区",
    "households": "户数",
    "residents": "人口",
    "units": "单元",
    "polsby_popper": "紧凑度",
    "radius_m": "半径（米）",
    "area_m2": "面积（平方米）",
    "in_bounds": "符合户数标准",
}


SUMMARY_LABELS = {
    "grids": "网格数",
    "in_bounds": "符合户数标准的网格",
    "households": "户数",
    "residents": "人口",
    "households_sd": "网格户数标准差",
    "mean_polsby_popper": "平均紧凑度（Polsby-Popper）",
    "largest_radius_m": "最大服务半径（米）",
    "check_errors": "检查错误",
    "check_warnings": "检查提示",
}
"""The summary sheet's labels."""
CHECK_WORDS = {
    "unit without grid": "单元未划入网格",
    "unit in two grids": "单元重复划入",
    "grid across communities": "网格跨社区",
    "empty grid": "空网格",
    "invalid code": "编码不规范",
    "duplicate code": "编码重复",
    "grid in pieces": "网格不连片",
    "out of bounds": "户数超出标准",
    "no households": "网格无住户",
}
"""The check's kinds of finding, in the report's words."""
DIFF_LABELS = {
    "units_moved": "调整单元",
    "households_moved": "涉及户数",
    "kept": "保留编码的网格",
    "new": "新增网格",
    "retired": "撤销网格",
    "split": "拆分",
    "merged": "合并",
}
"""The changes sheet's labels, as the HTML report's diff table words them."""


@dataclass(frozen=True)
class PlanReport:
    """Everything a plan report shows."""

    plan: dict[str, Any]
    grids: pd.DataFrame  # with min/max households and in_bounds, out of bounds first
    bounds: dict[str, dict[str, int]]  # kind → min_households, max_households
    diff: dict[str, Any] | None  # against the current plan (None: this is the current plan)
    check: PlanCheck
    shapes: Any = None  # GeoDataFrame: code, households, kind and geometry of each grid


def load_plan_report(connection: Connection, plan_id: int) -> PlanReport:
    """Read the report of plan ``plan_id``.

    Raises
    ------
    NotFound
        When there is no such plan.
    """
    plan = plan_rows.plan_row(connection, plan_id)
    bounds = plan_bounds(plan["parameters"] or {})
    grids = plan_rows.grid_figures(connection, plan_id)
    low = grids["kind"].map(lambda k: bounds.get(k, {}).get("min_households", 0))
    high = grids["kind"].map(lambda k: bounds.get(k, {}).get("max_households", 10**9))
    grids = grids.assign(
        min_households=low, max_households=high, in_bounds=grids["households"].between(low, high)
    )
    grids = grids.sort_values(["in_bounds", "code"]).reset_index(drop=True)
    current = plan_rows.current_plan_id(connection)
    diff = None
    if current is not None and current != plan_id:
        found = diff_plans(connection, current, plan_id)
        diff = {k: v for k, v in found.items() if k not in ("before", "after")} | {
            "against": current
        }
    shapes = read_geoframe(
        connection,
        """
        SELECT code, households, kind, geom FROM grid
        WHERE plan_id = :p AND geom IS NOT NULL ORDER BY code
    """,
        {"p": plan_id},
    )
    return PlanReport(
        dict(plan), grids, bounds, diff, check_plan(connection, plan_id), shapes=shapes
    )


STATUS_COLOURS = {"under": "#9ecae1", "within": "#74c476", "over": "#fb6a4a"}
"""The web map's colours for grids under, within and over their household bounds."""


def plan_map(grids: Any, bounds: dict[str, dict[str, int]], lang: str = "zh") -> str:
    """Draw a plan's grids coloured by households against their kind's bounds."""
    if grids is None or grids.empty:
        return ""
    _ = translator(lang)
    shapes = []
    for g in grids.itertuples():
        b = bounds.get(g.kind, {"min_households": 0, "max_households": 10**9})
        status = (
            "under"
            if g.households < b["min_households"]
            else "over"
            if g.households > b["max_households"]
            else "within"
        )
        shapes.append(
            Shape(
                g.geometry,
                fill=STATUS_COLOURS[status],
                stroke="#ffffff",
                stroke_width=1,
                title=_("{code} · {households} 户").format(code=g.code, households=g.households),
            )
        )
    outline = Shape(shapely.union_all([s.geometry for s in shapes]), stroke="#374151")
    return map_svg(
        [outline, *shapes], width=640, height=420, label=_("网格按户数着色"), north=_("北")
    )


def summary(report: PlanReport) -> dict[str, Any]:
    """Return the plan's headline figures."""
    g = report.grids
    return {
        "grids": len(g),
        "in_bounds": int(g["in_bounds"].sum()),
        "households": int(g["households"].sum()),
        "residents": int(g["residents"].sum()),
        "households_sd": float(g["households"].std(ddof=0)) if len(g) else 0.0,
        "mean_polsby_popper": float(g["polsby_popper"].mean()) if len(g) else 0.0,
        "largest_radius_m": float(g["radius_m"].max()) if len(g) else 0.0,
        "check_errors": len(report.check.errors),
        "check_warnings": len(report.check.warnings),
    }


def to_html(report: PlanReport, *, printable: bool = False, lang: str = "zh") -> str:
    """Return the report as one self-contained HTML page, in ``lang``."""
    urban = report.bounds["urban"]
    _ = translator(lang)
    chart = histogram_svg(
        report.grids["households"].to_numpy(),
        low=urban["min_households"],
        high=urban["max_households"],
        unit=_("户"),
        label=_("各网格户数分布（绿色为标准区间）"),
    )
    return TEMPLATES.get_template("plan.html").render(
        **template_words(lang),
        finding_text=finding_text,
        sep=list_separator(lang),
        p=report.plan,
        s=summary(report),
        grids=report.grids.to_dict(orient="records"),
        bounds=report.bounds,
        diff=report.diff,
        chart=chart,
        check=report.check,
        plan_map=plan_map(report.shapes, report.bounds, lang),
        colours=STATUS_COLOURS,
        kind_words=CHECK_WORDS,
        made=datetime.now().strftime("%Y-%m-%d %H:%M"),
    )


def _table(report: PlanReport, lang: str = "zh") -> pd.DataFrame:
    _ = translator(lang)
    return report.grids[list(COLUMNS)].rename(columns={k: _(v) for k, v in COLUMNS.items()})


def render(report: PlanReport, format: str, *, chromium: Any, lang: str = "zh") -> bytes:
    """Return the report in ``format`` (html, pdf, xlsx or csv) and ``lang`` as bytes."""
    _ = translator(lang)
    if format == "html":
        return to_html(report, lang=lang).encode("utf-8")
    if format == "pdf":
        return print_pdf(to_html(report, printable=True, lang=lang), chromium=chromium)
    if format == "csv":
        return _table(report, lang).to_csv(index=False).encode("utf-8-sig")
    if format == "xlsx":
        book = Workbook()
        sheet = book.active
        sheet.title = _("概况")
        for key, value in summary(report).items():
            sheet.append([_(SUMMARY_LABELS.get(key, key)), value])
        grids = book.create_sheet(_("网格"))
        table = _table(report, lang)
        grids.append(list(table.columns))
        for row in table.itertuples(index=False):
            grids.append(
                [None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in row]
            )
        checked = book.create_sheet(_("检查"))
        checked.append([_(h) for h in ("类别", "级别", "网格", "单元", "说明")])
        for f in report.check.findings:
            level = _("错误") if f.severity == "error" else _("提示")
            checked.append([_(CHECK_WORDS[f.kind]), level, f.grid, f.unit, finding_text(f, lang)])
        if report.diff is not None:
            changes = book.create_sheet(_("变化"))
            for key in ("units_moved", "households_moved"):
                changes.append([_(DIFF_LABELS[key]), report.diff[key]])
            for key in ("kept", "new", "retired", "split", "merged"):
                changes.append(
                    [
                        _(DIFF_LABELS[key]),
                        len(report.diff[key]),
                        list_separator(lang).join(report.diff[key]),
                    ]
                )
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    raise ValueError(format)
