// The page: one WebSocket to this tab's training session; every control sends
// the full settings, and the server answers with its state and frames.
import { Diagram } from "./diagram.js";
import { CLASS_COLORS, css, diverging } from "./colors.js";
import { drawBoundary, drawLegend, drawLosses } from "./plots.js";
import { linkFields, toURL } from "./url.js";
import { StepThrough } from "./stepthrough.js";

const $ = (id) => document.getElementById(id);
let ws, hello, state, settings, history = [], playing = false, lastFrame = null, hovered = null;
// Pause (or Step) sent and not yet answered: frames still playing were made before the server
// paused, and are dropped, so the epoch shown stops where the server's training stopped.
let pausing = false;
let connected = false;

const diagram = new Diagram($("diagram"), {
  onHidden: (hidden) => configure({ hidden }),
  onWeight: (layer, source, target, value) => act({ type: "set_weight", layer, source, target, value }),
  onHoverUnit: (entry, name) => { hovered = entry ? { entry, name } : null; redraw(); },
});

// a trace is a user's action (it clears the last error); a hover's question is not
const stepper = new StepThrough({ send: (m) => (m.type === "trace" ? act(m) : send(m)) });

function send(message) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
}

// A user's action: the last error goes (a new one comes back if this fails too).
function act(message) {
  if (connected) showError("");
  send(message);
}

function configure(change) {
  settings = { ...settings, ...change };
  toURL(settings);
  act({ type: "config", settings });
}

function showError(text) {
  const box = $("error");
  box.textContent = text;
  box.hidden = !text;
}

function fill(select, values, label = (v) => String(v)) {
  select.replaceChildren(...values.map((v) => {
    const o = document.createElement("option");
    o.value = String(v);
    o.textContent = label(v);
    return o;
  }));
}

const datasetOf = (name) => hello.datasets.find((d) => d.name === name);

// A data set's choice: a regression set makes the problem regression.
function chooseDataset(name) {
  const d = datasetOf(name);
  configure(d && d.problem === "regression" ? { dataset: name, problem: "regression" } : { dataset: name });
}

function thumbnail(d) {
  const button = document.createElement("button");
  button.type = "button";
  button.dataset.dataset = d.name;
  button.title = `${d.name}: ${d.description}`;
  button.setAttribute("aria-label", `${d.name} thumbnail`);
  const c = document.createElement("canvas");
  c.width = c.height = 48;
  const ctx = c.getContext("2d");
  ctx.fillStyle = "#f4f4f4";
  ctx.fillRect(0, 0, 48, 48);
  const xs = d.preview.map((r) => r[0]), lo = Math.min(...xs, ...d.preview.map((r) => r[1]));
  const hi = Math.max(...xs, ...d.preview.map((r) => r[1])), pad = (hi - lo) * 0.08 + 1e-9;
  for (const [x, y, label] of d.preview) {
    let rgb;
    if (d.problem === "regression") rgb = diverging(label);
    else rgb = CLASS_COLORS[(d.classes > 2 ? label : label > 0.5 ? 1 : 0) % CLASS_COLORS.length];
    ctx.fillStyle = css(rgb);
    const px = ((x - lo + pad) / (hi - lo + 2 * pad)) * 48, py = ((hi + pad - y) / (hi - lo + 2 * pad)) * 48;
    ctx.fillRect(px - 1.5, py - 1.5, d.name === "xor" ? 8 : 3, d.name === "xor" ? 8 : 3);
  }
  button.append(c);
  button.onclick = () => chooseDataset(d.name);
  return button;
}

function buildControls() {
  fill($("dataset"), [...hello.datasets.map((d) => d.name), "upload"], (n) => {
    const d = datasetOf(n);
    return n === "upload" ? "upload (your CSV)" : n === "xor" ? "xor (the seed's 4 points)" : `${n}: ${d.description}`;
  });
  $("thumbnails").replaceChildren(...hello.datasets.map(thumbnail));
  fill($("lr"), hello.learning_rates);
  fill($("activation"), hello.activations);
  fill($("regularization"), hello.regularizations);
  fill($("reg_rate"), hello.reg_rates);
  fill($("problem"), hello.problems);
  const legend = document.createElement("legend");
  legend.textContent = "Features";
  $("features").replaceChildren(legend, ...hello.features.map((f) => {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = f.name;
    box.addEventListener("change", () => {
      const chosen = [...$("features").querySelectorAll("input:checked")].map((b) => b.value);
      if (chosen.length === 0) { box.checked = true; return; }
      configure({ features: chosen });
    });
    label.append(box, ` ${f.label}`);
    return label;
  }));
}

// Controls that do not apply to the chosen data set are disabled, with a reason.
function applicable() {
  const fixed = settings.dataset === "xor", upload = settings.dataset === "upload";
  const d = datasetOf(settings.dataset);
  const off = (id, disabled, why) => {
    const el = $(id);
    el.disabled = disabled;
    el.title = disabled ? why : "";
    el.closest("label")?.classList.toggle("disabled", disabled);
  };
  off("noise", fixed || upload, fixed ? "the seed's four points have no noise" : "your points are used as they are");
  off("points", fixed || upload, fixed ? "the seed's data is four points" : "your file sets the points");
  off("regenerate", fixed || upload, "these points are fixed");
  off("train_ratio", fixed, "the seed's four points are both the training and the test data");
  off("show_test", fixed, "the test data are the same four points");
  off("reg_rate", settings.regularization === "none", "choose L1 or L2 regularization first");
  off("problem", Boolean(d && d.problem === "regression"), "this data set is a regression problem");
}

function showSettings() {
  for (const el of document.querySelectorAll("[data-setting]")) {
    el.value = String(settings[el.dataset.setting]);
  }
  for (const el of document.querySelectorAll("[data-toggle]")) el.checked = Boolean(settings[el.dataset.toggle]);
  for (const box of $("features").querySelectorAll("input")) box.checked = settings.features.includes(box.value);
  for (const b of $("thumbnails").querySelectorAll("button")) {
    b.setAttribute("aria-pressed", String(b.dataset.dataset === settings.dataset));
  }
  $("noise-value").textContent = settings.noise;
  $("train_ratio-value").textContent = `${Math.round(settings.train_ratio * 100)}%`;
  const n = settings.hidden.length;
  $("layer-count").textContent = `${n} hidden layer${n === 1 ? "" : "s"}`;
  $("add-layer").disabled = n >= hello.limits.layers;
  $("remove-layer").disabled = n === 0;
  applicable();
}

function view() {
  const unit = hovered && diagram.plane(hovered.entry);
  return {
    showTest: settings.show_test || settings.dataset === "xor",
    discretize: settings.discretize,
    unit: unit ? { plane: unit, name: hovered.name } : null,
  };
}

function redraw() {
  if (!lastFrame || !state) return;
  const v = view();
  drawBoundary($("boundary"), state, lastFrame, v);
  drawLegend($("colour-legend"), state, lastFrame, v);
  $("showing").textContent = v.unit ? `Showing ${v.unit.name} (move away for the network's output)` : "The network's output";
}

function onState(message) {
  state = message;
  settings = message.settings;
  history = message.history.slice();
  hovered = null;
  toURL(settings);
  showSettings();
  diagram.build(state);
  stepper.onState(state);
}

function showPlaying(on) {
  playing = on;
  $("play").textContent = on ? "Pause" : "Play";
}

const ENGINE_NAMES = { jax: "mlplab's compiled JAX engine", numpy: "mlplab's NumPy engine" };

// Which engine trains: the server's, or NumPy for the moments a new network compiles.
function engineText(frame) {
  if (!frame.trained_by) return `Trains with ${ENGINE_NAMES[frame.engine]}`;
  if (frame.trained_by !== frame.engine) return "Trained by NumPy while JAX compiles this network";
  return `Trained by ${ENGINE_NAMES[frame.engine]}`;
}

function onFrame(frame) {
  if (pausing && frame.playing) return;
  if (!frame.playing) pausing = false;
  lastFrame = frame;
  showPlaying(frame.playing);
  stepper.onFrame(frame);
  $("epoch").textContent = String(frame.epoch);
  $("engine").textContent = engineText(frame);
  const show = (v) => (v === null ? "overflow" : v.toFixed(4));
  $("train-loss").textContent = show(frame.train_loss);
  $("test-loss").textContent = show(frame.test_loss);
  const last = history[history.length - 1];
  if (!last || last[0] !== frame.epoch) history.push([frame.epoch, frame.train_loss, frame.test_loss]);
  if (history.length > 2000) history = history.filter((_, i) => i % 2 === 0);
  diagram.update(frame);
  redraw();
  drawLosses($("losses"), history);
}

let dataURL = null;

function onCode(message) {
  if (dataURL) URL.revokeObjectURL(dataURL);
  dataURL = URL.createObjectURL(new Blob([message.data], { type: "text/csv" }));
  $("code-data").href = dataURL;
  $("code-data").download = message.data_file;
  $("code-data").textContent = message.data_file;
  $("code-rows").textContent = String(message.rows);
  $("code-source").textContent = message.source;
  $("code-predictions").textContent = message.printed;
  const dialog = $("code-dialog");
  if (!dialog.open) dialog.showModal();
}

// The link in the address bar, when it is not the one this page wrote: the server keeps
// its valid fields and says which it ignored.
function followLink() {
  const fields = linkFields();
  if (fields) act({ type: "link", fields });
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  ws = new WebSocket(`${scheme}://${location.host}/ws`);
  ws.onopen = () => { connected = true; };
  ws.onmessage = (event) => {
    const m = JSON.parse(event.data);
    if (m.type === "hello") {
      hello = m;
      buildControls();
      followLink();
    } else if (m.type === "state") {
      onState(m);
    } else if (m.type === "frame") {
      onFrame(m);
    } else if (m.type === "trace") {
      stepper.onTrace(m);
    } else if (m.type === "unit_formula") {
      stepper.onUnit(m);
    } else if (m.type === "link_value") {
      stepper.onLink(m);
    } else if (m.type === "code") {
      onCode(m);
    } else if (m.type === "error") {
      showError(m.message);
      stepper.onError();
      if (state) { settings = state.settings; toURL(settings); showSettings(); }
    }
  };
  ws.onclose = () => {
    connected = false;
    showPlaying(false);
    for (const id of ["play", "step", "next-line", "reset", "rewind"]) $(id).disabled = true;
    showError("Disconnected from the playground server; reload the page to reconnect.");
  };
}

function wire() {
  $("play").onclick = () => {
    pausing = playing;
    act({ type: playing ? "pause" : "play" });
  };
  $("step").onclick = () => { pausing = true; act({ type: "step" }); };
  for (const id of ["reset", "rewind", "regenerate"]) $(id).onclick = () => act({ type: id });
  $("add-layer").onclick = () => configure({ hidden: [...settings.hidden, 2] });
  $("remove-layer").onclick = () => configure({ hidden: settings.hidden.slice(0, -1) });
  for (const el of document.querySelectorAll("[data-setting]")) {
    el.addEventListener("change", () => {
      const key = el.dataset.setting;
      if (key === "dataset") return chooseDataset(el.value);
      const text = ["activation", "regularization", "problem"].includes(key);
      configure({ [key]: text ? el.value : Number(el.value) });
    });
  }
  for (const el of document.querySelectorAll("[data-toggle]")) {
    el.addEventListener("change", () => configure({ [el.dataset.toggle]: el.checked }));
  }
  $("upload").addEventListener("change", async () => {
    const file = $("upload").files[0];
    if (!file) return;
    if (file.size > hello.limits.message_bytes) {
      showError(`${file.name}: ${file.size} bytes; the limit is ${hello.limits.message_bytes}`);
      return;
    }
    act({ type: "upload", csv: await file.text(), name: file.name });
    $("upload").value = "";
  });
  const askCode = () => act({ type: "code", epochs: Number($("code-epochs").value) });
  $("show-code").onclick = askCode;
  $("code-refresh").onclick = askCode;
  $("code-close").onclick = () => $("code-dialog").close();
  $("code-copy").onclick = () => navigator.clipboard?.writeText($("code-source").textContent);
  window.addEventListener("hashchange", () => hello && followLink());
  let pending = null;
  window.addEventListener("resize", () => {
    clearTimeout(pending);
    pending = setTimeout(() => { if (state) { diagram.build(state); if (lastFrame) diagram.update(lastFrame); redraw(); } }, 100);
  });
}

wire();
connect();
