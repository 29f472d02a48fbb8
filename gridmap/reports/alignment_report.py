"""The multi-net alignment report (多网合一), per special net.

It lists the zones that cut across base grids, with the area and households affected and the
suggested snapping to whole grids.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import geopandas as gpd
import pandas as pd
from openpyxl import Workbook
from sqlalchemy import Connection

from gridmap.alignment import Alignment, align
from gridmap.db import reports as report_rows
from gridmap.errors import InvalidInput
from gridmap.reports.cards import TEMPLATES
from gridmap.reports.pdf import print_pdf
from gridmap.reports.svg import Shape, map_svg
from gridmap.reports.words import list_separator, template_words, translator

FORMATS = ("html", "pdf", "xlsx", "csv")
HEADERS = {
    "net": "专项网",
    "code": "编码",
    "name": "名称",
    "grids_touched": "涉及网格",
    "grids_cut": "切割网格",
    "cut_area_m2": "切割面积（平方米）",
    "households_affected": "受影响户数",
    "snapped": "建议对齐网格",
    "adds": "并入",
    "drops": "划出",
}


@dataclass(frozen=True)
class NetAlignment:
    """One net's alignment, with what its map draws (WGS 84)."""

    net: str
    result: Alignment
    zones: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame


def load_alignment(connection: Connection, net: str | None = None) -> list[NetAlignment]:
    """Align every special net (or ``net``) with the current plan's grids.

    Raises
    ------
    InvalidInput
        When there is no such net, or no current plan.
    """
    zones = report_rows.overlay_zones(connection, net)
    if zones.empty:
        raise InvalidInput(
            f"net: there is no special net{' ' + repr(net) if net else ''}; "
            "import one with gridmap import overlays"
        )
    grids = report_rows.current_grids(connection)
    if grids.empty:
        raise InvalidInput("there is no current plan to align the nets with")
    units = report_rows.current_units(connection)
    metric = grids.estimate_utm_crs()
    grids_m, units_m = grids.to_crs(metric), units.to_crs(metric)
    out = []
    for name, part in zones.groupby("net", sort=True):
        result = align(part.to_crs(metric).reset_index(drop=True), grids_m, units_m)
        out.append(NetAlignment(str(name), result, part.reset_index(drop=True), grids))
    return out


def net_map(net: NetAlignment, lang: str = "zh") -> str:
    """Draw the net's zones over the grids, the cut grids shaded."""
    _ = translator(lang)
    cut = set(net.result.pairs.loc[net.result.pairs["cut"], "grid"])
    shapes = [Shape(net.zones.geometry.union_all(), fill="none", stroke="#ffffff", stroke_width=0)]
    shapes += [
        Shape(
            g,
            fill="#fde68a" if c in cut else "#f3f4f6",
            stroke="#9ca3af",
            stroke_width=0.8,
            title=c,
        )
        for g, c in zip(net.grids.geometry, net.grids["code"], strict=True)
    ]
    shapes += [
        Shape(g, stroke="#7c3aed", stroke_width=2, title=f"{code} {name}")
        for g, code, name in zip(
            net.zones.geometry, net.zones["code"], net.zones["name"], strict=True
        )
    ]
    return map_svg(
        shapes,
        width=640,
        height=420,
        label=_("{net} 与基础网格").format(net=net.net),
        north=_("北"),
    )


def table(nets: list[NetAlignment], lang: str = "zh") -> pd.DataFrame:
    """Return every zone's row, lists joined, with headers in ``lang``."""
    _ = translator(lang)
    frame = pd.concat([n.result.zones for n in nets], ignore_index=True)
    for column in ("snapped", "adds", "drops"):
        frame[column] = frame[column].map(list_separator(lang).join)
    return frame[list(HEADERS)].rename(columns={k: _(v) for k, v in HEADERS.items()})


def to_html(nets: list[NetAlignment], lang: str = "zh") -> str:
    """Return the report as one self-contained HTML page, in ``lang``."""
    return TEMPLATES.get_template("alignment.html").render(
        **template_words(lang),
        sep=list_separator(lang),
        nets=[
            {
                "net": n.net,
                "zones": n.result.zones.to_dict(orient="records"),
                "map": net_map(n, lang),
                "cut": int(n.result.pairs["cut"].sum()),
                "households": int(n.result.zones["households_affected"].sum()),
            }
            for n in nets
        ],
        made=datetime.now().strftime("%Y-%m-%d %H:%M"),
    )


def render(nets: list[NetAlignment], format: str, *, chromium: Any, lang: str = "zh") -> bytes:
    """Return the report in ``format`` (html, pdf, xlsx or csv) and ``lang`` as bytes."""
    if format == "html":
        return to_html(nets, lang).encode("utf-8")
    if format == "pdf":
        return print_pdf(to_html(nets, lang), chromium=chromium)
    if format == "csv":
        return table(nets, lang).to_csv(index=False).encode("utf-8-sig")
    if format == "xlsx":
        book = Workbook()
        book.remove(book.active)
        rows = table(nets, lang)
        for net in nets:
            sheet = book.create_sheet(net.net[:31])
            mine = rows.loc[rows[translator(lang)(HEADERS["net"])] == net.net]
            sheet.append(list(mine.columns))
            for row in mine.itertuples(index=False):
                sheet.append([v.item() if hasattr(v, "item") else v for v in row])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    raise ValueError(format)
