// The network diagram: one small heatmap per unit, links coloured by sign and
// thickened by magnitude. Built once per architecture, then updated per frame.
import { bytes, css, diverging } from "./colors.js";

const SVG = "http://www.w3.org/2000/svg";
const UNIT = 40, GAP = 52, COL = 110, LEFT = 70, TOP = 44;

export class Diagram {
  constructor(root, { onHidden, onWeight }) {
    this.root = root;
    this.onHidden = onHidden;
    this.onWeight = onWeight;
    this.links = [];
    this.units = [];
    this.weights = null;
  }

  x(layer) { return LEFT + layer * COL; }
  y(i) { return TOP + i * GAP; }

  unitName(layer, i) {
    if (layer === 0) return this.state.features[i];
    return layer === this.sizes.length - 1 ? `output ${i + 1}` : `layer ${layer} unit ${i + 1}`;
  }

  // Rebuild for a new architecture (the state message).
  build(state) {
    this.state = state;
    this.sizes = state.sizes;
    const sizes = this.sizes;
    this.root.replaceChildren();
    const height = TOP + Math.max(...sizes) * GAP;
    const width = LEFT + (sizes.length - 1) * COL + UNIT + 20;
    this.root.style.height = `${height}px`;
    this.root.style.width = `${width}px`;
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    this.root.append(svg);
    this.links = [];
    for (let l = 1; l < sizes.length; l++) {
      for (let i = 0; i < sizes[l - 1]; i++) {
        for (let j = 0; j < sizes[l]; j++) {
          const path = document.createElementNS(SVG, "path");
          const x0 = this.x(l - 1) + UNIT, y0 = this.y(i) + UNIT / 2;
          const x1 = this.x(l), y1 = this.y(j) + UNIT / 2, xm = (x0 + x1) / 2;
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
      }
    }
    this.units = [];
    sizes.forEach((n, l) => {
      if (l > 0 && l < sizes.length - 1) this.head(l, n);
      for (let i = 0; i < n; i++) {
        const c = document.createElement("canvas");
        c.width = c.height = state.unit_grid;
        c.className = "unit";
        c.style.left = `${this.x(l)}px`;
        c.style.top = `${this.y(i)}px`;
        c.setAttribute("data-testid", `unit-${l}-${i}`);
        c.setAttribute("aria-label", this.unitName(l, i));
        if (l > 0) {
          const name = `bias of ${this.unitName(l, i)}`;
          c.addEventListener("click", (e) => this.edit(e, l - 1, -1, i));
          c.addEventListener("mouseenter", (e) => this.hover(e, l - 1, -1, i, name));
          c.addEventListener("mouseleave", () => { document.getElementById("hover").hidden = true; });
        }
        this.root.append(c);
        this.units.push({ canvas: c, layer: l, i });
        if (l === 0) {
          const label = document.createElement("span");
          label.className = "unit-label";
          label.textContent = state.features[i];
          label.style.left = `${this.x(0) - 66}px`;
          label.style.top = `${this.y(i) + 12}px`;
          this.root.append(label);
        }
      }
    });
    this.paint(this.units.filter((u) => u.layer === 0), bytes(state.inputs));
  }

  head(l, n) {
    const hidden = this.sizes.slice(1, -1);
    const div = document.createElement("div");
    div.className = "layer-head";
    div.style.left = `${this.x(l) + UNIT / 2 - 45}px`;
    div.style.top = "0px";
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
    text.textContent = `${n} neuron${n === 1 ? "" : "s"}`;
    div.append(add, remove, text);
    this.root.append(div);
  }

  // Each unit's heatmap from planes of g*g bytes, in unit order.
  paint(units, planes) {
    const g = this.state.unit_grid, size = g * g;
    units.forEach((u, k) => {
      const ctx = u.canvas.getContext("2d");
      const img = ctx.createImageData(g, g);
      for (let p = 0; p < size; p++) {
        const rgb = diverging((planes[k * size + p] / 255) * 2 - 1);
        img.data.set([rgb[0], rgb[1], rgb[2], 255], p * 4);
      }
      ctx.putImageData(img, 0, 0);
    });
  }

  update(frame) {
    this.weights = frame.weights;
    this.paint(this.units.filter((u) => u.layer > 0), bytes(frame.units));
    for (const link of this.links) {
      const w = frame.weights[link.layer].W[link.i][link.j];
      link.path.setAttribute("stroke", css(diverging(w >= 0 ? 1 : -1)));
      link.path.setAttribute("stroke-width", Math.min(8, 0.5 + Math.abs(w) * 2).toFixed(2));
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
    const box = document.getElementById("hover");
    box.textContent = `${name}: ${this.value(layer, i, j)}`;
    box.style.left = `${e.pageX + 12}px`;
    box.style.top = `${e.pageY + 12}px`;
    box.hidden = false;
  }

  edit(e, layer, source, target) {
    const box = document.getElementById("weight-editor");
    const input = document.getElementById("weight-input");
    box.style.left = `${e.pageX + 8}px`;
    box.style.top = `${e.pageY + 8}px`;
    box.hidden = false;
    input.value = this.weights ? this.value(layer, source, target) : 0;
    input.onkeydown = (k) => {
      if (k.key === "Enter") {
        box.hidden = true;
        this.onWeight(layer, source, target, Number(input.value));
      } else if (k.key === "Escape") {
        box.hidden = true;
      }
    };
    input.focus();
    input.select();
  }
}
