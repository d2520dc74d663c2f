// The output: decision boundary heatmap with the points on top, and the loss curves.
import { CLASS_COLORS, bytes, css, diverging } from "./colors.js";

// Paint an n x n heatmap into an ImageData from planes of bytes (one plane per output).
function heatmap(ctx, planes, n, classes, problem) {
  const img = ctx.createImageData(n, n);
  const size = n * n;
  const k = planes.length / size;
  for (let p = 0; p < size; p++) {
    let rgb;
    if (k === 1) {
      rgb = diverging((planes[p] / 255) * 2 - 1);
    } else {  // one colour per class, weighted by its probability
      rgb = [0, 0, 0];
      for (let c = 0; c < k; c++) {
        const w = planes[c * size + p] / 255;
        const col = CLASS_COLORS[c % CLASS_COLORS.length];
        for (let i = 0; i < 3; i++) rgb[i] += w * col[i];
      }
      for (let i = 0; i < 3; i++) rgb[i] = 0.6 * rgb[i] + 0.4 * 232;
    }
    img.data.set([rgb[0], rgb[1], rgb[2], 255], p * 4);
  }
  return img;
}

export function drawBoundary(canvas, state, frame) {
  const ctx = canvas.getContext("2d");
  const n = frame.grid;
  const off = new OffscreenCanvas(n, n);
  const planes = bytes(frame.output);
  off.getContext("2d").putImageData(heatmap(off.getContext("2d"), planes, n, state.classes, state.problem), 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
  const [lo, hi] = state.domain;
  const scale = canvas.width / (hi - lo);
  const [olo, ohi] = frame.output_range;
  for (const [which, stroke] of [["train", "#fff"], ["test", "#000"]]) {
    const pts = state.points[which];
    for (let i = 0; i < pts.x.length; i++) {
      const [x1, x2] = pts.x[i];
      const label = pts.label[i];
      let rgb;
      if (state.classes > 2) rgb = CLASS_COLORS[label % CLASS_COLORS.length];
      else if (state.problem === "regression") rgb = diverging(((label - olo) / (ohi - olo)) * 2 - 1);
      else rgb = label > 0.5 ? CLASS_COLORS[1] : CLASS_COLORS[0];
      ctx.beginPath();
      ctx.arc((x1 - lo) * scale, (hi - x2) * scale, 3, 0, 2 * Math.PI);
      ctx.fillStyle = css(rgb);
      ctx.fill();
      ctx.lineWidth = 1;
      ctx.strokeStyle = stroke;
      ctx.stroke();
    }
  }
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
      const y = h - 2 - ((row[col] ?? maxLoss) / maxLoss) * (h - 4);
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
