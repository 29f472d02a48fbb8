// Reports from the map: coverage of a region, the current plan, the nets' alignment. They are
// fetched with the key (a plain link could not send it) and saved or opened from the browser.

import { allFeatures, apiKey } from './api.js';
import { t } from './i18n.js';
import { lastMonths } from './tickets.js';

const $ = (id) => document.getElementById(id);
const LEVELS = ['city', 'district', 'street', 'community'];

function say(text, kind = 'info') {
  const box = $('report-message');
  box.textContent = text;
  box.className = `message ${kind}`;
  box.hidden = !text;
}

function address(kind, format, config) {
  if (kind === 'coverage') return `/reports/coverage?region=${$('report-region').value}&format=${format}`;
  if (kind === 'ranking') { // a community's grids, or a larger region's communities
    const region = $('report-region').value;
    const level = region.length === 12 ? 'grid' : 'community';
    return `/reports/ranking?region=${region}&level=${level}&since=${lastMonths()[0]}-01&format=${format}`;
  }
  if (kind === 'plan') return `/reports/plan?plan=${config.current_plan}&format=${format}`;
  return `/reports/alignment?format=${format}`;
}

/** Fetch a file of the API with the key; returns its blob and the name the server gives it. */
export async function fetchReport(url) {
  const key = apiKey();
  const response = await fetch(url, { headers: key ? { Authorization: `Bearer ${key}` } : {} });
  if (!response.ok) {
    let detail = response.statusText;
    try {
      detail = (await response.json()).detail || detail;
    } catch { /* not a problem document */ }
    throw new Error(detail);
  }
  const name = (/filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') || '') || [])[1] || 'report';
  return { blob: await response.blob(), name };
}

/** Open (HTML, PDF) or save (the rest) a fetched file. */
export function hand(blob, name, format) {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  if (format === 'html' || format === 'pdf') link.target = '_blank';
  else link.download = name;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}

async function get(kind, format, config) {
  say(t('reports.making'));
  try {
    const { blob, name } = await fetchReport(address(kind, format, config));
    hand(blob, name, format);
    say(t('reports.saved', { name }), 'ok');
  } catch (error) {
    say(t('error.generic', { detail: error.message }), 'error');
  }
}

/** Fill the region list (city first, then down) and wire the report buttons. */
export async function setUpReports(config) {
  const regions = (await allFeatures('regions')).features.map((f) => f.properties)
    .sort((a, b) => LEVELS.indexOf(a.level) - LEVELS.indexOf(b.level) || (a.code < b.code ? -1 : 1));
  $('report-region').replaceChildren(...regions.map((r) => {
    const option = document.createElement('option');
    option.value = r.code;
    option.textContent = `${r.name}（${r.code}）`;
    return option;
  }));
  for (const row of document.querySelectorAll('#reports [data-report]')) {
    const kind = row.dataset.report;
    if (kind === 'plan' && !config.current_plan) row.hidden = true;
    if (kind !== 'coverage' && config.scoped) row.hidden = true;
    for (const button of row.querySelectorAll('button')) {
      button.addEventListener('click', () => get(kind, button.dataset.format, config));
    }
  }
}
