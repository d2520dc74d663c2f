// The output: the network's output (or a hovered unit's) over the plane, with axis
// ticks, the points on top and a colour legend; and the loss curves.
import { CLASS_COLORS, bytes, css, diverging, soft } from "./colors.js";

// The square the plane is drawn in, inside the canvas: room for ticks left and below.
const PLOT = { left: 28, top: 6, size: 286 };

// One pixel's colour from the outputs there (`values`: one per output, in [0, 1]).
function colour(values, k, discretize) {
  if (k === 1) {
    let v = values[0] * 2 - 1;
    if (discretize) v = v >= 0 ? 1 : -1;
    return soft(diverging(v));
  }
  if (discretize) {  // the most likely class, at full strength
    let best = 0;
    for (let c = 1; c < k; c++) if (values[c] > values[best]) best = c;
    return soft(CLASS_COLORS[best % CLASS_COLORS.length]);
  }
  const rgb = [0, 0, 0];
  for (let c = 0; c < k; c++) {  // one colour per class, weighted by its probability
    const col = CLASS_COLORS[c % CLASS_COLORS.length];
    for (let i = 0; i < 3; i++) rgb[i] += values[c] * col[i];
  }
  return soft(rgb);
}

// Interpolated logits (bytes / 255 over [lo, hi]) to the probabilities they give.
function probabilities(lo, hi) {
  return (values, k) => {
    let top = -Infinity;
    for (let c = 0; c < k; c++) { values[c] = lo + values[c] * (hi - lo); top = Math.max(top, values[c]); }
    if (k === 1) { values[0] = 1 / (1 + Math.exp(-values[0])); return; }
    let sum = 0;
    for (let c = 0; c < k; c++) { values[c] = Math.exp(values[c] - top); sum += values[c]; }
    for (let c = 0; c < k; c++) values[c] /= sum;
  };
}

// The n x n planes of bytes drawn at `size` x `size` pixels: the values are interpolated
// (bilinearly) before they are coloured, so an edge between classes is a smooth line,
// not the staircase of the grid's cells. A classifier's planes are its output units'
// inputs (logits), which vary smoothly where the probabilities saturate; `decode` turns
// them into probabilities after the interpolation.
function heatmap(planes, n, size, discretize, decode = null) {
  const off = new OffscreenCanvas(size, size);
  const ctx = off.getContext("2d");
  const img = ctx.createImageData(size, size);
  const cells = n * n, k = planes.length / cells;
  const values = new Float64Array(k);
  const at = (t) => Math.min(n - 1, Math.max(0, ((t + 0.5) * n) / size - 0.5));
  for (let py = 0; py < size; py++) {
    const y = at(py), y0 = Math.floor(y), y1 = Math.min(n - 1, y0 + 1), fy = y - y0;
    for (let px = 0; px < size; px++) {
      const x = at(px), x0 = Math.floor(x), x1 = Math.min(n - 1, x0 + 1), fx = x - x0;
      for (let c = 0; c < k; c++) {
        const o = c * cells;
        const top = planes[o + y0 * n + x0] * (1 - fx) + planes[o + y0 * n + x1] * fx;
        const bottom = planes[o + y1 * n + x0] * (1 - fx) + planes[o + y1 * n + x1] * fx;
        values[c] = (top * (1 - fy) + bottom * fy) / 255;
      }
      if (decode) decode(values, k);
      const rgb = colour(values, k, discretize);
      img.data.set([rgb[0], rgb[1], rgb[2], 255], (py * size + px) * 4);
    }
  }
  ctx.putImageData(img, 0, 0);
  return off;
}

function niceStep(range) {
  const raw = range / 6, mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

function ticks(ctx, lo, hi) {
  const { left, top, size } = PLOT;
  const step = niceStep(hi - lo);
  ctx.fillStyle = "#444";
  ctx.strokeStyle = "#888";
  ctx.font = "10px sans-serif";
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) {
    const f = (v - lo) / (hi - lo), label = String(Math.round(v * 100) / 100);
    const x = left + f * size, y = top + (1 - f) * size;
    ctx.beginPath();
    ctx.moveTo(x, top + size); ctx.lineTo(x, top + size + 4);
    ctx.moveTo(left - 4, y); ctx.lineTo(left, y);
    ctx.stroke();
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.fillText(label, x, top + size + 5);
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    ctx.fillText(label, left - 6, y);
  }
}

function pointColour(state, label, range) {
  if (state.classes > 2) return CLASS_COLORS[label % CLASS_COLORS.length];
  if (state.problem === "regression") return diverging(((label - range[0]) / (range[1] - range[0])) * 2 - 1);
  return label > 0.5 ? CLASS_COLORS[1] : CLASS_COLORS[0];
}

// `view`: { showTest, discretize, unit: null or { plane, name } }
export function drawBoundary(canvas, state, frame, view) {
  // drawn on the CPU: the same pixels every time, however often they are read back
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const { left, top, size } = PLOT;
  ctx.reset?.();  // no line width or text alignment left over from the last drawing
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  let image;
  if (view.unit) image = heatmap(view.unit.plane, state.unit_grid, size, view.discretize);
  else if (frame.output_z) {
    const decode = probabilities(frame.z_range[0], frame.z_range[1]);
    image = heatmap(bytes(frame.output_z), frame.grid, size, view.discretize, decode);
  } else image = heatmap(bytes(frame.output), frame.grid, size, view.discretize);
  ctx.drawImage(image, left, top);
  ctx.strokeStyle = "#999";
  ctx.lineWidth = 1;
  ctx.strokeRect(left - 0.5, top - 0.5, size + 1, size + 1);
  ticks(ctx, state.domain[0], state.domain[1]);
  const [lo, hi] = state.domain;
  const scale = size / (hi - lo);
  // white rings on class colours; on the pale middle of a regression scale, grey ones
  const ring = state.problem === "regression" ? "#666" : "#fff";
  const sets = view.showTest ? [["train", ring], ["test", "#000"]] : [["train", ring]];
  for (const [which, stroke] of sets) {
    const pts = state.points[which];
    for (let i = 0; i < pts.x.length; i++) {
      const [x1, x2] = pts.x[i];
      ctx.beginPath();
      ctx.arc(left + (x1 - lo) * scale, top + (hi - x2) * scale, 3.5, 0, 2 * Math.PI);
      ctx.fillStyle = css(pointColour(state, pts.label[i], frame.output_range));
      ctx.fill();
      ctx.lineWidth = 1.25;
      ctx.strokeStyle = stroke;
      ctx.stroke();
    }
  }
}

// What the colours mean: a scale from low to high, or one swatch per class.
export function drawLegend(root, state, frame, view) {
  const parts = [];
  const text = (t) => { const s = document.createElement("span"); s.textContent = t; return s; };
  if (!view.unit && state.classes > 2) {
    for (let c = 0; c < state.classes; c++) {
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = css(CLASS_COLORS[c % CLASS_COLORS.length]);
      parts.push(sw, text(`class ${c}`));
    }
  } else {
    const [lo, hi] = view.unit ? [-1, 1] : frame.output_range;
    const bar = document.createElement("canvas");
    bar.width = 120; bar.height = 10;
    const ctx = bar.getContext("2d");
    for (let x = 0; x < 120; x++) {
      const v = (x / 119) * 2 - 1;
      ctx.fillStyle = css(soft(diverging(view.discretize ? (v >= 0 ? 1 : -1) : v)));
      ctx.fillRect(x, 0, 1, 10);
    }
    const fmt = (v) => String(Math.round(v * 100) / 100);
    const classes = !view.unit && state.problem === "classification";
    parts.push(text(classes ? "class 0" : fmt(lo)), bar, text(classes ? "class 1" : fmt(hi)));
  }
  root.replaceChildren(...parts);
}

// Train and test loss against the epoch, from [epoch, train, test] rows.
export function drawLosses(canvas, history) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (history.length < 1) return;
  const maxEpoch = Math.max(1, history[history.length - 1][0]);
  let maxLoss = 1e-9;
  for (const row of history) maxLoss = Math.max(maxLoss, row[1] ?? 0, row[2] ?? 0);
  const w = canvas.width, h = canvas.height;
  for (const [col, color] of [[1, "#0877bd"], [2, "#f59322"]]) {
    ctx.beginPath();
    history.forEach((row, i) => {
      const x = (row[0] / maxEpoch) * (w - 2) + 1;
      const y = h - 2 - ((row[col] ?? maxLoss) / maxLoss) * (h - 14);
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.5;
    ctx.stroke();
  }
  ctx.fillStyle = "#333";
  ctx.font = "10px sans-serif";
  ctx.fillText(`train (blue), test (orange); max ${maxLoss.toPrecision(3)}`, 4, 10);
}
