"""The reports' words: Chinese by default, English with ``lang=en``.

Every label a report, its map or its spreadsheet prints is written in Chinese where it is used
and looked up here for English, so a Chinese report reads as it always did and an English one
is the same report word for word. A phrase with figures carries ``{named}`` placeholders,
filled after the lookup. ``tests`` check that every phrase the reports use has its English.
"""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup

from gridmap.plans.check import Finding

LANGUAGES = ("zh", "en")
"""The languages reports come in; ``zh`` (zh-CN) is the default."""

Translate = Callable[[str], str]

ENGLISH = {
    # the page: masthead, footer, page numbers
    "发文单位未设置（GRIDMAP_ISSUER）": "Issuing unit not set (GRIDMAP_ISSUER)",
    "生成于 {made}": "made {made}",
    "北": "N",
    "户": "households",
    # the coverage report
    "{region} 5分钟服务圈覆盖率报告": "{region}: 5-minute service circle coverage report",
    "编码 {code}": "code {code}",
    "第 {run} 次覆盖测算（步行 {minutes} 分钟 × {speed} 米/分钟 = {budget} 米，沿真实步行路网）": "coverage run {run} ({minutes} min walk × {speed} m/min = {budget} m, along the real "
    "walking network)",
    "覆盖率": "Coverage rates",
    "按{measure}：{covered} / {total}": "by {measure}: {covered} / {total}",
    "口径：一栋建筑的居民沿真实步行路网在 {budget} 米内可达最近的党群服务站即为覆盖（含到路网的接入距离）；"
    "人口、户数为各建筑导入或估算之和；居住单元指有居民的单元（不含无人居住的单元），故少于网格方案中的单元总数。": "Definitions: a building's residents are covered when the nearest party-mass service "
    "station is within {budget} m along the real walking network (the walk to the network "
    "included); residents and households are the sums of the buildings' imported or "
    "estimated figures; residential units are units with residents (units where nobody "
    "lives are left out), so there are fewer of them than units in a grid plan.",
    "服务圈与盲区": "Service circles and gaps",
    "{region} 服务圈与盲区": "{region}: service circles and gaps",
    "5分钟服务圈": "5-minute service circle",
    "{name} 5分钟服务圈": "{name}: 5-minute service circle",
    "服务盲区": "coverage gap",
    "盲区 {rank}：{residents} 人": "gap {rank}: {residents} residents",
    "党群服务站": "party-mass service station",
    "建议新站": "suggested station",
    "建议新站：{name}": "suggested station: {name}",
    "建议新站：{name}（+{gain} 人）": "suggested station: {name} (+{gain} residents)",
    "区域": "region",
    "交互地图": "Interactive map",
    "下级{level}覆盖率排名（由低到高，后五名标记 ▼）": "{level} ranked by coverage (lowest first, bottom five marked ▼)",
    "排名": "rank",
    "编码": "code",
    "名称": "name",
    "人口": "residents",
    "户数": "households",
    "居住单元": "residential units",
    "覆盖人口": "residents covered",
    "覆盖户数": "households covered",
    "覆盖居住单元": "residential units covered",
    "人口覆盖率": "coverage by residents",
    "户数覆盖率": "coverage by households",
    "居住单元覆盖率": "coverage by residential units",
    "覆盖人口 / 人口": "residents covered / residents",
    "后五名": "bottom five",
    "没有下级区域": "no regions below this one",
    "最大的服务盲区": "The largest coverage gaps",
    "序号": "no.",
    "街道": "street",
    "社区": "community",
    "网格": "grid",
    "街道 / 社区": "street / community",
    "建筑": "buildings",
    "面积（平方米）": "area (m²)",
    "区域内没有服务盲区": "no coverage gap in this region",
    "选址建议": "Where a new station helps most",
    "在 {name}（{lon}, {lat}）新设一处党群服务站，可新增覆盖 {gain} 人，全市按人口覆盖率将达 {rate}%。": "A new party-mass service station at {name} ({lon}, {lat}) would cover {gain} more "
    "residents, and the city's coverage by residents would reach {rate}%.",
    "区域内没有可用于设站的候选地点。": "There is no candidate site for a station in this region.",
    " · 数据来自第 {run} 次覆盖测算（{at}）": " · figures of coverage run {run} ({at})",
    "市": "city",
    "区县": "district",
    "概况": "summary",
    "覆盖测算": "coverage run",
    "第 {run} 次 · {minutes} 分钟 × {speed} 米/分钟": "run {run} · {minutes} min × {speed} m/min",
    "口径": "measure",
    "覆盖": "covered",
    "总数": "total",
    "盲区": "gaps",
    "选址": "siting",
    "经度": "longitude",
    "纬度": "latitude",
    "新增覆盖人口": "residents newly covered",
    "全市覆盖率（建站后）": "city coverage (with the station)",
    "{header}（%）": "{header} (%)",
    # the plan report
    "网格方案 {id} · {name}": "Grid plan {id} · {name}",
    "状态": "status",
    "草案": "draft",
    "现行": "current",
    "已归档": "archived",
    "修订 {revision}": "revision {revision}",
    "城市网格户数标准 {urban_low}–{urban_high}，农村网格 {rural_low}–{rural_high}": "households per grid: urban {urban_low}–{urban_high}, rural {rural_low}–{rural_high}",
    "符合户数标准": "within the household bounds",
    "平均紧凑度": "mean compactness",
    "最大半径（米）": "largest radius (m)",
    "网格分布（按户数着色）": "Grids coloured by households",
    "网格按户数着色": "grids coloured by households",
    "{code} · {households} 户": "{code} · {households} households",
    "低于下限": "under the minimum",
    "符合标准": "within the bounds",
    "超过上限": "over the maximum",
    "各网格户数分布（绿色为标准区间）": "Households per grid (the bounds in green)",
    "与现行方案（{against}）相比": "Against the current plan ({against})",
    "调整单元": "units moved",
    "涉及户数": "households moved",
    "保留编码的网格": "grids that keep their code",
    "新增网格": "new grids",
    "撤销网格": "retired grids",
    "拆分": "split",
    "合并": "merged",
    "方案检查": "Plan check",
    "检查项": "check",
    "级别": "severity",
    "数量": "count",
    "错误": "error",
    "提示": "warning",
    "网格一览（超出标准的在前）": "Every grid (those out of bounds first)",
    "标准": "bounds",
    "单元": "units",
    "紧凑度": "compactness",
    "半径（米）": "radius (m)",
    "类型": "kind",
    "符合户数标准的网格": "grids within the household bounds",
    "网格户数标准差": "standard deviation of households per grid",
    "平均紧凑度（Polsby-Popper）": "mean compactness (Polsby-Popper)",
    "最大服务半径（米）": "largest service radius (m)",
    "检查错误": "check errors",
    "检查提示": "check warnings",
    "网格数": "grids",
    "检查": "check",
    "类别": "kind",
    "说明": "detail",
    "变化": "changes",
    "单元未划入网格": "unit without grid",
    "单元重复划入": "unit in two grids",
    "网格跨社区": "grid across communities",
    "空网格": "empty grid",
    "编码不规范": "invalid code",
    "编码重复": "duplicate code",
    "网格不连片": "grid in pieces",
    "户数超出标准": "out of bounds",
    "网格无住户": "no households",
    # the alignment report
    "多网合一对齐报告": "Multi-net alignment report",
    "各专项网格与现行基础网格的对照：切割基础网格的区块、涉及面积和户数，以及按整网格对齐的建议（每个基础网格归入覆盖其过半面积的区块）。": "Each special net against the current base grids: the zones that cut base grids, the "
    "area and households affected, and the suggested alignment to whole grids (each base "
    "grid goes to the zone that covers more than half of it).",
    "{net}：{zones} 个区块，{cut} 处切割基础网格，受影响 {households} 户": "{net}: {zones} zones, {cut} cuts through base grids, {households} households affected",
    "{net} 与基础网格": "{net} and the base grids",
    "区块": "zone",
    "切割网格": "grids cut",
    "切割面积（m²）": "area cut (m²)",
    "受影响户数": "households affected",
    "建议对齐为": "aligned to",
    "并入": "adds",
    "划出": "drops",
    "专项网": "net",
    "涉及网格": "grids touched",
    "切割面积（平方米）": "area cut (m²)",
    "建议对齐网格": "aligned to grids",
    # the ranking report
    "{region} 网格治理综合排名": "{region}: grid governance ranking",
    "按{level}排名": "{level}s ranked",
    "权重：{weights}。各项得分 0–100：覆盖率 × 100；每千户工单与每名网格员服务人口在参与排名者中最少者 100 分、最多者 0 分，按比例计分（有居民而无网格员者 0 分）；户数在标准内的网格占比 × 100。无法计算的项记 0 分。": "Weights: {weights}. Each score runs from 0 to 100: the coverage rate × 100; tickets "
    "per 1,000 households and residents per grid worker score 100 for the fewest among those "
    "ranked and 0 for the most, in proportion between (residents with no grid worker score "
    "0); the share of grids whose households lie within the bounds × 100. A figure that "
    "cannot be had scores 0.",
    "后五名：{names}": "Bottom five: {names}",
    "参与排名者不足六个，不标后五名。": "Fewer than six ranked: no bottom five.",
    "综合得分": "score",
    "覆盖率（%）": "coverage (%)",
    "工单数": "tickets",
    "每千户工单": "tickets per 1,000 households",
    "每名网格员服务人口": "residents per grid worker",
    "户数达标网格占比（%）": "grids within bounds (%)",
    "覆盖得分": "coverage score",
    "工单得分": "tickets score",
    "人员得分": "staffing score",
    "规模得分": "bounds score",
    "5分钟覆盖率": "5-minute coverage",
    "户数达标": "households within bounds",
    "最早": "the first",
    "至今": "now",
    "全部类型": "all kinds",
    "工单：{since} 至 {until}（不含当日），{kinds}": "tickets: {since} to {until} (not included), {kinds}",
    "权重": "weights",
    "工单": "tickets",
}
"""Every phrase a report prints, in English."""


def translator(lang: str) -> Translate:
    """Return the function that puts a report's Chinese phrase into ``lang``.

    >>> translator("en")("覆盖率"), translator("zh")("覆盖率")
    ('Coverage rates', '覆盖率')
    """
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    if lang == "zh":
        return lambda phrase: phrase
    return lambda phrase: ENGLISH.get(phrase, phrase)


def list_separator(lang: str) -> str:
    """Return how a report joins a list of codes: 、 in Chinese, a comma in English."""
    return ", " if lang == "en" else "、"


FINDINGS_ZH = {
    "unit without grid": "单元 {unit} 未划入任何网格",
    "unit in two grids": "单元 {unit} 同时划入 {grids} 个网格",
    "grid across communities": "网格 {grid} 含 {communities} 个社区的单元；一个网格只在一个社区内",
    "empty grid": "网格 {grid} 不含任何单元",
    "invalid code": "网格编码 {grid} 不是所在社区编码 {community} 加 3 位序号",
    "duplicate code": "网格编码 {grid} 重复使用",
    "grid in pieces": "网格 {grid} 分为 {pieces} 块互不相连的部分（其间没有沿街相接，仅角点相接不算相连）",
    "out of bounds": "网格 {grid} 有 {households} 户，超出 {low}–{high} 户的标准",
    "no households": "网格 {grid} 没有住户",
}
"""The plan check's findings in Chinese (the check itself words them in English)."""
WHY_ZH = {
    "largest_unit": "：其中一个单元就有 {largest_unit} 户",
    "community_households": "：整个社区只有 {community_households} 户",
}
"""Why a grid's bounds cannot be met, in Chinese."""


def finding_text(finding: Finding, lang: str) -> str:
    """Return a plan check finding as a report in ``lang`` prints it.

    >>> f = Finding("out of bounds", "warning", "…", "110101001001001", None,
    ...             {"households": 620, "low": 300, "high": 500, "largest_unit": 560})
    >>> finding_text(f, "zh")
    '网格 110101001001001 有 620 户，超出 300–500 户的标准：其中一个单元就有 560 户'
    """
    if lang == "en":
        return finding.message
    text = FINDINGS_ZH[finding.kind].format(grid=finding.grid, unit=finding.unit, **finding.detail)
    return text + "".join(WHY_ZH[k].format(**finding.detail) for k in WHY_ZH if k in finding.detail)


def template_words(lang: str) -> dict[str, object]:
    """Return what a report template needs to speak ``lang``: ``_`` and ``lang``.

    In a template ``_`` returns the phrase as markup: ``.format`` then escapes the figures
    and names put into it (a region named ``<b>`` prints as text) and keeps markup given as
    markup (a bold figure).
    """
    translate = translator(lang)
    return {"_": lambda phrase: Markup(translate(phrase)), "lang": lang}
