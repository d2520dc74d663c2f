// The network diagram: one small heatmap per unit, links coloured by sign and
// thickened by magnitude. Built once per architecture (and window width), then
// updated per frame. It shrinks to the width it is given: a laptop shows the
// largest network (6 layers of 8) whole, a phone a smaller copy of it.
import { bytes, css, diverging, upscale } from "./colors.js";

const SVG = "http://www.w3.org/2000/svg";

// Unit size, column step, row step and margins for `columns` columns in `width` px.
function geometry(width, columns) {
  const left = Math.min(56, Math.max(36, width * 0.1));
  const room = Math.max(120, width - left - 8);
  const unit = Math.round(Math.max(18, Math.min(40, room / (columns * 1.7))));
  const col = columns > 1 ? Math.min(130, (room - unit) / (columns - 1)) : 0;
  return { unit, col, gap: unit + Math.max(6, unit * 0.3), left, top: 40 };
}

export class Diagram {
  constructor(root, { onHidden, onWeight, onHoverUnit }) {
    this.root = root;
    this.onHidden = onHidden;
    this.onWeight = onWeight;
    this.onHoverUnit = onHoverUnit;
    this.links = [];
    this.units = [];
    this.weights = null;
    this.planes = { inputs: null, units: null };
  }

  x(layer) { return this.g.left + layer * this.g.col; }
  y(i) { return this.g.top + i * this.g.gap; }

  unitName(layer, i) {
    if (layer === 0) return this.state.features[i];
    return layer === this.sizes.length - 1 ? `output ${i + 1}` : `layer ${layer} unit ${i + 1}`;
  }

  // Rebuild for a new architecture (the state message) or a new width.
  build(state) {
    this.state = state;
    this.sizes = state.sizes;
    const sizes = this.sizes;
    this.g = geometry(this.root.parentElement.clientWidth, sizes.length);
    const { unit } = this.g;
    this.root.replaceChildren();
    const height = this.g.top + Math.max(...sizes) * this.g.gap;
    const width = this.x(sizes.length - 1) + unit + 4;
    this.root.style.height = `${height}px`;
    this.root.style.width = `${width}px`;
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    this.root.append(svg);
    this.links = [];
    for (let l = 1; l < sizes.length; l++) {
      for (let i = 0; i < sizes[l - 1]; i++) {
        for (let j = 0; j < sizes[l]; j++) this.link(svg, l, i, j);
      }
    }
    this.units = [];
    sizes.forEach((n, l) => {
      if (l > 0 && l < sizes.length - 1) this.head(l, n);
      for (let i = 0; i < n; i++) this.unit(l, i);
    });
    this.planes.inputs = bytes(state.inputs);
    this.paint(this.units.filter((u) => u.layer === 0), this.planes.inputs);
  }

  link(svg, l, i, j) {
    const { unit } = this.g;
    const path = document.createElementNS(SVG, "path");
    const x0 = this.x(l - 1) + unit, y0 = this.y(i) + unit / 2;
    const x1 = this.x(l), y1 = this.y(j) + unit / 2, xm = (x0 + x1) / 2;
    path.setAttribute("d", `M${x0},${y0} C${xm},${y0} ${xm},${y1} ${x1},${y1}`);
    path.setAttribute("data-testid", `link-${l - 1}-${i}-${j}`);
    const name = `weight from ${this.unitName(l - 1, i)} to ${this.unitName(l, j)}`;
    path.setAttribute("aria-label", name);
    path.setAttribute("role", "button");
    const title = document.createElementNS(SVG, "title");
    path.append(title);
    path.addEventListener("mouseenter", (e) => this.hover(e, l - 1, i, j, name));
    path.addEventListener("mouseleave", () => { document.getElementById("hover").hidden = true; });
    path.addEventListener("click", (e) => this.edit(e, l - 1, i, j));
    svg.append(path);
    this.links.push({ path, title, layer: l - 1, i, j, name });
  }

  unit(l, i) {
    const { unit } = this.g;
    const c = document.createElement("canvas");
    c.width = c.height = unit;  // drawn at its size, smoothly, from the unit's grid
    c.className = "unit";
    Object.assign(c.style, { left: `${this.x(l)}px`, top: `${this.y(i)}px`, width: `${unit}px`, height: `${unit}px` });
    c.setAttribute("data-testid", `unit-${l}-${i}`);
    c.setAttribute("aria-label", this.unitName(l, i));
    const entry = { canvas: c, layer: l, i, index: this.units.length };
    c.addEventListener("mouseenter", (e) => {
      this.onHoverUnit(entry, this.unitName(l, i));
      if (l > 0) this.hover(e, l - 1, -1, i, `bias of ${this.unitName(l, i)}`);
    });
    c.addEventListener("mouseleave", () => {
      this.onHoverUnit(null);
      document.getElementById("hover").hidden = true;
    });
    if (l > 0) c.addEventListener("click", (e) => this.edit(e, l - 1, -1, i));
    this.root.append(c);
    this.units.push(entry);
    if (l === 0) {
      const label = document.createElement("span");
      label.className = "unit-label";
      label.textContent = this.state.features[i];
      Object.assign(label.style, { left: "0px", width: `${this.g.left - 4}px`, top: `${this.y(i) + unit / 2 - 8}px` });
      this.root.append(label);
    }
  }

  head(l, n) {
    const hidden = this.sizes.slice(1, -1);
    const div = document.createElement("div");
    div.className = "layer-head";
    const w = Math.max(this.g.unit + 4, Math.min(90, this.g.col - 2));
    Object.assign(div.style, { left: `${this.x(l) + this.g.unit / 2 - w / 2}px`, top: "0px", width: `${w}px` });
    const add = document.createElement("button");
    add.type = "button";
    add.textContent = "+";
    add.setAttribute("aria-label", `Add neuron to layer ${l}`);
    add.disabled = n >= 8;
    add.onclick = () => { hidden[l - 1] += 1; this.onHidden(hidden); };
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "−";
    remove.setAttribute("aria-label", `Remove neuron from layer ${l}`);
    remove.disabled = n <= 1;
    remove.onclick = () => { hidden[l - 1] -= 1; this.onHidden(hidden); };
    const text = document.createElement("div");
    text.textContent = w >= 64 ? `${n} neuron${n === 1 ? "" : "s"}` : `${n}`;
    text.title = `${n} neuron${n === 1 ? "" : "s"}`;
    div.append(add, remove, text);
    this.root.append(div);
  }

  // The g*g bytes of one unit's heatmap (inputs from the state, the rest from the frame).
  plane(entry) {
    const g = this.state.unit_grid, size = g * g;
    const inputs = this.sizes[0];
    if (entry.layer === 0) return this.planes.inputs.subarray(entry.i * size, (entry.i + 1) * size);
    const k = entry.index - inputs;
    return this.planes.units ? this.planes.units.subarray(k * size, (k + 1) * size) : null;
  }

  // Each unit's heatmap from planes of g*g bytes, in unit order.
  paint(units, planes) {
    const g = this.state.unit_grid, size = g * g;
    units.forEach((u, k) => {
      upscale(u.canvas.getContext("2d"), planes.subarray(k * size, (k + 1) * size), g, u.canvas.width);
    });
  }

  update(frame) {
    this.weights = frame.weights;
    this.planes.units = bytes(frame.units);
    this.paint(this.units.filter((u) => u.layer > 0), this.planes.units);
    const thick = this.g.unit / 40;  // links as thick as the units are large
    for (const link of this.links) {
      const w = frame.weights[link.layer].W[link.i][link.j];
      link.path.setAttribute("stroke", css(diverging(w >= 0 ? 1 : -1)));
      link.path.setAttribute("stroke-width", (thick * Math.min(8, 0.5 + Math.abs(w) * 2)).toFixed(2));
      link.path.setAttribute("stroke-opacity", "0.8");
      link.path.dataset.weight = String(w);
      link.title.textContent = `${link.name}: ${w}`;
    }
  }

  value(layer, source, target) {
    const p = this.weights[layer];
    return source < 0 ? (p.b ? p.b[target] : 0) : p.W[source][target];
  }

  hover(e, layer, i, j, name) {
    if (!this.weights) return;
    const box = document.getElementById("hover");
    box.textContent = `${name}: ${this.value(layer, i, j)}`;
    box.style.left = `${Math.min(e.pageX + 12, document.documentElement.clientWidth - 200)}px`;
    box.style.top = `${e.pageY + 12}px`;
    box.hidden = false;
  }

  edit(e, layer, source, target) {
    const box = document.getElementById("weight-editor");
    const input = document.getElementById("weight-input");
    document.getElementById("weight-label").textContent = source < 0 ? "New bias" : "New weight";
    box.style.left = `${Math.min(e.pageX + 8, document.documentElement.clientWidth - 220)}px`;
    box.style.top = `${e.pageY + 8}px`;
    box.hidden = false;
    input.value = this.weights ? this.value(layer, source, target) : 0;
    input.onkeydown = (k) => {
      if (k.key === "Enter") {
        box.hidden = true;
        const text = input.value.trim();
        const v = Number(text);
        // a number the page cannot send as one (1e309, text) goes as typed: the server says why not
        this.onWeight(layer, source, target, text !== "" && Number.isFinite(v) ? v : text);
      } else if (k.key === "Escape") {
        box.hidden = true;
      }
    };
    input.focus();
    input.select();
  }
}
