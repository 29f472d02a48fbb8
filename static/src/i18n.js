// The words of the page in Chinese (default) and English, and switching between them.

import { load, save } from './store.js';

const WORDS = {
  zh: {
    title: '全市一张图',
    'mode.browse': '浏览', 'mode.edit': '编辑方案', 'mode.repartition': '自动调整',
    'mode.coverage': '服务圈覆盖',
    'search.placeholder': '搜索网格、社区、单元、服务站', 'search.none': '没有找到',
    'key.sign_in': '密钥', 'key.prompt': '请输入 API 密钥（gm_…）；留空则退出',
    'key.public': '公开浏览', 'key.rejected': '密钥无效或已吊销',
    'role.viewer': '查看', 'role.planner': '规划', 'role.admin': '管理',
    'browse.heading': '网格着色', 'browse.hint': '点击网格查看其户数、人口、负荷、人员与覆盖率。',
    'colour.households': '户数与标准', 'colour.coverage': '5分钟覆盖率', 'colour.load': '治理负荷',
    'colour.tickets': '12345 工单热点',
    'legend.hot': '工单热点（每千户 > {rate} 件）', 'legend.cold': '其余网格',
    'hotspots.caption': '{window}每千户工单高于{reference}第{percentile}百分位（{threshold} 件）的网格：{n} 个',
    'hotspots.item': '{name}：{n} 件，每千户 {rate} 件', 'hotspots.none': '没有突出的网格',
    'hotspots.city': '全市', 'hotspots.region': '本区域',
    'layers.heading': '图层', 'legend.heading': '图例',
    'layer.basemap': '底图', 'layer.regions': '社区界线', 'layer.grids': '网格', 'layer.units': '单元',
    'layer.buildings': '建筑（覆盖）', 'layer.stations': '党群服务站', 'layer.circles': '5分钟服务圈',
    'layer.gaps': '服务盲区', 'layer.labels': '标注',
    'legend.under': '低于下限', 'legend.within': '符合标准', 'legend.over': '超过上限',
    'legend.covered': '已覆盖建筑', 'legend.uncovered': '未覆盖建筑', 'legend.circle': '服务圈',
    'legend.gap': '盲区', 'legend.station': '服务站', 'legend.load_low': '负荷低',
    'legend.load_high': '负荷高', 'legend.moved': '调整的单元',
    'legend.ticket_hexagons': '六边形内工单数（浅少深多）', 'legend.ticket_points': '工单（15 级起逐件显示）',
    'legend.target': '目标网格', 'legend.by_grid': '单元按所属网格着色', 'legend.none': '无数据',
    'grid.code': '编码', 'grid.kind': '类型', 'grid.community': '所属社区', 'grid.households': '户数',
    'grid.residents': '人口', 'grid.load': '治理负荷', 'grid.leader': '网格长',
    'grid.workers': '网格员', 'grid.per_worker': '人均服务人口', 'grid.area': '面积',
    'grid.radius': '服务半径', 'grid.compactness': '紧凑度', 'grid.coverage': '5分钟覆盖率',
    'grid.station': '服务站', 'grid.units': '单元数', 'grid.none': '未配备', 'grid.plan': '方案',
    'compare.label': '前后对比', 'compare.date': '变化日期', 'compare.months': '各{n}个月', 'compare.go': '对比',
    'compare.result': '前{n}个月 {before} 件 → 后{n}个月 {after} 件（{change}）；{reference}同期 {trend}；相对{reference} {against}',
    'tickets.window': '工单时段', 'tickets.kind': '类型', 'tickets.all_kinds': '全部类型',
    'tickets.months_1': '近1个月', 'tickets.months_3': '近3个月', 'tickets.months_12': '近12个月',
    'tickets.months_all': '全部', 'layer.events': '12345 工单',
    'tickets.heading': '12345 工单（近{months}个月）', 'tickets.month': '{month}：{n} 件',
    'tickets.summary': '共 {n} 件，每千户 {rate} 件', 'tickets.summary_no_households': '共 {n} 件（无住户）',
    'grid.card': '网格服务卡（可打印、扫码）',
    'kind.urban': '城市网格', 'kind.suburban': '城郊网格', 'kind.rural': '农村网格',
    'kind.dedicated': '专属网格',
    'edit.heading': '编辑草案', 'edit.new': '新建草案', 'edit.undo': '撤销', 'edit.redo': '重做',
    'edit.hint': '先选目标网格，再点击、画笔或套索单元，将其移入目标网格。',
    'edit.no_draft': '没有草案，请新建', 'edit.draft_name': '调整草案',
    'edit.target': '目标网格：{code}（{households} 户）', 'edit.target_none': '尚未选择目标网格',
    'edit.revision': '修订 {revision}', 'edit.need_planner': '编辑方案需要规划人员密钥',
    'edit.stale': '另一位规划人员已修改此方案（现为修订 {revision}），已载入最新方案，请重新操作。',
    'edit.saved': '已移动 {n} 个单元', 'edit.undone': '已撤销：{n} 个单元移回原网格', 'edit.redone': '已重做：再次移动 {n} 个单元', 'edit.saved_removed': '已移动 {n} 个单元；网格 {codes} 已无单元并删除（此步不能撤销）', 'edit.other_community': '单元 {unit} 不在目标网格的社区内',
    'edit.already': '所选单元已在目标网格中',
    'warn.pieces': '网格 {code} 已断开为 {pieces} 块', 'warn.bounds': '网格 {code} 有 {households} 户，超出 {min}–{max}',
    'warn.removed': '网格 {code} 已无单元，已删除',
    'tool.pick': '选目标网格', 'tool.paint': '点选单元', 'tool.lasso': '套索',
    'repartition.heading': '自动重新划分', 'repartition.mode': '方式', 'repartition.adjust': '最小调整',
    'repartition.full': '整体划分', 'repartition.target': '目标户数', 'repartition.min': '最少户数',
    'repartition.max': '最多户数', 'repartition.radius': '服务半径（米，可空）',
    'repartition.radius_by': '半径量法', 'repartition.straight': '直线', 'repartition.walk': '步行',
    'repartition.run': '开始划分', 'repartition.cancel': '取消', 'repartition.preview': '方案预览',
    'repartition.accept': '采纳方案', 'repartition.discard': '放弃',
    'repartition.accepted': '方案 {plan} 已生效，地图已更新', 'repartition.discarded': '草案已放弃',
    'repartition.failed': '划分失败：{error}', 'repartition.cancelled': '已取消，未保存任何内容',
    'repartition.need_admin': '采纳方案需要管理员密钥', 'repartition.name': '自动调整',
    'step.queued': '排队中', 'step.running': '运行中',
    'figure.what': '指标', 'figure.before': '调整前', 'figure.after': '调整后',
    'figure.grids': '网格数', 'figure.in_bounds': '符合户数标准', 'figure.sd': '户数标准差',
    'figure.pp': '平均紧凑度', 'figure.moved': '调整单元数', 'figure.radius': '最大半径（米）',
    'coverage.heading': '5分钟服务圈', 'coverage.add': '添加服务站', 'coverage.reset': '还原',
    'coverage.k': '建议数量', 'coverage.siting': '选址建议', 'coverage.use': '添加',
    'coverage.hint': '拖动服务站或添加新站，覆盖率即时更新。',
    'coverage.rate': '覆盖率（按人口）', 'coverage.now': '现状', 'coverage.whatif': '调整后',
    'coverage.residents': '{covered} / {residents} 人', 'coverage.click_to_add': '在地图上点击放置新服务站',
    'coverage.need_planner': '测算需要规划人员密钥', 'coverage.gain': '+{gain} 人',
    'coverage.new_station': '新服务站', 'coverage.zoom': '放大至 14 级以上可查看每栋建筑是否覆盖。',
    'units.m': '米', 'units.km2': '平方公里', 'units.households': '户', 'units.people': '人',
    'error.generic': '出错了：{detail}', 'loading': '加载中…',
    'reports.heading': '报告', 'reports.region': '区域', 'reports.coverage': '覆盖率报告',
    'reports.plan': '现行方案报告', 'reports.ranking': '综合排名', 'reports.alignment': '多网合一对齐', 'reports.making': '正在生成报告…',
    'reports.saved': '已下载 {name}',
    'draft.rename': '重命名', 'draft.delete': '删除', 'draft.accept': '采纳…', 'draft.source': '复制自',
    'draft.name': '名称', 'draft.create': '创建', 'dialog.cancel': '取消', 'draft.export': '导出',
    'draft.report': '报告', 'draft.from_current': '现行方案', 'draft.empty': '空白草案',
    'status.draft': '草案', 'status.current': '现行', 'status.archived': '已归档',
    'draft.created': '已新建草案 #{plan}', 'draft.rename_prompt': '草案新名称',
    'draft.renamed': '已重命名为“{name}”', 'draft.delete_confirm': '删除草案 #{plan}“{name}”？此操作不可撤销。',
    'draft.deleted': '草案 #{plan} 已删除',
    'tool.brush': '画笔', 'brush.size': '画笔大小', 'brush.unit': '一个单元', 'brush.block': '单元及相邻单元（街区）', 'brush.r40': '半径 40 米',
    'brush.r80': '半径 80 米', 'brush.r150': '半径 150 米',
    'edit.shortcuts': '快捷键：P 选目标 · C 点选 · B 画笔 · L 套索 · N 新网格 · Esc 取消 · Ctrl+Z 撤销 · Ctrl+Y 重做',
    'ops.new': '新建网格', 'ops.split': '拆分为', 'ops.split_preview': '预览拆分', 'ops.merge': '合并入目标',
    'ops.split_apply': '确认拆分', 'ops.new_done': '已新建网格 {code}（起点单元 {unit}），继续点选或画笔加入单元',
    'ops.new_code': '新编码', 'ops.units': '个单元', 'ops.pick_first': '请先选目标网格',
    'ops.split_previewed': '网格 {code} 拆分为 {k} 个的预览：地图上按部分着色，确认后生效',
    'ops.split_done': '网格 {code} 已拆分，新网格：{made}', 'ops.merge_with': '网格 {code}（{households} 户）',
    'ops.merge_none': '本社区无其他网格', 'ops.seed_hint': '点击一个单元，作为新网格的起点',
    'warn.pieces_new': '网格 {code} 因本次调整断开为 {pieces} 块',
    'warn.pieces_already': '网格 {code} 原已分为 {was} 块，现为 {pieces} 块',
    'checks.heading': '完整性检查', 'checks.ok': '通过：无错误，{warnings} 条提示',
    'checks.failed': '未通过：{errors} 个错误、{warnings} 条提示（有错误的方案不能采纳）',
    'checks.first': '；列出前 {shown} 条',
    'checks.zoom': '定位', 'severity.error': '错误', 'severity.warning': '提示',
    'check.unit without grid': '单元 {unit} 不属于任何网格', 'check.unit in two grids': '单元 {unit} 同时属于 {grids} 个网格',
    'check.grid across communities': '网格 {grid} 跨 {communities} 个社区', 'check.empty grid': '网格 {grid} 没有单元',
    'check.invalid code': '网格编码 {grid} 不是社区编码 {community} 加三位序号', 'check.duplicate code': '网格编码 {grid} 重复',
    'check.grid in pieces': '网格 {grid} 分成 {pieces} 块（块与块之间没有街道相连）',
    'check.out of bounds': '网格 {grid} 有 {households} 户，超出 {low}–{high}', 'check.no households': '网格 {grid} 没有住户',
    'table.heading': '网格一览', 'table.code': '编码', 'table.households': '户数', 'table.residents': '人口',
    'table.deviation': '差额', 'table.bounds': '达标', 'table.pieces': '块数', 'table.compactness': '紧凑',
    'table.locked': '锁定', 'table.leader': '网格长', 'table.under': '偏少', 'table.over': '偏多',
    'table.lock': '锁定：自动调整不改变此网格', 'table.unlock': '解锁', 'table.locked_done': '网格 {code} 已锁定',
    'table.unlocked_done': '网格 {code} 已解锁',
    'table.summary': '{n} 个网格中 {out} 个超出标准，{pieces} 个分成多块，{locked} 个锁定',
    'table.first': '；按当前排序列出前 {shown} 个',
    'side.toggle': '面板', 'repartition.on': '作用于', 'repartition.new_copy': '新草案（复制现行方案）',
    'repartition.old_lines': '显示现行方案边界（虚线）', 'repartition.cases': '未能满足的情况（{n}）',
    'repartition.nothing_moved': '没有单元被调整：{why}', 'repartition.why_locked': '{locked} 个网格已锁定，',
    'repartition.why_fine': '其余网格都已符合标准或无法在不破坏连通的前提下改善',
    'repartition.why_cases': '其余网格都已符合标准；{n} 个情况无法解决，见下',
    'repartition.lists': '相对现行方案',
    'accept.heading': '采纳方案', 'accept.warning': '采纳后，此方案成为全市现行方案，原现行方案归档。',
    'accept.confirm': '确认采纳', 'accept.kept': '保留网格', 'accept.split': '拆分的网格', 'accept.merged': '合并而成的网格',
    'accept.new': '新网格', 'accept.retired': '撤销的网格',
    'accept.lead': '采纳方案 #{plan} 将调整 {units} 个单元、{households} 户：',
    'accept.staff': '{n} 个撤销网格的人员将没有网格，请重新安排：', 'accept.leader': '网格长 {name}',
    'accept.workers': '网格员 {names}',
    'case.oversize_unit': '单元 {unit} 户数超过上限，单独成格', 'case.undersize_community': '社区 {community} 户数不足下限，整体成一格',
    'case.island': '单元 {unit} 与社区内其他单元不相连，单独成格', 'case.out_of_bounds': '网格 {grid} 户数超出标准',
    'case.radius': '网格 {grid} 超出服务半径',
    'case.out_of_bounds.unit_too_big': '网格 {grid} 户数超出标准：其中一个单元独有 {largest} 户，超过上限，需先拆分该单元',
    'case.out_of_bounds.unit_too_crowded': '网格 {grid} 人口超出标准：其中一个单元独有 {largest} 人，超过上限，需先拆分该单元',
    'case.out_of_bounds.community_too_small': '网格 {grid} 户数不足下限：所在社区总共只有 {community_households} 户',
    'case.out_of_bounds.kept': '网格 {grid} 户数超出标准：该网格已锁定或为专属网格，调整时保持不变',
    'case.out_of_bounds.no_neighbour': '网格 {grid} 户数不足下限：社区内没有与它相邻、可以调整的网格可供合并',
    'jobstep.loading units': '读取单元', 'jobstep.measuring walks between units': '测量单元间步行距离',
    'jobstep.partitioning (adjust)': '划分中（最小调整）', 'jobstep.partitioning (full)': '划分中（整体划分）',
    'jobstep.coding and writing grids': '编码并写入网格', 'jobstep.saving': '保存中',
    'jobstep.loading the network, buildings and stations': '读取路网、建筑与服务站',
    'jobstep.snapping and walking': '计算步行距离', 'jobstep.drawing circles': '绘制服务圈',
    'jobstep.grouping gaps': '识别覆盖盲区', 'step.succeeded': '完成', 'step.failed': '失败',
    'step.cancelled': '已取消',
    'coverage.community_change': '{community}：{before} → {after}（{delta} 人）',
    'coverage.buildings_changed': '新覆盖 {gained} 栋建筑（蓝点），失去覆盖 {lost} 栋（红点）；紫色为新服务圈',
    'legend.whatif_circle': '测算的新服务圈', 'legend.gained': '测算新覆盖建筑', 'legend.lost': '测算失去覆盖建筑',
    'level.city': '市', 'level.district': '区', 'level.street': '街道', 'level.community': '社区',
    'server.stale': '方案已被他人修改，请刷新后重试', 'server.locked': '涉及的网格已锁定，请先解锁',
    'server.job': '方案正在被自动调整任务处理，请等待其结束或取消',
    'server.check': '方案未通过完整性检查，不能采纳：请先处理“完整性检查”中的错误',
    'server.community': '单元与目标网格不在同一社区：网格不能跨社区',
    'server.admin': '此操作需要管理员密钥', 'server.planner': '此操作需要规划人员密钥',
  },
  en: {
    title: 'One map for the whole city',
    'mode.browse': 'Browse', 'mode.edit': 'Edit plan', 'mode.repartition': 'Re-partition',
    'mode.coverage': 'Coverage',
    'search.placeholder': 'Search grids, communities, units, stations', 'search.none': 'Nothing found',
    'key.sign_in': 'Key', 'key.prompt': 'API key (gm_…); leave empty to sign out',
    'key.public': 'Public view', 'key.rejected': 'The key is not known or was revoked',
    'role.viewer': 'viewer', 'role.planner': 'planner', 'role.admin': 'admin',
    'browse.heading': 'Colour grids by',
    'browse.hint': 'Click a grid for its households, residents, load, staff and coverage.',
    'colour.households': 'Households vs bounds', 'colour.coverage': '5-minute coverage',
    'colour.load': 'Governance load', 'colour.tickets': '12345 ticket hotspots',
    'legend.hot': 'Hotspot (> {rate} tickets per 1,000 households)', 'legend.cold': 'Other grids',
    'hotspots.caption': 'Grids above the {reference}\'s {percentile}th percentile of tickets per 1,000 households ({threshold}), {window}: {n}',
    'hotspots.item': '{name}: {n} tickets, {rate} per 1,000 households', 'hotspots.none': 'No grid stands out',
    'hotspots.city': 'city', 'hotspots.region': 'region',
    'layers.heading': 'Layers', 'legend.heading': 'Legend',
    'layer.basemap': 'Basemap', 'layer.regions': 'Communities', 'layer.grids': 'Grids',
    'layer.units': 'Units', 'layer.buildings': 'Buildings (coverage)', 'layer.stations': 'Stations',
    'layer.circles': '5-minute circles', 'layer.gaps': 'Gaps', 'layer.labels': 'Labels',
    'legend.under': 'Under the minimum', 'legend.within': 'Within bounds', 'legend.over': 'Over the maximum',
    'legend.covered': 'Covered building', 'legend.uncovered': 'Uncovered building',
    'legend.circle': 'Service circle', 'legend.gap': 'Gap', 'legend.station': 'Station',
    'legend.load_low': 'Low load', 'legend.load_high': 'High load', 'legend.moved': 'Moved unit',
    'legend.ticket_hexagons': 'Tickets in a hexagon (light few, dark many)',
    'legend.ticket_points': 'Ticket (each one from zoom 15)',
    'legend.target': 'Target grid', 'legend.by_grid': 'Units coloured by their grid',
    'legend.none': 'No data',
    'grid.code': 'Code', 'grid.kind': 'Kind', 'grid.community': 'Community',
    'grid.households': 'Households', 'grid.residents': 'Residents', 'grid.load': 'Governance load',
    'grid.leader': 'Grid leader', 'grid.workers': 'Grid workers', 'grid.per_worker': 'Residents per worker',
    'grid.area': 'Area', 'grid.radius': 'Radius', 'grid.compactness': 'Compactness',
    'grid.coverage': '5-minute coverage', 'grid.station': 'Station', 'grid.units': 'Units',
    'grid.none': 'none yet', 'grid.plan': 'Plan', 'grid.card': 'Duty card (print, QR code)',
    'compare.label': 'Before and after', 'compare.date': 'Day of the change', 'compare.months': '{n} months each',
    'compare.go': 'Compare',
    'compare.result': '{before} tickets in the {n} months before → {after} after ({change}); the {reference}: {trend}; against the {reference}: {against}',
    'tickets.window': 'Tickets of', 'tickets.kind': 'Kind', 'tickets.all_kinds': 'all kinds',
    'tickets.months_1': 'the last month', 'tickets.months_3': 'the last 3 months',
    'tickets.months_12': 'the last 12 months', 'tickets.months_all': 'all time',
    'layer.events': '12345 tickets',
    'tickets.heading': '12345 tickets (last {months} months)', 'tickets.month': '{month}: {n}',
    'tickets.summary': '{n} tickets, {rate} per 1,000 households',
    'tickets.summary_no_households': '{n} tickets (no households)',
    'kind.urban': 'urban', 'kind.suburban': 'suburban', 'kind.rural': 'rural',
    'kind.dedicated': 'dedicated',
    'edit.heading': 'Edit a draft', 'edit.new': 'New draft', 'edit.undo': 'Undo', 'edit.redo': 'Redo',
    'edit.hint': 'Pick a target grid, then click or lasso units to move them into it.',
    'edit.no_draft': 'No draft yet: make one', 'edit.draft_name': 'Adjustment draft',
    'edit.target': 'Target grid: {code} ({households} households)',
    'edit.target_none': 'No target grid yet', 'edit.revision': 'revision {revision}',
    'edit.need_planner': 'Editing plans needs a planner key',
    'edit.stale': 'Another planner changed this plan first (now revision {revision}); the fresh plan is loaded: please redo your edit.',
    'edit.saved': '{n} unit(s) moved', 'edit.undone': 'Undone: {n} unit(s) moved back', 'edit.redone': 'Redone: {n} unit(s) moved again', 'edit.saved_removed': '{n} unit(s) moved; grid {codes} has none left and was removed (this step cannot be undone)', 'edit.other_community': 'Unit {unit} lies outside the target grid\'s community',
    'edit.already': 'The units are in the target grid already',
    'warn.pieces': 'Grid {code} is now in {pieces} pieces',
    'warn.bounds': 'Grid {code} holds {households} households, outside {min}–{max}',
    'warn.removed': 'Grid {code} has no unit left and was removed',
    'tool.pick': 'Pick target', 'tool.paint': 'Click units', 'tool.lasso': 'Lasso',
    'repartition.heading': 'Automatic re-partition', 'repartition.mode': 'Mode',
    'repartition.adjust': 'Minimal adjustment', 'repartition.full': 'Whole plan',
    'repartition.target': 'Target households', 'repartition.min': 'Minimum households',
    'repartition.max': 'Maximum households', 'repartition.radius': 'Radius (m, optional)',
    'repartition.radius_by': 'Radius measured', 'repartition.straight': 'straight', 'repartition.walk': 'on foot',
    'repartition.run': 'Run', 'repartition.cancel': 'Cancel', 'repartition.preview': 'Preview',
    'repartition.accept': 'Accept plan', 'repartition.discard': 'Discard',
    'repartition.accepted': 'Plan {plan} is current now; the map shows it',
    'repartition.discarded': 'The draft was discarded', 'repartition.failed': 'The re-partition failed: {error}',
    'repartition.cancelled': 'Cancelled: nothing was kept',
    'repartition.need_admin': 'Accepting a plan needs an admin key', 'repartition.name': 'Re-partition',
    'step.queued': 'queued', 'step.running': 'running',
    'figure.what': 'Figure', 'figure.before': 'Before', 'figure.after': 'After',
    'figure.grids': 'Grids', 'figure.in_bounds': 'Within household bounds', 'figure.sd': 'Households s.d.',
    'figure.pp': 'Mean compactness', 'figure.moved': 'Units moved', 'figure.radius': 'Largest radius (m)',
    'coverage.heading': '5-minute service circles', 'coverage.add': 'Add a station',
    'coverage.reset': 'Reset', 'coverage.k': 'Suggestions', 'coverage.siting': 'Suggest sites',
    'coverage.use': 'Add', 'coverage.hint': 'Drag a station or add one: the rates update at once.',
    'coverage.rate': 'Coverage (residents)', 'coverage.now': 'Now', 'coverage.whatif': 'What if',
    'coverage.residents': '{covered} / {residents} residents',
    'coverage.click_to_add': 'Click the map where the new station goes',
    'coverage.need_planner': 'What-if questions need a planner key', 'coverage.gain': '+{gain} residents',
    'coverage.new_station': 'New station',
    'coverage.zoom': 'Zoom in to 14 or closer to see whether each building is covered.',
    'units.m': 'm', 'units.km2': 'km²', 'units.households': 'households', 'units.people': 'residents',
    'error.generic': 'Something went wrong: {detail}', 'loading': 'Loading…',
    'reports.heading': 'Reports', 'reports.region': 'Region', 'reports.coverage': 'Coverage',
    'reports.plan': 'Current plan', 'reports.ranking': 'Ranking', 'reports.alignment': 'Multi-net alignment',
    'reports.making': 'Making the report…', 'reports.saved': 'Downloaded {name}',
    'draft.rename': 'Rename', 'draft.delete': 'Delete', 'draft.accept': 'Accept…', 'draft.source': 'Copy of',
    'draft.name': 'Name', 'draft.create': 'Create', 'dialog.cancel': 'Cancel', 'draft.export': 'Export',
    'draft.report': 'Report', 'draft.from_current': 'the current plan', 'draft.empty': 'an empty draft',
    'status.draft': 'draft', 'status.current': 'current', 'status.archived': 'archived',
    'draft.created': 'Draft #{plan} made', 'draft.rename_prompt': 'The draft\'s new name',
    'draft.renamed': 'Renamed to "{name}"', 'draft.delete_confirm': 'Delete draft #{plan} "{name}"? This cannot be undone.',
    'draft.deleted': 'Draft #{plan} deleted',
    'tool.brush': 'Brush', 'brush.size': 'Brush size', 'brush.unit': 'One unit', 'brush.block': 'A unit and its neighbours (block)', 'brush.r40': '40 m radius',
    'brush.r80': '80 m radius', 'brush.r150': '150 m radius',
    'edit.shortcuts': 'Keys: P pick · C click · B brush · L lasso · N new grid · Esc cancel · Ctrl+Z undo · Ctrl+Y redo',
    'ops.new': 'New grid', 'ops.split': 'Split into', 'ops.split_preview': 'Preview split', 'ops.merge': 'Merge into target',
    'ops.split_apply': 'Apply the split', 'ops.new_done': 'New grid {code} (started from unit {unit}): click or brush units into it',
    'ops.new_code': 'new code', 'ops.units': 'units', 'ops.pick_first': 'Pick a target grid first',
    'ops.split_previewed': 'Grid {code} split into {k}: the parts are coloured on the map; apply to make them',
    'ops.split_done': 'Grid {code} split; new grids: {made}', 'ops.merge_with': 'grid {code} ({households} households)',
    'ops.merge_none': 'no other grid in this community', 'ops.seed_hint': 'Click a unit to start the new grid with',
    'warn.pieces_new': 'Grid {code} is now in {pieces} pieces because of this edit',
    'warn.pieces_already': 'Grid {code} was in {was} pieces already, now {pieces}',
    'checks.heading': 'Integrity check', 'checks.ok': 'Passed: no errors, {warnings} warnings',
    'checks.failed': 'Failed: {errors} errors, {warnings} warnings (a plan with errors cannot be accepted)',
    'checks.first': '; the first {shown} listed',
    'checks.zoom': 'Zoom', 'severity.error': 'Error', 'severity.warning': 'Warning',
    'table.heading': 'All grids', 'table.code': 'Code', 'table.households': 'Households', 'table.residents': 'Residents',
    'table.deviation': 'vs target', 'table.bounds': 'Bounds', 'table.pieces': 'Pieces', 'table.compactness': 'Compact',
    'table.locked': 'Lock', 'table.leader': 'Leader', 'table.under': 'under', 'table.over': 'over',
    'table.lock': 'Lock: a re-partition keeps this grid', 'table.unlock': 'Unlock', 'table.locked_done': 'Grid {code} locked',
    'table.unlocked_done': 'Grid {code} unlocked',
    'table.summary': '{out} of {n} out of bounds, {pieces} in pieces, {locked} locked',
    'table.first': '; the first {shown} in this order listed',
    'side.toggle': 'Panel', 'repartition.on': 'Run on', 'repartition.new_copy': 'a new draft (copy of the current plan)',
    'repartition.old_lines': 'Show the current plan\'s boundaries (dashed)', 'repartition.cases': 'What could not be met ({n})',
    'repartition.nothing_moved': 'No unit moved: {why}', 'repartition.why_locked': '{locked} grids are locked; ',
    'repartition.why_fine': 'the other grids are within bounds or cannot be improved without breaking contiguity',
    'repartition.why_cases': 'the other grids are within bounds; {n} cases cannot be solved, listed below',
    'repartition.lists': 'Against the current plan',
    'accept.heading': 'Accept the plan', 'accept.warning': 'Accepted, this plan becomes the whole city\'s current plan and the old one is archived.',
    'accept.confirm': 'Accept', 'accept.kept': 'Grids kept', 'accept.split': 'Grids split', 'accept.merged': 'Grids merged',
    'accept.new': 'New grids', 'accept.retired': 'Grids retired',
    'accept.lead': 'Accepting plan #{plan} moves {units} units with {households} households:',
    'accept.staff': 'The staff of {n} retired grids will have no grid; assign them again:',
    'accept.leader': 'leader {name}', 'accept.workers': 'workers {names}',
    'coverage.community_change': '{community}: {before} → {after} ({delta} residents)',
    'coverage.buildings_changed': '{gained} buildings newly covered (blue), {lost} no longer (red); the new circles in purple',
    'legend.whatif_circle': 'What-if circle', 'legend.gained': 'Newly covered (what-if)',
    'legend.lost': 'No longer covered (what-if)',
    'level.city': 'City', 'level.district': 'District', 'level.street': 'Street', 'level.community': 'Community',
    'jobstep.loading units': 'loading units', 'step.succeeded': 'done', 'step.failed': 'failed', 'step.cancelled': 'cancelled',
  },
};

const LANGS = ['zh', 'en'];
const OWN_WORDS_ONLY = /^(check|case|jobstep)\./; // in English, the server's own words are used
let lang = LANGS.includes(load('gridmap.lang')) ? load('gridmap.lang') : 'zh';
const listeners = [];

/** The current language: 'zh' or 'en'. */
export function language() {
  return lang;
}

/** Server messages (English) the Chinese page says in its own words: pattern → word. */
const SERVER_WORDS = [
  [/is at revision \d+, not \d+/, 'server.stale'],
  [/is locked; unlock it first|lies in a locked grid/, 'server.locked'],
  [/is being re-partitioned by job/, 'server.job'],
  [/fails its integrity check/, 'server.check'],
  [/lies in another community|a grid stays inside its community/, 'server.community'],
  [/\badmin\b/, 'server.admin'],
  [/\bplanner\b/, 'server.planner'],
];

/** A server's message in the page's language: Chinese words for the known ones. */
export function serverText(detail) {
  if (lang !== 'zh' || typeof detail !== 'string') return detail;
  const known = SERVER_WORDS.find(([pattern]) => pattern.test(detail));
  return known ? t(known[1]) : detail;
}

/** The word for `key`, with `{name}` placeholders filled from `values`. */
export function t(key, values = {}) {
  if (key === 'error.generic' && 'detail' in values) values = { ...values, detail: serverText(values.detail) };
  const text = WORDS[lang][key] ?? (lang === 'en' && OWN_WORDS_ONLY.test(key) ? undefined : WORDS.zh[key]) ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in values ? String(values[name]) : `{${name}}`));
}

const formats = new Map(); // "language digits" → Intl.NumberFormat (made once: a table of 26k
// grids writes 150k numbers, and toLocaleString with options builds a formatter for each)

/** A number in the current language's way of writing it. */
export function number(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  const key = `${lang} ${digits}`;
  if (!formats.has(key)) {
    formats.set(key, new Intl.NumberFormat(lang === 'zh' ? 'zh-CN' : 'en', {
      maximumFractionDigits: digits, minimumFractionDigits: digits,
    }));
  }
  return formats.get(key).format(Number(value));
}

/** A share (0–1) as a percentage. */
export function percent(value, digits = 1) {
  if (value === null || value === undefined) return '—';
  return `${number(value * 100, digits)}%`;
}

/** Put the current language's words into every element marked with data-i18n. */
export function translatePage(root = document) {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
}

/** Call `fn` whenever the language changes. */
export function onLanguage(fn) {
  listeners.push(fn);
}

/**
 * Switch to `next` and redraw every translated word. The planner's choice is remembered;
 * an embed's (`remember: false`) is not: it takes `lang` from its own address, or Chinese.
 */
export function setLanguage(next, { remember = true } = {}) {
  if (!LANGS.includes(next)) return;
  lang = next;
  if (remember) save('gridmap.lang', next);
  translatePage();
  for (const fn of listeners) fn(next);
}
