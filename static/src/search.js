// Search by code or name across grids, communities, units and stations (CQL2 LIKE filters).

import { get } from './api.js';
import { bbox } from './geo.js';
import { t } from './i18n.js';

const SEARCHED = [
  ['grids', ['code', 'name'], 'layer.grids'],
  ['regions', ['code', 'name'], 'layer.regions'],
  ['units', ['code'], 'layer.units'],
  ['stations', ['code', 'name'], 'layer.stations'],
];

/** A CQL2 filter: any of `fields` holds `text`, whatever its case (CASEI). */
export function filter(fields, text) {
  const escaped = text.replace(/'/g, "''");
  return fields.map((field) => `CASEI(${field}) LIKE CASEI('%${escaped}%')`).join(' OR ');
}

/** The word for what a hit is: a region by its level (district, street, community). */
function kindWord(collection, word, properties) {
  if (collection === 'regions' && properties.level) return t(`level.${properties.level}`);
  return t(word);
}

/** Wire the search box: results as one types, and a click flies there (grids open their panel). */
export function setUpSearch(map, onGrid) {
  const input = document.getElementById('search-input');
  const list = document.getElementById('search-results');
  let asked = 0;
  let timer = null;

  async function search(text) {
    const mine = ++asked;
    const found = await Promise.all(SEARCHED.map(async ([collection, fields, word]) => {
      const query = new URLSearchParams({ filter: filter(fields, text), limit: '5' });
      try {
        const page = await get(`/collections/${collection}/items?${query}`);
        return page.features.map((f) => ({ collection, word, f }));
      } catch {
        return [];
      }
    }));
    if (mine !== asked) return;
    const hits = found.flat();
    list.replaceChildren(...(hits.length ? hits.map(({ collection, word, f }) => {
      const li = document.createElement('li');
      li.tabIndex = 0;
      li.dataset.collection = collection;
      li.dataset.id = f.id;
      li.dataset.level = f.properties.level || '';
      li.textContent = `${kindWord(collection, word, f.properties)} · ${f.properties.name || ''} ${f.properties.code || f.id}`;
      const go = () => {
        list.hidden = true;
        const [w, s, e, n] = bbox(f.geometry);
        if (w === e && s === n) map.flyTo({ center: [w, s], zoom: 17 });
        else map.fitBounds([[w, s], [e, n]], { padding: 60, maxZoom: 17 });
        if (collection === 'grids') onGrid(f.properties.code);
      };
      li.addEventListener('click', go);
      li.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') go(); });
      return li;
    }) : [Object.assign(document.createElement('li'), { textContent: t('search.none') })]));
    list.hidden = false;
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    const text = input.value.trim();
    if (!text) {
      list.hidden = true;
      return;
    }
    timer = setTimeout(() => search(text), 200);
  });
  document.getElementById('search').addEventListener('submit', (e) => {
    e.preventDefault();
    const first = list.querySelector('li[data-collection]');
    if (first) first.click();
  });
}
