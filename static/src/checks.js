// The plan's integrity check (GET /plans/{id}/check), refreshed after every change: errors and
// warnings in the page's language, each with a button that zooms to its grid or unit.

import { get } from './api.js';
import { language, number, onLanguage, t } from './i18n.js';

const summary = document.getElementById('checks-summary');
const list = document.getElementById('checks-list');

// `limit`: findings listed at most (errors first); the summary counts them all. Listing the
// 2,730 findings of a city of 26,000 grids, and laying them out, took the page a second an edit.
export const checks = { plan: null, answer: null, asked: 0, onZoom: null, limit: 200 };

/** A finding in the page's language, from its kind and fields (the server's words otherwise). */
export function findingText(f) {
  const values = { grid: f.grid, unit: f.unit, ...f.detail };
  const key = `check.${f.kind}`;
  const text = t(key, values);
  return text === key ? f.message : text;
}

function draw() {
  const a = checks.answer;
  if (!a) {
    summary.textContent = '';
    list.replaceChildren();
    return;
  }
  summary.className = a.ok ? 'ok' : 'error';
  summary.textContent = a.ok
    ? t('checks.ok', { warnings: number(a.warnings) })
    : t('checks.failed', { errors: number(a.errors), warnings: number(a.warnings) });
  const sorted = [...a.findings].sort((x, y) => (x.severity === y.severity ? 0 : x.severity === 'error' ? -1 : 1));
  const shown = sorted.slice(0, checks.limit);
  if (shown.length < sorted.length) summary.textContent += t('checks.first', { shown: shown.length });
  list.replaceChildren(...shown.map((f) => {
    const li = document.createElement('li');
    li.className = f.severity;
    li.dataset.kind = f.kind;
    if (f.grid) li.dataset.grid = f.grid;
    li.append(`${t(`severity.${f.severity}`)}${language() === 'zh' ? '：' : ': '}${findingText(f)} `);
    if (f.grid || f.unit) {
      const zoom = document.createElement('button');
      zoom.type = 'button';
      zoom.className = 'zoom-to';
      zoom.textContent = t('checks.zoom');
      zoom.addEventListener('click', () => checks.onZoom && checks.onZoom(f.grid ? 'grid' : 'unit', f.grid || f.unit));
      li.append(zoom);
    }
    return li;
  }));
}

/** Check plan `plan` again (null clears the panel); the latest question wins. */
export async function refreshChecks(plan) {
  const asked = ++checks.asked;
  checks.plan = plan;
  if (!plan) {
    checks.answer = null;
    draw();
    return null;
  }
  const answer = await get(`/plans/${plan}/check`);
  if (asked !== checks.asked) return answer;
  checks.answer = answer;
  draw();
  return answer;
}

onLanguage(() => draw());
