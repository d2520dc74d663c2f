// Every control's state lives in the URL's fragment, so a link reproduces the set-up.
const LISTS = new Set(["features", "hidden"]);
const TEXT = new Set(["dataset", "activation", "regularization", "problem"]);

export function toURL(settings) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(settings)) q.set(k, Array.isArray(v) ? v.join(",") : String(v));
  history.replaceState(null, "", `#${q.toString()}`);
}

// The settings named in the URL, over the defaults.
export function fromURL(defaults) {
  const q = new URLSearchParams(location.hash.slice(1));
  const out = { ...defaults };
  for (const [k, v] of q.entries()) {
    if (!(k in defaults)) continue;
    if (LISTS.has(k)) {
      const items = v === "" ? [] : v.split(",");
      out[k] = k === "hidden" ? items.map(Number) : items;
    } else if (TEXT.has(k)) {
      out[k] = v;
    } else {
      out[k] = Number(v);
    }
  }
  return out;
}
