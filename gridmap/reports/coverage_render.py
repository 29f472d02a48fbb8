"""A coverage-rate report as HTML (with a static map and an interactive one), PDF, XLSX or CSV."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import folium
import pandas as pd
import shapely
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from gridmap.reports.cards import TEMPLATES
from gridmap.reports.coverage_report import LEVEL_NAMES, MEASURES, CoverageReport
from gridmap.reports.leaflet import blank_map, self_contained
from gridmap.reports.pdf import print_pdf
from gridmap.reports.svg import Shape, map_svg
from gridmap.reports.words import template_words, translator

FORMATS = ("html", "pdf", "xlsx", "csv")
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
MEASURE_NAMES = {"residents": "人口", "households": "户数", "units": "居住单元"}
"""What each rate counts. A coverage rate by units counts residential units only (those with
residents), so it is "居住单元" here, never the plain "单元" a plan counts all units by."""
PART_COLUMNS = [
    "rank",
    "code",
    "name",
    "residents",
    "covered_residents",
    "rate_residents",
    "households",
    "covered_households",
    "rate_households",
    "units",
    "covered_units",
    "rate_units",
    "bottom",
]
PART_HEADERS = [
    "排名",
    "编码",
    "名称",
    "人口",
    "覆盖人口",
    "人口覆盖率",
    "户数",
    "覆盖户数",
    "户数覆盖率",
    "居住单元",
    "覆盖居住单元",
    "居住单元覆盖率",
    "后五名",
]


def static_map(
    report: CoverageReport, *, width: int = 640, height: int = 420, lang: str = "zh"
) -> str:
    """Draw the region with its circles, gaps, sub-regions and stations, as inline SVG."""
    _ = translator(lang)
    shapes = [Shape(report.boundary, fill="#fafaf9", stroke="#54278f", stroke_width=2.5)]
    shapes += _basemap(report)
    shapes += [Shape(g, stroke="#9ca3af", stroke_width=0.8) for g in report.part_shapes.geometry]
    shapes += [
        Shape(
            g,
            fill="#6baed6",
            stroke="#2171b5",
            stroke_width=1,
            opacity=0.45,
            title=_("{name} 5分钟服务圈").format(name=name),
        )
        for g, name in zip(report.circles.geometry, report.circles["name"], strict=True)
    ]
    shapes += [
        Shape(
            g,
            fill="#de2d26",
            stroke="#a50f15",
            stroke_width=0.8,
            opacity=0.6,
            title=_("盲区 {rank}：{residents} 人").format(rank=rank + 1, residents=residents),
        )
        for g, rank, residents in zip(
            report.gaps.geometry, report.gaps["rank"], report.gaps["residents"], strict=True
        )
    ]
    shapes += [
        Shape(g, fill="#d7301f", stroke="#ffffff", stroke_width=1.5, radius=5, title=name)
        for g, name in zip(report.stations.geometry, report.stations["name"], strict=True)
    ]
    if report.site is not None:
        shapes.append(
            Shape(
                shapely.Point(report.site.lon, report.site.lat),
                fill="#ff7f00",
                stroke="#ffffff",
                stroke_width=1.5,
                radius=7,
                title=_("建议新站：{name}").format(name=report.site.name),
            )
        )
    names = report.part_shapes.get("name", pd.Series([None] * len(report.part_shapes)))
    shapes += [
        Shape(g.representative_point(), stroke="#374151", text=str(name or code))
        for g, name, code in zip(
            report.part_shapes.geometry, names, report.part_shapes["code"], strict=True
        )
    ]
    label = _("{region} 服务圈与盲区").format(region=report.region["name"])
    return map_svg(shapes, width=width, height=height, label=label, north=_("北"))


MAJOR_STREETS = ("motorway", "trunk", "primary", "secondary", "tertiary")
"""Street kinds drawn wider on report maps."""


def _basemap(report: CoverageReport) -> list[Shape]:
    """Return the city's own streets and water as shapes to draw first (no third-party tiles)."""
    if report.basemap is None or report.basemap.empty:
        return []
    shapes = []
    for g, layer, kind in zip(
        report.basemap.geometry, report.basemap["layer"], report.basemap["kind"], strict=True
    ):
        if g is None or g.is_empty:
            continue
        if layer == "water":
            shapes.append(Shape(g, fill="#bfdbfe", stroke="none", stroke_width=0))
        else:
            wide = kind in MAJOR_STREETS
            shapes.append(Shape(g, stroke="#d1d5db", stroke_width=2.2 if wide else 0.9))
    return shapes


def interactive_map(report: CoverageReport, lang: str = "zh") -> str:
    """Return a self-contained folium page of the same map, to pan, zoom and hover."""
    _ = translator(lang)
    m = blank_map(tuple(report.boundary.bounds))
    outline = {"color": "#54278f", "weight": 3, "fill": False}
    folium.GeoJson(
        shapely.geometry.mapping(report.boundary), name=_("区域"), style_function=lambda _: outline
    ).add_to(m)
    layers = [
        (report.circles, _("5分钟服务圈"), "#2171b5", ["name", "residents"]),
        (report.gaps, _("服务盲区"), "#de2d26", ["rank", "residents", "households"]),
    ]
    for frame, name, colour, fields in layers:
        if len(frame):
            folium.GeoJson(
                json.loads(frame.to_json()),
                name=name,
                style_function=lambda _, c=colour: {"color": c, "weight": 1, "fillOpacity": 0.35},
                tooltip=folium.GeoJsonTooltip(fields=fields),
            ).add_to(m)
    for point, station in zip(report.stations.geometry, report.stations["name"], strict=True):
        folium.CircleMarker(
            [point.y, point.x],
            radius=6,
            color="#ffffff",
            fill=True,
            fill_color="#d7301f",
            fill_opacity=1,
            tooltip=station,
        ).add_to(m)
    if (site := report.site) is not None:
        folium.CircleMarker(
            [site.lat, site.lon],
            radius=8,
            color="#ffffff",
            fill=True,
            fill_color="#ff7f00",
            fill_opacity=1,
            tooltip=_("建议新站：{name}（+{gain} 人）").format(
                name=site.name, gain=site.gain_residents
            ),
        ).add_to(m)
    folium.LayerControl().add_to(m)
    return self_contained(m)


def to_html(report: CoverageReport, *, interactive: bool = True, lang: str = "zh") -> str:
    """Return the report as one self-contained HTML page (A4 when printed), in ``lang``."""
    return TEMPLATES.get_template("coverage.html").render(
        **template_words(lang),
        r=report,
        level_names=LEVEL_NAMES,
        measure_names=MEASURE_NAMES,
        measures=MEASURES,
        parts=report.parts.to_dict(orient="records"),
        gaps=report.gaps.drop(columns="geometry").to_dict(orient="records"),
        static_map=static_map(report, lang=lang),
        interactive=interactive_map(report, lang) if interactive else None,
        made=datetime.now().strftime("%Y-%m-%d %H:%M"),
    )


def to_pdf(report: CoverageReport, *, chromium: Path, lang: str = "zh") -> bytes:
    """Print the report to PDF (the static map; an interactive one cannot be printed)."""
    return print_pdf(to_html(report, interactive=False, lang=lang), chromium=chromium)


def _parts_table(report: CoverageReport, lang: str = "zh") -> pd.DataFrame:
    own = {"rank": 0, "code": report.region["code"], "name": report.region["name"], "bottom": False}
    for m in MEASURES:
        own |= {
            m: report.rates[m]["total"],
            f"covered_{m}": report.rates[m]["covered"],
            f"rate_{m}": report.rates[m]["rate"],
        }
    table = pd.concat([pd.DataFrame([own]), report.parts], ignore_index=True)[PART_COLUMNS]
    _ = translator(lang)
    return table.rename(columns={c: _(h) for c, h in zip(PART_COLUMNS, PART_HEADERS, strict=True)})


RATE_HEADERS = ("人口覆盖率", "户数覆盖率", "居住单元覆盖率")


def to_csv(report: CoverageReport, lang: str = "zh") -> bytes:
    """Return the region (rank 0) and its ranked parts, one row each, UTF-8 with a BOM.

    Rates are percentages rounded to one decimal, as the report prints them (a spreadsheet
    opening the CSV shows 23.5, not 0.23456789012345).
    """
    _ = translator(lang)
    table = _parts_table(report, lang)
    rates = [_(h) for h in RATE_HEADERS]
    for header in rates:
        table[header] = (pd.to_numeric(table[header]) * 100).round(1)
    table = table.rename(columns={h: _("{header}（%）").format(header=h) for h in rates})
    return table.to_csv(index=False).encode("utf-8-sig")


def to_xlsx(report: CoverageReport, lang: str = "zh") -> bytes:
    """Return a workbook: 概况 (rates), 排名 (ranked parts), 盲区 (gaps), 选址 (the site)."""
    _ = translator(lang)
    book = Workbook()
    summary = book.active
    summary.title = _("概况")
    region = report.region
    summary.append(
        [
            _("区域"),
            f"{region['name']}（{region['code']}）"
            if lang == "zh"
            else f"{region['name']} ({region['code']})",
        ]
    )
    summary.append(
        [
            _("覆盖测算"),
            _("第 {run} 次 · {minutes} 分钟 × {speed} 米/分钟").format(
                run=report.run["id"],
                minutes=f"{report.run['minutes']:g}",
                speed=f"{report.run['speed_m_per_min']:g}",
            ),
        ]
    )
    summary.append([])
    summary.append([_("口径"), _("覆盖"), _("总数"), _("覆盖率")])
    for m in MEASURES:
        r = report.rates[m]
        summary.append([_(MEASURE_NAMES[m]), r["covered"], r["total"], r["rate"]])
        summary.cell(summary.max_row, 4).number_format = "0.00%"
    ranking = book.create_sheet(_("排名"))
    table = _parts_table(report, lang)
    ranking.append(list(table.columns))
    mark = PatternFill("solid", fgColor="FEE2E2")
    for row in table.itertuples(index=False):
        ranking.append(
            [None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in row]
        )
        if row[-1]:
            for cell in ranking[ranking.max_row]:
                cell.fill = mark
    for column in ("F", "I", "L"):
        for cell in ranking[column][1:]:
            cell.number_format = "0.00%"
    for cell in ranking[1]:
        cell.font = Font(bold=True)
    gaps = book.create_sheet(_("盲区"))
    gaps.append(
        [_(h) for h in ("序号", "街道", "社区", "网格", "人口", "户数", "建筑", "面积（平方米）")]
    )
    for g in report.gaps.itertuples():
        gaps.append(
            [
                int(g.rank) + 1,
                g.street_name or g.street,
                g.community_name or g.community,
                g.grid,
                int(g.residents),
                int(g.households),
                int(g.buildings),
                None if pd.isna(g.area_m2) else round(float(g.area_m2), 1),
            ]
        )
    site = book.create_sheet(_("选址"))
    site.append(
        [_(h) for h in ("建议新站", "经度", "纬度", "新增覆盖人口", "全市覆盖率（建站后）")]
    )
    if report.site is not None:
        s = report.site
        site.append([s.name, s.lon, s.lat, s.gain_residents, s.rate_after])
        site.cell(2, 5).number_format = "0.00%"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render(report: CoverageReport, format: str, *, chromium: Path, lang: str = "zh") -> bytes:
    """Return the report in ``format`` (html, pdf, xlsx or csv) and ``lang``, as bytes."""
    if format == "html":
        return to_html(report, lang=lang).encode("utf-8")
    if format == "pdf":
        return to_pdf(report, chromium=chromium, lang=lang)
    if format == "xlsx":
        return to_xlsx(report, lang)
    if format == "csv":
        return to_csv(report, lang)
    raise ValueError(format)
