// The address keeps the page's state: `#mode=edit&plan=12&grid=…&map=zoom/lat/lon`. A change of
// mode, plan or grid is a step of the browser's history (Back returns to it); the view is kept
// by MapLibre's own hash (the `map` parameter) without adding steps.

const KEYS = ['mode', 'plan', 'grid'];

function parts() {
  const found = new Map();
  for (const part of location.hash.slice(1).split('&')) {
    if (!part) continue;
    const at = part.indexOf('=');
    found.set(at < 0 ? part : part.slice(0, at), at < 0 ? '' : part.slice(at + 1));
  }
  return found;
}

/** The state the address holds: mode ('browse' when none), plan (a number or null), grid. */
export function readState() {
  const p = parts();
  const plan = Number(p.get('plan'));
  return {
    mode: p.get('mode') || 'browse',
    plan: Number.isInteger(plan) && plan > 0 ? plan : null,
    grid: p.get('grid') ? decodeURIComponent(p.get('grid')) : null,
  };
}

/** Put `next` (any of mode, plan, grid) into the address: a new history step unless `replace`. */
export function writeState(next, { replace = false } = {}) {
  const p = parts();
  for (const key of KEYS) {
    if (!(key in next)) continue;
    const value = next[key];
    if (value === null || value === undefined || value === '' || (key === 'mode' && value === 'browse')) p.delete(key);
    else p.set(key, encodeURIComponent(String(value)));
  }
  const ordered = [...KEYS.filter((k) => p.has(k)), ...[...p.keys()].filter((k) => !KEYS.includes(k))];
  const hash = ordered.map((k) => `${k}=${p.get(k)}`).join('&');
  if (hash === location.hash.slice(1)) return;
  const url = `${location.pathname}${location.search}${hash ? `#${hash}` : ''}`;
  if (replace) history.replaceState(history.state, '', url);
  else history.pushState(history.state, '', url);
}
