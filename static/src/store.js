// The browser's local storage, where it may be used: an iframe on another site may be denied it.

/** The stored value of `key`, or null when there is none or storage is denied. */
export function load(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

/** Keep `value` under `key` (null forgets it); does nothing where storage is denied. */
export function save(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // an embedded page without storage keeps its settings for this visit only
  }
}
