// Colour scales: a diverging one for values in [-1, 1] and one colour per class.
const NEG = [245, 147, 34];
const MID = [232, 234, 235];
const POS = [8, 119, 189];
export const CLASS_COLORS = [
  [245, 147, 34], [8, 119, 189], [44, 160, 44], [214, 39, 40],
  [148, 103, 189], [140, 86, 75], [227, 119, 194], [127, 127, 127],
];

// v in [-1, 1] -> [r, g, b]: orange below zero, white-ish at zero, blue above.
export function diverging(v) {
  const a = Math.min(1, Math.abs(v));
  const end = v < 0 ? NEG : POS;
  return [0, 1, 2].map((i) => Math.round(MID[i] + (end[i] - MID[i]) * a));
}

// A background shade: the colour part way to the neutral grey, so points drawn in the
// full colour stay visible over the most confident regions.
export function soft(rgb, strength = 0.62) {
  return [0, 1, 2].map((i) => Math.round(MID[i] + (rgb[i] - MID[i]) * strength));
}

export function css(rgb) {
  return `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`;
}

// Base64 text of bytes -> Uint8Array.
export function bytes(b64) {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

// A plane of n x n bytes drawn at size x size pixels, interpolated between the cells'
// centres (bilinearly) before `toRgb(value in [0, 1])` colours each pixel.
export function upscale(ctx, plane, n, size) {
  const img = ctx.createImageData(size, size);
  const at = (t) => Math.min(n - 1, Math.max(0, ((t + 0.5) * n) / size - 0.5));
  for (let py = 0; py < size; py++) {
    const y = at(py), y0 = Math.floor(y), y1 = Math.min(n - 1, y0 + 1), fy = y - y0;
    for (let px = 0; px < size; px++) {
      const x = at(px), x0 = Math.floor(x), x1 = Math.min(n - 1, x0 + 1), fx = x - x0;
      const top = plane[y0 * n + x0] * (1 - fx) + plane[y0 * n + x1] * fx;
      const bottom = plane[y1 * n + x0] * (1 - fx) + plane[y1 * n + x1] * fx;
      const rgb = diverging(((top * (1 - fy) + bottom * fy) / 255) * 2 - 1);
      img.data.set([rgb[0], rgb[1], rgb[2], 255], (py * size + px) * 4);
    }
  }
  ctx.putImageData(img, 0, 0);
}
