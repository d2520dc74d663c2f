// Every control's state lives in the URL's fragment, so a link reproduces the set-up.
// The page writes it; the server reads it (a "link" message), keeping the valid fields.

let written = "";  // the fragment this page wrote last: a hashchange to it is our own

export function toURL(settings) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(settings)) q.set(k, Array.isArray(v) ? v.join(",") : String(v));
  written = `#${q.toString()}`;
  if (location.hash !== written) history.replaceState(null, "", written);
}

// The fragment's fields as text, or null when it is empty or the one this page wrote.
export function linkFields() {
  if (location.hash.length <= 1 || location.hash === written) return null;
  return Object.fromEntries(new URLSearchParams(location.hash.slice(1)).entries());
}
