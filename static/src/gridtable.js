// The table of all grids of the plan shown, as redistricting tools have: colour, code, households,
// residents, difference from target, within bounds, pieces, compactness, lock, leader. Sortable,
// problems first; a summary line; a row click targets the grid and zooms to it. Only the first
// `limit` rows of the order are drawn (and the grid selected, wherever it falls): drawing and
// laying out every row took seconds after each edit on a city of 26,000 grids.

import { number, onLanguage, t } from './i18n.js';

const table = document.getElementById('grid-table');
const summaryLine = document.getElementById('grid-table-summary');
const COLUMNS = [
  ['colour', null], ['code', (g) => g.code], ['households', (g) => g.households],
  ['residents', (g) => g.residents], ['deviation', (g) => g.deviation], ['bounds', (g) => g.rank],
  ['pieces', (g) => g.pieces], ['compactness', (g) => g.polsby_popper ?? -1],
  ['locked', (g) => (g.locked ? 1 : 0)], ['leader', (g) => g.leader || ''],
];

export const gridTable = {
  rows: [], // the grids with their verdicts
  sort: { key: 'problems', descending: true },
  editable: false,
  selected: null,
  onPick: null, // (code) → void
  onLock: null, // (code, locked) → Promise
  colours: new Map(),
  limit: 500, // rows drawn at most; the summary says when there are more
};

/** The bounds of a grid's kind (urban ones for a dedicated grid), from the map's config. */
function boundsOf(config, kind) {
  return config.bounds[kind] || config.bounds.urban;
}

/**
 * Each grid with its verdicts: `state` under / within / over, `deviation` from the target, and
 * `rank`, how far it is from right (out of bounds and in pieces first).
 */
export function judged(grids, config) {
  return grids.map((g) => {
    const b = boundsOf(config, g.kind);
    const state = g.households < b.min_households ? 'under'
      : g.households > b.max_households ? 'over' : 'within';
    const pieces = g.pieces || 1;
    const outside = state === 'within' ? 0
      : state === 'under' ? b.min_households - g.households : g.households - b.max_households;
    return {
      ...g, pieces, state, deviation: g.households - b.target_households,
      rank: (state === 'within' ? 0 : 2 + outside / Math.max(b.max_households, 1)) + (pieces > 1 ? 1 : 0),
    };
  });
}

/** "6 of 20 out of bounds, 3 in pieces, 2 locked". */
export function summarise(rows) {
  const out = rows.filter((g) => g.state !== 'within').length;
  const pieces = rows.filter((g) => g.pieces > 1).length;
  const locked = rows.filter((g) => g.locked).length;
  return t('table.summary', { out, n: rows.length, pieces, locked });
}

function sorted(rows) {
  const { key, descending } = gridTable.sort;
  const column = COLUMNS.find(([name]) => name === key);
  const value = column && column[1] ? column[1] : (g) => g.rank;
  const sign = descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    if (x < y) return -sign;
    if (x > y) return sign;
    return a.code < b.code ? -1 : 1;
  });
}

function cell(text, className = '') {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function draw() {
  const head = document.createElement('tr');
  for (const [name] of COLUMNS) {
    const th = document.createElement('th');
    th.textContent = name === 'colour' ? '' : t(`table.${name}`);
    th.dataset.key = name;
    if (gridTable.sort.key === name) th.dataset.sorted = gridTable.sort.descending ? 'down' : 'up';
    if (name !== 'colour') {
      th.tabIndex = 0;
      th.addEventListener('click', () => {
        const same = gridTable.sort.key === name;
        gridTable.sort = { key: name, descending: same ? !gridTable.sort.descending : name !== 'code' };
        draw();
      });
    }
    head.append(th);
  }
  const order = sorted(gridTable.rows);
  const shown = order.slice(0, gridTable.limit);
  const selected = order.find((g) => g.code === gridTable.selected);
  if (selected && !shown.includes(selected)) shown.push(selected);
  const body = shown.map((g) => {
    const tr = document.createElement('tr');
    tr.dataset.grid = g.code;
    tr.dataset.state = g.state;
    if (g.code === gridTable.selected) tr.classList.add('selected');
    const chip = document.createElement('td');
    const swatch = document.createElement('span');
    swatch.className = 'chip';
    swatch.style.background = gridTable.colours.get(g.code) || '#d9d9d9';
    chip.append(swatch);
    const lock = document.createElement('td');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = Boolean(g.locked);
    box.disabled = !gridTable.editable || g.kind === 'dedicated';
    box.title = t(g.locked ? 'table.unlock' : 'table.lock');
    box.setAttribute('aria-label', `${t('table.locked')} ${g.code}`);
    box.addEventListener('click', (e) => e.stopPropagation());
    box.addEventListener('change', () => {
      if (gridTable.onLock) gridTable.onLock(g.code, box.checked);
    });
    lock.append(box);
    const verdict = g.state === 'within' ? '✓' : t(`table.${g.state}`);
    tr.append(
      chip,
      cell(g.code.slice(9), 'code'),
      cell(number(g.households), 'num'),
      cell(number(g.residents), 'num'),
      cell(`${g.deviation > 0 ? '+' : ''}${number(g.deviation)}`, 'num'),
      cell(verdict, `verdict ${g.state}`),
      cell(number(g.pieces), g.pieces > 1 ? 'num problem' : 'num'),
      cell(number(g.polsby_popper, 2), 'num'),
      lock,
      cell(g.leader || '—'),
    );
    tr.title = g.code;
    tr.addEventListener('click', () => gridTable.onPick && gridTable.onPick(g.code));
    return tr;
  });
  table.replaceChildren(head, ...body);
  table.dataset.rows = String(order.length);
  const more = order.length > shown.length ? t('table.first', { shown: shown.length }) : '';
  summaryLine.textContent = gridTable.rows.length ? `${summarise(gridTable.rows)}${more}` : '';
}

/** Show `grids` (the grid features' properties of one plan) in the table. */
export function showGrids(grids, config, { editable = false, colours = new Map() } = {}) {
  gridTable.rows = judged(grids, config);
  gridTable.editable = editable;
  gridTable.colours = colours;
  draw();
}

/** Mark grid `code` as the one selected (its row highlighted and scrolled into view). */
export function selectRow(code) {
  const before = gridTable.selected;
  gridTable.selected = code;
  if (code && code !== before && !table.querySelector(`tr[data-grid="${CSS.escape(code)}"]`)
      && gridTable.rows.some((g) => g.code === code)) {
    draw(); // a grid beyond the rows drawn: drawn with them
  }
  for (const tr of table.querySelectorAll('tr[data-grid]')) {
    const on = tr.dataset.grid === code;
    tr.classList.toggle('selected', on);
    if (on) tr.scrollIntoView({ block: 'nearest' });
  }
}

onLanguage(() => draw());
