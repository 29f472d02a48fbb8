// Talking to the gridmap API: the key, JSON in and out, problem+json errors, paged features.

import { load, save } from './store.js';

const KEY = 'gridmap.key';
let given = null; // a key handed to this page alone (an embed's ?key=), never stored

/** An error answer of the API, with its status and the problem's detail. */
export class ApiError extends Error {
  constructor(status, detail, response) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.response = response;
  }
}

/** Use `key` for this page only (an embed's `?key=`), without keeping it in the browser. */
export function useKey(key) {
  given = key || '';
}

/** The API key in use ('' when none), taken once from `#key=` in the address if given there. */
export function apiKey() {
  if (given !== null) return given;
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.has('key')) {
    save(KEY, hash.get('key'));
    hash.delete('key');
    const rest = hash.toString();
    history.replaceState(null, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
  }
  return load(KEY) || '';
}

/** Keep `key` for the next visits ('' forgets it). */
export function setApiKey(key) {
  save(KEY, key || null);
}

/** Whether `url` is served by this service (the key is only ever sent there). */
export function sameOrigin(url) {
  return new URL(url, location.href).origin === location.origin;
}

function headers(extra = {}) {
  const key = apiKey();
  return key ? { Authorization: `Bearer ${key}`, ...extra } : extra;
}

/**
 * Ask the API; returns `{body, etag, status}`, or throws an ApiError naming what went wrong.
 * `options`: method, json (a body to send), ifMatch (a revision), signal.
 */
export async function request(path, options = {}) {
  const extra = {};
  if (options.json !== undefined) extra['Content-Type'] = 'application/json';
  if (options.ifMatch !== undefined) extra['If-Match'] = `"${options.ifMatch}"`;
  const response = await fetch(path, {
    method: options.method || 'GET',
    headers: headers(extra),
    body: options.json === undefined ? undefined : JSON.stringify(options.json),
    signal: options.signal,
  });
  const text = await response.text();
  let body = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (!response.ok) {
    const detail = body && typeof body === 'object' ? (body.detail || body.title) : String(body);
    throw new ApiError(response.status, detail || response.statusText, response);
  }
  const etag = response.headers.get('ETag');
  return { body, status: response.status, etag: etag ? etag.replace(/^W\//, '').replace(/"/g, '') : null };
}

/** GET a JSON document. */
export async function get(path) {
  return (await request(path)).body;
}

/** Every feature of a collection (following `next` links), as one FeatureCollection. */
export async function allFeatures(collection, params = {}) {
  const query = new URLSearchParams({ limit: '10000', ...params });
  let next = `/collections/${collection}/items?${query}`;
  const features = [];
  while (next) {
    const page = await get(next);
    features.push(...page.features);
    const link = (page.links || []).find((l) => l.rel === 'next');
    next = link ? link.href : null;
  }
  return { type: 'FeatureCollection', features };
}

/** Add the API key to requests MapLibre makes to this service (tiles, TileJSON, style). */
export function transformRequest(url) {
  const key = apiKey();
  if (key && sameOrigin(url)) return { url, headers: { Authorization: `Bearer ${key}` } };
  return { url };
}
