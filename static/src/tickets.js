// A grid's hotline (12345) tickets in the grid panel: the last 12 months as bars, the kinds,
// and the rate per 1,000 households (GET /tickets/grids/{code}).

import { get } from './api.js';
import { number, t } from './i18n.js';
import { TICKET_POINTS_MINZOOM, hexagonColour } from './layers.js';

export const TICKET_MONTHS = 12;
const KINDS_SHOWN = 5;

/** The first day of the month `back` months before this one, and that month's label. */
function monthStart(today, back) {
  const d = new Date(Date.UTC(today.getFullYear(), today.getMonth() - back, 1));
  return { day: d.toISOString().slice(0, 10), month: d.toISOString().slice(0, 7) };
}

/** The first day (YYYY-MM-DD) of the last `months` months up to today; null: all time. */
export function windowStart(months, today = new Date()) {
  if (!(months > 0)) return null;
  const d = new Date(Date.UTC(today.getFullYear(), today.getMonth() - months, today.getDate()));
  return d.toISOString().slice(0, 10);
}

/** The last TICKET_MONTHS months (this one included), oldest first. */
export function lastMonths(today = new Date()) {
  const months = [];
  for (let back = TICKET_MONTHS - 1; back >= 0; back -= 1) months.push(monthStart(today, back).month);
  return months;
}

function bars(months, counts) {
  const top = Math.max(1, ...months.map((m) => counts.get(m) || 0));
  const box = document.createElement('div');
  box.className = 'ticket-bars';
  for (const month of months) {
    const n = counts.get(month) || 0;
    const bar = document.createElement('span');
    bar.dataset.month = month;
    bar.dataset.tickets = String(n);
    bar.style.height = `${Math.round((100 * n) / top)}%`;
    bar.title = t('tickets.month', { month, n: number(n) });
    box.append(bar);
  }
  return box;
}

/** Fill `box` with grid `code`'s tickets of the last 12 months (the current plan's grid). */
export async function drawTickets(box, code, isShown) {
  const months = lastMonths();
  const since = `${months[0]}-01`;
  const found = await get(`/tickets/grids/${encodeURIComponent(code)}?since=${since}`);
  if (!isShown()) return;
  const counts = new Map(found.months.map((m) => [m.month, m.tickets]));
  const head = document.createElement('h3');
  head.textContent = t('tickets.heading', { months: TICKET_MONTHS });
  const summary = document.createElement('p');
  summary.className = 'ticket-summary';
  summary.dataset.tickets = String(found.tickets);
  summary.textContent = found.per_1000_households === null
    ? t('tickets.summary_no_households', { n: number(found.tickets) })
    : t('tickets.summary', { n: number(found.tickets), rate: number(found.per_1000_households, 1) });
  const kinds = document.createElement('ul');
  kinds.className = 'ticket-kinds';
  for (const [kind, n] of Object.entries(found.by_kind).slice(0, KINDS_SHOWN)) {
    const li = document.createElement('li');
    li.dataset.kind = kind;
    li.dataset.tickets = String(n);
    li.textContent = `${kind} ${number(n)}`;
    kinds.append(li);
  }
  const axis = document.createElement('div');
  axis.className = 'ticket-axis';
  axis.append(...[months[0], months[months.length - 1]].map((m) => {
    const span = document.createElement('span');
    span.textContent = m;
    return span;
  }));
  box.replaceChildren(head, summary, bars(months, counts), axis, kinds, compareForm(code));
  box.hidden = false;
}

function signed(change) {
  return change === null ? '—' : `${change > 0 ? '+' : ''}${number(change * 100, 0)}%`;
}

/** A date and a number of months: the grid's tickets before and after, beside the city's. */
function compareForm(code) {
  const form = document.createElement('form');
  form.className = 'ticket-compare';
  const day = Object.assign(document.createElement('input'), { type: 'date', required: true, name: 'date' });
  day.setAttribute('aria-label', t('compare.date'));
  const months = document.createElement('select');
  months.name = 'months';
  for (const n of [3, 6, 12]) months.append(Object.assign(document.createElement('option'), { value: n, textContent: t('compare.months', { n }) }));
  months.value = '6';
  const go = Object.assign(document.createElement('button'), { type: 'submit', textContent: t('compare.go') });
  const out = Object.assign(document.createElement('p'), { className: 'ticket-compare-result' });
  const label = Object.assign(document.createElement('span'), { textContent: t('compare.label') });
  form.append(label, day, months, go, out);
  let latest = 0; // a second comparison asked meanwhile: its answer wins
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const asked = ++latest;
    try {
      const found = await get(`/tickets/before-after?grid=${encodeURIComponent(code)}&date=${day.value}&months=${months.value}`);
      if (asked !== latest) return;
      out.dataset.before = String(found.before.tickets);
      out.dataset.after = String(found.after.tickets);
      out.textContent = t('compare.result', {
        n: months.value, before: number(found.before.tickets), after: number(found.after.tickets),
        change: signed(found.change), trend: signed(found.reference_change),
        reference: t(found.reference === 'city' ? 'hotspots.city' : 'hotspots.region'),
        against: signed(found.against_reference),
      });
    } catch (error) {
      if (asked === latest) out.textContent = t('error.generic', { detail: error.detail || String(error) });
    }
  });
  return form;
}

const MERCATOR_EDGE = 85.05;

/** The map's view as `west,south,east,north` within Web Mercator's world, or null when empty. */
function viewBox(map) {
  const b = map.getBounds();
  const clamp = (value, limit) => Math.max(-limit, Math.min(limit, value));
  const [west, east] = [clamp(b.getWest(), 180), clamp(b.getEast(), 180)];
  const [south, north] = [clamp(b.getSouth(), MERCATOR_EDGE), clamp(b.getNorth(), MERCATOR_EDGE)];
  if (!(west < east && south < north)) return null;
  return [west, south, east, north].map((v) => v.toFixed(6)).join(',');
}

/** Count the tickets in view in hexagons (below zoom 15), of the window and kind in `query`.
 * The answer to the latest call wins: a map moved again meanwhile does not show an older one. */
export async function readHexagons(map, query) {
  const asked = ++readHexagons.latest;
  const zoom = Math.floor(map.getZoom());
  const bbox = viewBox(map);
  if (zoom >= TICKET_POINTS_MINZOOM || !bbox) return;
  const found = await get(`/tickets/hexagons?bbox=${bbox}&zoom=${zoom}${query ? `&${query}` : ''}`);
  if (asked !== readHexagons.latest) return;
  map.getSource('ticket-hexagons').setData(found);
  const most = Math.max(0, ...found.features.map((f) => f.properties.tickets));
  map.setPaintProperty('events-hexagons', 'fill-color', hexagonColour(most));
  map.getContainer().dataset.ticketHexagons = `${zoom}:${found.tickets}`; // what is drawn, for tests
}
readHexagons.latest = 0;
