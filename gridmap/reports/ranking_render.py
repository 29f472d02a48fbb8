"""The ranking report as HTML, PDF, XLSX or CSV: one table, the weights stated, the bottom five.

Every format prints the same figures from the same :class:`~gridmap.reports.ranking.Ranking`,
rounded the same way (scores to one decimal, rates in percent to one decimal).
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from gridmap.reports.cards import TEMPLATES
from gridmap.reports.coverage_report import LEVEL_NAMES
from gridmap.reports.pdf import print_pdf
from gridmap.reports.ranking import Ranking
from gridmap.reports.words import list_separator, template_words, translator

COLUMNS = {
    "rank": "排名",
    "code": "编码",
    "name": "名称",
    "score": "综合得分",
    "coverage": "覆盖率（%）",
    "tickets": "工单数",
    "per_1000": "每千户工单",
    "per_worker": "每名网格员服务人口",
    "within": "户数达标网格占比（%）",
    "score_coverage": "覆盖得分",
    "score_tickets": "工单得分",
    "score_staffing": "人员得分",
    "score_bounds": "规模得分",
    "bottom": "后五名",
}
"""The table's columns and their headers."""
WEIGHT_NAMES = {
    "coverage": "5分钟覆盖率",
    "tickets": "每千户工单",
    "staffing": "每名网格员服务人口",
    "bounds": "户数达标",
}
PERCENT = ("coverage", "within")


def table(ranking: Ranking, lang: str = "zh") -> pd.DataFrame:
    """Return the ranked parts as printed: percents and scores rounded, headers in ``lang``."""
    _ = translator(lang)
    out = ranking.parts[list(COLUMNS)].copy()
    for name in PERCENT:
        out[name] = (out[name].astype(float) * 100).round(1)
    for name in ("score", "score_coverage", "score_tickets", "score_staffing", "score_bounds"):
        out[name] = out[name].astype(float).round(1)
    out["per_1000"] = out["per_1000"].astype(float).round(1)
    out["per_worker"] = out["per_worker"].astype(float).round(0)
    for name in ("tickets", "rank"):
        out[name] = out[name].astype(int)
    return out.rename(columns={k: _(v) for k, v in COLUMNS.items()})


def weights_line(ranking: Ranking, lang: str = "zh") -> str:
    """Return the weights as the report states them."""
    _ = translator(lang)
    parts = [f"{_(WEIGHT_NAMES[name])} {round(w * 100)}%" for name, w in ranking.weights.items()]
    return list_separator(lang).join(parts)


def window_line(ranking: Ranking, lang: str = "zh") -> str:
    """Return the tickets' window and kinds."""
    _ = translator(lang)
    f = ranking.tickets
    since = f.since.isoformat() if f.since else _("最早")
    until = f.until.isoformat() if f.until else _("至今")
    kinds = list_separator(lang).join(f.kinds) if f.kinds else _("全部类型")
    return _("工单：{since} 至 {until}（不含当日），{kinds}").format(
        since=since, until=until, kinds=kinds
    )


def to_csv(ranking: Ranking, lang: str = "zh") -> bytes:
    """Return the table as CSV, UTF-8 with a BOM (as spreadsheets open it)."""
    return table(ranking, lang).to_csv(index=False).encode("utf-8-sig")


def to_xlsx(ranking: Ranking, lang: str = "zh") -> bytes:
    """Return a workbook: 排名 (the table, the bottom five shaded) and 说明 (weights, window)."""
    _ = translator(lang)
    book = Workbook()
    sheet = book.active
    sheet.title = _("排名")
    frame = table(ranking, lang)
    sheet.append(list(frame.columns))
    mark = PatternFill("solid", fgColor="FEE2E2")
    for row in frame.itertuples(index=False):
        sheet.append([None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in row])
        if row[-1]:
            for cell in sheet[sheet.max_row]:
                cell.fill = mark
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    notes = book.create_sheet(_("说明"))
    notes.append([_("区域"), f"{ranking.region['name']} ({ranking.region['code']})"])
    notes.append([_("权重"), weights_line(ranking, lang)])
    notes.append([_("工单"), window_line(ranking, lang)])
    notes.append([_("覆盖测算"), ranking.run])
    notes.append([_("后五名"), list_separator(lang).join(ranking.bottom)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_html(ranking: Ranking, lang: str = "zh") -> str:
    """Return the report as one self-contained HTML page (A4 when printed)."""
    frame = table(ranking, lang)
    return TEMPLATES.get_template("ranking.html").render(
        **template_words(lang),
        r=ranking,
        level_name=LEVEL_NAMES.get(ranking.level, ranking.level),
        headers=list(frame.columns),
        rows=frame.to_dict(orient="split")["data"],
        weights=weights_line(ranking, lang),
        window=window_line(ranking, lang),
        bottom=list_separator(lang).join(ranking.bottom),
        made=datetime.now().strftime("%Y-%m-%d %H:%M"),
    )


def render(ranking: Ranking, format: str, *, chromium: Path, lang: str = "zh") -> bytes:
    """Return the report in ``format`` (html, pdf, xlsx or csv) and ``lang``, as bytes."""
    if format == "html":
        return to_html(ranking, lang).encode("utf-8")
    if format == "pdf":
        return print_pdf(to_html(ranking, lang), chromium=chromium)
    if format == "xlsx":
        return to_xlsx(ranking, lang)
    if format == "csv":
        return to_csv(ranking, lang)
    raise ValueError(format)
