// The output: the network's output (or a hovered unit's) over the plane, with axis
// ticks, the points on top and a colour legend; and the loss curves.
import { CLASS_COLORS, bytes, css, diverging, soft } from "./colors.js";

// The square the plane is drawn in, inside the canvas: room for ticks left and below.
const PLOT = { left: 28, top: 6, size: 286 };

// One pixel's colour from the planes (one per output) at pixel p.
function colour(planes, p, size, k, discretize) {
  if (k === 1) {
    let v = (planes[p] / 255) * 2 - 1;
    if (discretize) v = v >= 0 ? 1 : -1;
    return soft(diverging(v));
  }
  if (discretize) {  // the most likely class, at full strength
    let best = 0;
    for (let c = 1; c < k; c++) if (planes[c * size + p] > planes[best * size + p]) best = c;
    return soft(CLASS_COLORS[best % CLASS_COLORS.length]);
  }
  const rgb = [0, 0, 0];
  for (let c = 0; c < k; c++) {  // one colour per class, weighted by its probability
    const w = planes[c * size + p] / 255;
    const col = CLASS_COLORS[c % CLASS_COLORS.length];
    for (let i = 0; i < 3; i++) rgb[i] += w * col[i];
  }
  return soft(rgb);
}

function heatmap(planes, n, discretize) {
  const off = new OffscreenCanvas(n, n);
  const ctx = off.getContext("2d");
  const img = ctx.createImageData(n, n);
  const size = n * n, k = planes.length / size;
  for (let p = 0; p < size; p++) {
    const rgb = colour(planes, p, size, k, discretize);
    img.data.set([rgb[0], rgb[1], rgb[2], 255], p * 4);
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
  const image = view.unit
    ? heatmap(view.unit.plane, state.unit_grid, view.discretize)
    : heatmap(bytes(frame.output), frame.grid, view.discretize);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(image, left, top, size, size);
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
