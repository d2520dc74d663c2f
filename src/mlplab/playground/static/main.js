// The page: one WebSocket to this tab's training session; every control sends
// the full settings, and the server answers with its state and frames.
import { Diagram } from "./diagram.js";
import { drawBoundary, drawLosses } from "./plots.js";
import { fromURL, toURL } from "./url.js";

const $ = (id) => document.getElementById(id);
let ws, hello, state, settings, history = [], playing = false, lastFrame = null;

const diagram = new Diagram($("diagram"), {
  onHidden: (hidden) => configure({ hidden }),
  onWeight: (layer, source, target, value) => send({ type: "set_weight", layer, source, target, value }),
});

function send(message) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
}

function configure(change) {
  settings = { ...settings, ...change };
  toURL(settings);
  send({ type: "config", settings });
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

function buildControls() {
  fill($("dataset"), [...hello.datasets.map((d) => d.name), "upload"], (n) => {
    const d = hello.datasets.find((x) => x.name === n);
    return n === "upload" ? "upload (your CSV)" : n === "xor" ? "xor (the seed's 4 points)" : `${n}: ${d.description}`;
  });
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

function showSettings() {
  for (const el of document.querySelectorAll("[data-setting]")) {
    el.value = String(settings[el.dataset.setting]);
  }
  for (const box of $("features").querySelectorAll("input")) box.checked = settings.features.includes(box.value);
  $("noise-value").textContent = settings.noise;
  $("train_ratio-value").textContent = `${Math.round(settings.train_ratio * 100)}%`;
  const n = settings.hidden.length;
  $("layer-count").textContent = `${n} hidden layer${n === 1 ? "" : "s"}`;
  $("add-layer").disabled = n >= hello.limits.layers;
  $("remove-layer").disabled = n === 0;
}

function onState(message) {
  state = message;
  settings = message.settings;
  history = message.history.slice();
  toURL(settings);
  showSettings();
  diagram.build(state);
}

function onFrame(frame) {
  lastFrame = frame;
  playing = frame.playing;
  $("play").textContent = playing ? "Pause" : "Play";
  $("epoch").textContent = String(frame.epoch);
  const show = (v) => (v === null ? "overflow" : v.toFixed(4));
  $("train-loss").textContent = show(frame.train_loss);
  $("test-loss").textContent = show(frame.test_loss);
  const last = history[history.length - 1];
  if (!last || last[0] !== frame.epoch) history.push([frame.epoch, frame.train_loss, frame.test_loss]);
  if (history.length > 2000) history = history.filter((_, i) => i % 2 === 0);
  diagram.update(frame);
  drawBoundary($("boundary"), state, frame);
  drawLosses($("losses"), history);
}

function onCode(message) {
  $("code-source").textContent = message.source;
  $("code-predictions").textContent = message.predictions
    .map((row) => row.map((v) => v.toPrecision(10)).join(" ")).join("\n");
  const dialog = $("code-dialog");
  if (!dialog.open) dialog.showModal();
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  ws = new WebSocket(`${scheme}://${location.host}/ws`);
  ws.onmessage = (event) => {
    const m = JSON.parse(event.data);
    if (m.type === "hello") {
      hello = m;
      buildControls();
      const wanted = fromURL(m.defaults);
      if (location.hash.length > 1) send({ type: "config", settings: wanted });
    } else if (m.type === "state") {
      showError("");
      onState(m);
    } else if (m.type === "frame") {
      onFrame(m);
    } else if (m.type === "code") {
      onCode(m);
    } else if (m.type === "error") {
      showError(m.message);
      if (state) { settings = state.settings; toURL(settings); showSettings(); }
    }
  };
  ws.onclose = () => showError("Disconnected from the playground server; reload the page to reconnect.");
}

function wire() {
  $("play").onclick = () => send({ type: playing ? "pause" : "play" });
  for (const id of ["step", "reset", "rewind", "regenerate"]) $(id).onclick = () => send({ type: id });
  $("add-layer").onclick = () => configure({ hidden: [...settings.hidden, 2] });
  $("remove-layer").onclick = () => configure({ hidden: settings.hidden.slice(0, -1) });
  for (const el of document.querySelectorAll("[data-setting]")) {
    el.addEventListener("change", () => {
      const key = el.dataset.setting;
      const text = ["dataset", "activation", "regularization", "problem"].includes(key);
      configure({ [key]: text ? el.value : Number(el.value) });
    });
  }
  $("upload").addEventListener("change", async () => {
    const file = $("upload").files[0];
    if (!file) return;
    if (file.size > hello.limits.message_bytes) {
      showError(`${file.name}: ${file.size} bytes; the limit is ${hello.limits.message_bytes}`);
      return;
    }
    send({ type: "upload", csv: await file.text(), name: file.name });
    $("upload").value = "";
  });
  const askCode = () => send({ type: "code", epochs: Number($("code-epochs").value) });
  $("show-code").onclick = askCode;
  $("code-refresh").onclick = askCode;
  $("code-close").onclick = () => $("code-dialog").close();
  $("code-copy").onclick = () => navigator.clipboard?.writeText($("code-source").textContent);
  window.addEventListener("resize", () => lastFrame && state && drawBoundary($("boundary"), state, lastFrame));
}

wire();
connect();
