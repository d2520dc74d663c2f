// Step-through and the diagram's formulas. "Next line" asks the server for the trace of the
// tab's next training step (the library's MLP.trace: the network takes that step, exactly as
// training would) and walks its lines one per click: the diagram highlights the layer and the
// links the line touches, the panel shows the line and the arrays it read and wrote. The
// diagram, the epoch and the hovers show the network as the server has it: after the step.
// Hovering a unit asks for its formula at the point under the pointer, a link for
// its weight and last gradient; every number shown is the server's.

const $ = (id) => document.getElementById(id);

// A number as the panels show it: 4 significant digits, never "-0".
export function fmt(v, digits = 4) {
  if (v === null || v === undefined) return "overflow";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(digits - 2);
  return Number(v.toPrecision(digits)).toString();
}

// A number inside a formula: 2 decimals (more for small ones), negatives bracketed.
function short(v) {
  if (v === null) return "overflow";
  const a = Math.abs(v);
  const text = a === 0 || a >= 0.01 ? v.toFixed(2) : v.toPrecision(2);
  return text.replace("-", "−");
}

// "0.31·x1 − 1.20·x2 + 0.05": weight·name terms and the bias.
function sum(terms, bias, value) {
  let text = "";
  terms.forEach((t, k) => {
    const w = Math.abs(t.weight), sign = t.weight < 0 ? "−" : "+";
    const x = value ? (t.value < 0 ? `(${short(t.value)})` : short(t.value)) : t.input;
    text += k === 0 ? `${t.weight < 0 ? "−" : ""}${short(w)}·${x}` : ` ${sign} ${short(w)}·${x}`;
  });
  if (bias !== null) text += `${text ? (bias < 0 ? " − " : " + ") : bias < 0 ? "−" : ""}${short(Math.abs(bias))}`;
  return text || "0";
}

// The hover text of a unit: its formula with names, then with the numbers at the point.
export function unitText(m) {
  const at = `at (x1, x2) = (${short(m.point[0])}, ${short(m.point[1])})`;
  if (m.activation === null) return `${m.name} = ${short(m.output)} ${at}`;
  const named = sum(m.terms, m.bias, false), numbers = sum(m.terms, m.bias, true);
  const z = short(m.z), out = short(m.output);
  if (m.activation === "identity") return `${m.name} = ${named} = ${out}\n${at}: ${numbers} = ${out}`;
  if (m.activation === "softmax") {
    const k = m.name.split("_")[1] || "1";
    return `${m.name} = softmax(z)_${k} = ${out}, z_${k} = ${named}\n${at}: z_${k} = ${numbers} = ${z}`;
  }
  const act = m.activation === "sigmoid" ? "σ" : m.activation;  // the trace's symbol
  return `${m.name} = ${act}(${named}) = ${out}\n${at}: ${act}(${numbers}) = ${act}(${z}) = ${out}`;
}

export class StepThrough {
  // send: sends a message to the server.
  constructor({ send }) {
    this.send = send;
    this.walk = null;  // the trace being walked: { message, index, expectFrame }
    this.state = null;
    this.waiting = false;  // a trace asked for and not yet come
    this.pointer = null;  // the unit or link under the pointer: its key
    this.asked = null;  // the inspect message in flight: { message, key }
    this.next = null;  // the latest one waiting for it to be answered
    this.root = $("diagram");
    this.button = $("next-line");
    this.button.onclick = () => this.advance();
    new MutationObserver(() => this.attach()).observe(this.root, { childList: true });
  }

  // A new architecture or set-up: any walk is over.
  onState(state) {
    this.state = state;
    this.end();
  }

  advance() {
    const w = this.walk;
    if (w && w.index < w.message.lines.length - 1) {
      w.index += 1;
      this.show();
      return;
    }
    this.waiting = true;
    this.button.disabled = true;
    this.send({ type: "trace" });
  }

  onTrace(message) {
    this.waiting = false;
    this.button.disabled = false;
    this.walk = { message, index: 0, expectFrame: true };
    this.show();
  }

  // Any frame but the one right after a trace means the network moved on (Step, Play, a
  // typed weight): the walk is over.
  onFrame(frame) {
    const w = this.walk;
    this.button.disabled = frame.playing || this.waiting;
    if (!w) return;
    if (w.expectFrame) w.expectFrame = false;
    else this.end();
  }

  // The walk is over: the panel keeps its last line, dimmed; the next press traces anew.
  end() {
    if (this.walk) $("stepthrough").dataset.ended = "true";
    this.walk = null;
    this.highlight(null);
    this.button.textContent = "Next line";
  }

  show() {
    const w = this.walk, m = w.message, line = m.lines[w.index];
    const panel = $("stepthrough");
    panel.hidden = false;
    delete panel.dataset.ended;
    $("trace-counter").textContent = `Epoch ${m.epoch} → ${m.epoch + 1}: line ${w.index + 1} of ${m.lines.length}`;
    $("trace-batch").textContent = m.batch_note;
    $("trace-list").replaceChildren(...m.lines.map((l, k) => {
      const li = document.createElement("li");
      li.textContent = l.text;
      if (k === w.index) li.setAttribute("aria-current", "step");
      else if (k < w.index) li.className = "done";
      return li;
    }));
    $("trace-line").textContent = line.text;
    $("trace-source").textContent = `computed in ${line.source}: ${line.code}`;
    $("trace-arrays").replaceChildren(...line.arrays.map((a) => this.table(a)));
    this.highlight(line);
    this.button.textContent = w.index === m.lines.length - 1 ? "Next step" : "Next line";
  }

  // One array as a small table, its name, shape and the rows shown in the caption.
  table(a) {
    const figure = document.createElement("figure");
    figure.className = `array ${a.role}`;
    figure.setAttribute("data-testid", `array-${a.name.replace(" ", "-")}`);
    const caption = document.createElement("figcaption");
    const shape = a.shape.length ? ` (${a.shape.join("×")})` : "";
    const rows = a.rows_shown !== null && a.shape.length && a.rows_shown < a.shape[0] ? `, first ${a.rows_shown} rows` : "";
    caption.textContent = `${a.name}${shape}${rows}${a.role === "out" ? ", computed here" : ""}`;
    const table = document.createElement("table");
    const values = a.shape.length === 0 ? [[a.values]] : a.shape.length === 1 ? [a.values] : a.values;
    values.forEach((row, r) => {
      const tr = document.createElement("tr");
      row.forEach((v, c) => {
        const td = document.createElement("td");
        td.textContent = fmt(v);
        if (a.changed && a.changed[r] && a.changed[r][c]) td.className = "changed";
        tr.append(td);
      });
      table.append(tr);
    });
    figure.append(caption, table);
    return figure;
  }

  // Mark the units and links a line touches; null: none.
  highlight(line) {
    this.root.classList.toggle("tracing", Boolean(line));
    for (const el of this.root.querySelectorAll(".traced")) el.classList.remove("traced");
    if (!line) return;
    for (const c of line.columns) {
      for (const el of this.root.querySelectorAll(`[data-testid^="unit-${c}-"]`)) el.classList.add("traced");
    }
    for (const l of line.links) {
      for (const el of this.root.querySelectorAll(`[data-testid^="link-${l}-"]`)) el.classList.add("traced");
    }
  }

  // The diagram was rebuilt: listen to its units and links, and mark the line again.
  attach() {
    for (const c of this.root.querySelectorAll("canvas.unit")) {
      const [, col, unit] = c.dataset.testid.split("-").map(Number);
      c.addEventListener("mousemove", (e) => this.inspectUnit(e, c, col, unit));
      c.addEventListener("mouseleave", () => { this.pointer = null; });
    }
    for (const p of this.root.querySelectorAll("path[data-testid^=link-]")) {
      const [, layer, source, target] = p.dataset.testid.split("-").map(Number);
      p.addEventListener("mouseenter", () => {
        this.pointer = p.dataset.testid;
        this.ask({ type: "inspect_link", layer, source, target }, p.dataset.testid);
      });
      p.addEventListener("mouseleave", () => { this.pointer = null; });
    }
    const w = this.walk;
    this.highlight(w ? w.message.lines[w.index] : null);
  }

  // The point of the plane under the pointer in a unit's square (its heatmap spans the plane).
  inspectUnit(e, canvas, column, unit) {
    if (!this.state) return;
    const [lo, hi] = this.state.domain, box = canvas.getBoundingClientRect();
    const fx = Math.min(Math.max((e.clientX - box.left) / box.width, 0), 1);
    const fy = Math.min(Math.max((e.clientY - box.top) / box.height, 0), 1);
    const x1 = lo + fx * (hi - lo), x2 = hi - fy * (hi - lo);
    this.pointer = canvas.dataset.testid;
    this.ask({ type: "inspect_unit", column, unit, x1, x2 }, canvas.dataset.testid);
  }

  // One inspect message in flight; the latest one waiting sent when its answer comes.
  ask(message, key) {
    if (this.asked) { this.next = { message, key }; return; }
    this.asked = { message, key };
    this.send(message);
  }

  answered() {
    const done = this.asked;
    this.asked = null;
    if (this.next) { const n = this.next; this.next = null; this.ask(n.message, n.key); }
    return done;
  }

  // An error came back: whatever was asked is answered (the error box says what went wrong).
  onError() {
    this.asked = this.next = null;
    if (this.waiting) {
      this.waiting = false;
      this.button.disabled = false;
    }
  }

  onUnit(m) {
    const done = this.answered();
    if (!done || this.pointer !== done.key) return;
    const key = `unit-${m.column}-${m.unit}`, unit = this.root.querySelector(`[data-testid="${key}"]`);
    // the bias on a line of its own, as the diagram said it before (a click edits it)
    const bias = m.bias === null || m.bias === undefined || !unit ? "" : `\nbias of ${unit.getAttribute("aria-label")}: ${fmt(m.bias)}`;
    this.showHover(unitText(m) + bias, key);
  }

  onLink(m) {
    const done = this.answered();
    if (!done || this.pointer !== done.key) return;
    const path = this.root.querySelector(`[data-testid="${done.key}"]`);
    const name = path ? path.getAttribute("aria-label") : "weight";
    const grad = m.grad === null ? "none yet (step through a line to see one)" : fmt(m.grad);
    this.showHover(`${name}: ${fmt(m.weight)}\nlast gradient dL/dw: ${grad}`, done.key);
  }

  showHover(text, key) {
    const box = $("hover"), el = this.root.querySelector(`[data-testid="${key}"]`);
    box.textContent = text;
    if (box.hidden && el) {
      const r = el.getBoundingClientRect();
      box.style.left = `${Math.min(r.right + window.scrollX + 8, document.documentElement.clientWidth - 320)}px`;
      box.style.top = `${r.bottom + window.scrollY + 8}px`;
    }
    box.hidden = false;
  }
}
