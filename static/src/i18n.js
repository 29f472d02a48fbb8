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
    'layers.heading': '图层', 'legend.heading': '图例',
    'layer.basemap': '底图', 'layer.regions': '社区界线', 'layer.grids': '网格', 'layer.units': '单元',
    'layer.buildings': '建筑（覆盖）', 'layer.stations': '党群服务站', 'layer.circles': '5分钟服务圈',
    'layer.gaps': '服务盲区', 'layer.labels': '标注',
    'legend.under': '低于下限', 'legend.within': '符合标准', 'legend.over': '超过上限',
    'legend.covered': '已覆盖建筑', 'legend.uncovered': '未覆盖建筑', 'legend.circle': '服务圈',
    'legend.gap': '盲区', 'legend.station': '服务站', 'legend.load_low': '负荷低',
    'legend.load_high': '负荷高', 'legend.moved': '调整的单元',
    'legend.target': '目标网格', 'legend.by_grid': '单元按所属网格着色', 'legend.none': '无数据',
    'grid.code': '编码', 'grid.kind': '类型', 'grid.community': '所属社区', 'grid.households': '户数',
    'grid.residents': '人口', 'grid.load': '治理负荷', 'grid.leader': '网格长',
    'grid.workers': '网格员', 'grid.per_worker': '人均服务人口', 'grid.area': '面积',
    'grid.radius': '服务半径', 'grid.compactness': '紧凑度', 'grid.coverage': '5分钟覆盖率',
    'grid.station': '服务站', 'grid.units': '单元数', 'grid.none': '未配备', 'grid.plan': '方案',
    'grid.card': '网格服务卡（可打印、扫码）',
    'kind.urban': '城市网格', 'kind.suburban': '城郊网格', 'kind.rural': '农村网格',
    'kind.dedicated': '专属网格',
    'edit.heading': '编辑草案', 'edit.new': '新建草案', 'edit.undo': '撤销', 'edit.redo': '重做',
    'edit.hint': '先选目标网格，再点击或套索单元，将其移入目标网格。',
    'edit.no_draft': '没有草案，请新建', 'edit.draft_name': '调整草案',
    'edit.target': '目标网格：{code}（{households} 户）', 'edit.target_none': '尚未选择目标网格',
    'edit.revision': '修订 {revision}', 'edit.need_planner': '编辑方案需要规划人员密钥',
    'edit.stale': '另一位规划人员已修改此方案（现为修订 {revision}），已载入最新方案，请重新操作。',
    'edit.saved': '已移动 {n} 个单元', 'edit.other_community': '单元 {unit} 不在目标网格的社区内',
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
    'reports.plan': '现行方案报告', 'reports.alignment': '多网合一对齐', 'reports.making': '正在生成报告…',
    'reports.saved': '已下载 {name}',
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
    'colour.load': 'Governance load',
    'layers.heading': 'Layers', 'legend.heading': 'Legend',
    'layer.basemap': 'Basemap', 'layer.regions': 'Communities', 'layer.grids': 'Grids',
    'layer.units': 'Units', 'layer.buildings': 'Buildings (coverage)', 'layer.stations': 'Stations',
    'layer.circles': '5-minute circles', 'layer.gaps': 'Gaps', 'layer.labels': 'Labels',
    'legend.under': 'Under the minimum', 'legend.within': 'Within bounds', 'legend.over': 'Over the maximum',
    'legend.covered': 'Covered building', 'legend.uncovered': 'Uncovered building',
    'legend.circle': 'Service circle', 'legend.gap': 'Gap', 'legend.station': 'Station',
    'legend.load_low': 'Low load', 'legend.load_high': 'High load', 'legend.moved': 'Moved unit',
    'legend.target': 'Target grid', 'legend.by_grid': 'Units coloured by their grid',
    'legend.none': 'No data',
    'grid.code': 'Code', 'grid.kind': 'Kind', 'grid.community': 'Community',
    'grid.households': 'Households', 'grid.residents': 'Residents', 'grid.load': 'Governance load',
    'grid.leader': 'Grid leader', 'grid.workers': 'Grid workers', 'grid.per_worker': 'Residents per worker',
    'grid.area': 'Area', 'grid.radius': 'Radius', 'grid.compactness': 'Compactness',
    'grid.coverage': '5-minute coverage', 'grid.station': 'Station', 'grid.units': 'Units',
    'grid.none': 'none yet', 'grid.plan': 'Plan', 'grid.card': 'Duty card (print, QR code)',
    'kind.urban': 'urban', 'kind.suburban': 'suburban', 'kind.rural': 'rural',
    'kind.dedicated': 'dedicated',
    'edit.heading': 'Edit a draft', 'edit.new': 'New draft', 'edit.undo': 'Undo', 'edit.redo': 'Redo',
    'edit.hint': 'Pick a target grid, then click or lasso units to move them into it.',
    'edit.no_draft': 'No draft yet: make one', 'edit.draft_name': 'Adjustment draft',
    'edit.target': 'Target grid: {code} ({households} households)',
    'edit.target_none': 'No target grid yet', 'edit.revision': 'revision {revision}',
    'edit.need_planner': 'Editing plans needs a planner key',
    'edit.stale': 'Another planner changed this plan first (now revision {revision}); the fresh plan is loaded: please redo your edit.',
    'edit.saved': '{n} unit(s) moved', 'edit.other_community': 'Unit {unit} lies outside the target grid\'s community',
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
    'reports.plan': 'Current plan', 'reports.alignment': 'Multi-net alignment',
    'reports.making': 'Making the report…', 'reports.saved': 'Downloaded {name}',
  },
};

const LANGS = ['zh', 'en'];
let lang = LANGS.includes(load('gridmap.lang')) ? load('gridmap.lang') : 'zh';
const listeners = [];

/** The current language: 'zh' or 'en'. */
export function language() {
  return lang;
}

/** The word for `key`, with `{name}` placeholders filled from `values`. */
export function t(key, values = {}) {
  const text = WORDS[lang][key] ?? WORDS.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in values ? String(values[name]) : `{${name}}`));
}

/** A number in the current language's way of writing it. */
export function number(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return Number(value).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en', {
    maximumFractionDigits: digits, minimumFractionDigits: digits,
  });
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
