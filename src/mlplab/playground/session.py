"""One tab's training session: its data, its network, and training between frames.

The page never does arithmetic: this module trains with mlplab and turns the
network's state into compact frames (plain JSON-ready dicts). It knows nothing
of the web; ``app`` carries its frames over a WebSocket.

Training goes through the library: a few epochs of ``MLP.fit`` per call
(mini-batch SGD on the mean loss, the batch order drawn from the session's own
generator, L1 or L2 as ``mlplab.train.regularization`` objects on the weights
only; the losses shown are the data loss without that term), as many calls as
fit in the time a frame allows. The network's parameters are views into one flat
buffer, so a snapshot, a rewind or a divergence check is one array operation.

``engine="jax"`` trains the same epochs compiled (``mlplab.playground.compiled``): calls of a
few fixed lengths, each compiled once in a background thread while NumPy trains meanwhile.
"""

from __future__ import annotations

import base64
import math
import time
from typing import Any

import numpy as np

from mlplab.datasets import load_dataset, one_hot
from mlplab.errors import ConfigError, DataError, TrainingDivergedError
from mlplab.nn.network import MLP
from mlplab.playground.compiled import LENGTHS, WARMER, Costs, costs_for
from mlplab.playground.features import FEATURES, feature_matrix
from mlplab.playground.hover import link_value, unit_formula
from mlplab.playground.regression import REGRESSION_SETS
from mlplab.playground.schema import LIMITS, UPLOAD, Settings, settings_from_link
from mlplab.playground.stepthrough import trace_message
from mlplab.playground.upload import check_classes, parse_points
from mlplab.train.callbacks import Callback
from mlplab.train.optimizers import SGD
from mlplab.train.regularization import L1, L2

Array = np.ndarray

__all__ = ["Session", "decode_grid"]

GRID = 48  # the decision boundary's resolution
NEURON_STRIDE = 3  # each unit's heatmap: every 3rd point, 16 x 16, at the same centres
DATA_KEYS = ("dataset", "noise", "train_ratio", "points", "data_seed", "problem")
NETWORK_KEYS = ("features", "hidden", "activation", "problem", "seed")
Z = 12.0  # output units' inputs are sent clipped to [-Z, Z] (sigmoid 6e-6 to 1 - 6e-6)
MAX_PENDING = 10_000  # Step presses waiting to be trained
MAX_EPOCHS_PER_FIT = 10_000  # epochs in one call of fit (a slice stops it sooner)
REGULARIZERS = {"L1": L1, "L2": L2}
SESSION_ENGINES = ("numpy", "jax")


def encode_grid(values: Array, lo: float, hi: float) -> str:
    """Values scaled from ``[lo, hi]`` to bytes 0..255 (clipped), base64 text."""
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = np.clip(np.nan_to_num((values - lo) * (255.0 / (hi - lo))), 0, 255)
    return base64.b64encode(np.rint(scaled).astype(np.uint8).tobytes()).decode("ascii")


def decode_grid(text: str, lo: float, hi: float) -> Array:
    """The inverse of ``encode_grid``, to 1/255 of the range."""
    raw = np.frombuffer(base64.b64decode(text), dtype=np.uint8)
    return lo + raw.astype(np.float64) * ((hi - lo) / 255.0)


class Session:
    """The state behind one browser tab. Every method is quick except ``train_for``."""

    def __init__(self, settings: Settings | None = None, engine: str = "numpy") -> None:
        if engine not in SESSION_ENGINES:
            raise ConfigError(
                f"unknown engine {engine!r}; expected one of: {', '.join(SESSION_ENGINES)}"
            )
        self.engine = engine
        self.trained_by: str | None = None  # the engine that trained most of the last slice
        self.compile_seconds = 0.0  # compiling inside slices (0 when all was compiled ahead)
        self._costs, self._costs_key = Costs(), None
        self.settings = settings or Settings()
        self.playing = False
        self.pending = 0  # epochs asked for by Step and not yet trained
        self.traced_epoch = -1  # the epoch a traced step (``trace``) brought the network to
        self.uploaded: tuple[Array, Array] | None = None
        self._load_data()
        self._build_network()

    # --- set-up ---------------------------------------------------------------------

    def configure(self, settings: Settings) -> None:
        """Apply new settings: new data and/or a new network only where they changed."""
        old, self.settings = self.settings, settings
        try:
            if _changed(old, settings, DATA_KEYS):
                self._load_data()
            if _changed(old, settings, DATA_KEYS + NETWORK_KEYS):
                self._build_network()
        except DataError:
            self.settings = old
            raise

    def apply_link(self, fields: dict[str, str]) -> list[str]:
        """Apply a link's valid fields over the defaults; returns a note per field ignored."""
        settings, ignored = settings_from_link(fields)
        if settings.dataset == UPLOAD and self.uploaded is None:
            ignored.append("dataset=upload (uploaded points are not part of a link)")
            settings = settings.model_copy(update={"dataset": self.settings.dataset})
        if settings.dataset in REGRESSION_SETS and settings.problem != "regression":
            settings = settings.model_copy(update={"problem": "regression"})
        try:
            self.configure(settings)
        except DataError as e:
            ignored.append(f"dataset={settings.dataset} ({e})")
            self.configure(settings.model_copy(update={"dataset": self.settings.dataset}))
        return ignored

    @property
    def busy(self) -> bool:
        """Playing, or Step presses still to train."""
        return self.playing or self.pending > 0

    def ask_step(self) -> None:
        """Step pressed: pause, and one more epoch to train (``train_for`` trains it)."""
        self.playing = False
        self.pending = min(self.pending + 1, MAX_PENDING)

    def upload(self, text: str, name: str = "the file") -> None:
        """Use a user's CSV points (``x1,x2,label``) as the data set ``upload``."""
        classification = self.settings.problem == "classification"
        self.uploaded = parse_points(
            text, max_points=LIMITS["points"], classification=classification, name=name
        )
        self.settings = self.settings.model_copy(update={"dataset": UPLOAD})
        self._load_data()
        self._build_network()

    def regenerate(self) -> None:
        """New points from the same generator (the next data seed)."""
        seed = (self.settings.data_seed + 1) % 2**31
        self.configure(self.settings.model_copy(update={"data_seed": seed}))

    def reset(self) -> None:
        """A new random start: the next seed."""
        self.settings = self.settings.model_copy(update={"seed": (self.settings.seed + 1) % 2**31})
        self._build_network()

    def rewind(self) -> None:
        """The same start again: the first weights and the same batch order."""
        self._p[...] = self._start
        self._begin()

    def _load_data(self) -> None:
        s = self.settings
        if s.dataset in REGRESSION_SETS:
            if s.problem != "regression":
                raise DataError(
                    f"{s.dataset} is a regression data set: choose the problem type regression"
                )
            points, labels = REGRESSION_SETS[s.dataset](s.points, s.noise, s.data_seed)
            classes = 2
        elif s.dataset == UPLOAD:
            if self.uploaded is None:
                raise DataError("no uploaded points yet: choose a CSV file first")
            points, labels = self.uploaded
            classification = s.problem == "classification"
            classes = check_classes(labels, "the uploaded points") if classification else 2
        else:
            X, t = load_dataset(s.dataset, s.points, s.noise, s.data_seed)
            points = X[:, :2]
            classes = t.shape[1] if t.shape[1] > 1 else 2
            labels = t.argmax(axis=1) if t.shape[1] > 1 else t[:, 0]
        self.classes = classes
        labels = labels.astype(np.float64)
        n = len(points)
        if s.dataset == "xor":  # four points: train and test on all of them
            train = test = np.arange(n)
        else:
            order = np.random.default_rng(s.data_seed).permutation(n)
            n_train = min(max(round(s.train_ratio * n), 1), n - 1)
            train, test = order[:n_train], order[n_train:]
        self.points = {"train": points[train], "test": points[test]}
        self.labels = {"train": labels[train], "test": labels[test]}
        self.targets = {k: self._targets(v) for k, v in self.labels.items()}
        self.domain = _domain(points, s.dataset)

    def _targets(self, labels: Array) -> Array:
        """One column of labels for two classes (or regression), one-hot rows for more."""
        if self.classes > 2:
            return one_hot(labels.astype(int), self.classes)
        return labels[:, None]

    def _build_network(self) -> None:
        s = self.settings
        n_out = self.targets["train"].shape[1]
        if s.problem == "regression":
            output, loss = "identity", "squared_error"
        elif n_out > 1:
            output, loss = "softmax", "cross_entropy"
        else:
            output, loss = "sigmoid", "binary_cross_entropy"
        self.net = MLP(
            [len(s.features), *s.hidden, n_out],
            activation=s.activation,
            output_activation=output,
            loss=loss,
            reduction="mean",
            init="glorot",
            seed=s.seed,
        )
        self._p, self._g, self._n_weights = _flatten(self.net)
        # draws the heatmaps: it sees only the grid, so its work arrays are never reallocated,
        # and in float32, twice as fast and far finer than the 8 bits a heatmap is sent in
        self._viewer = MLP(**{**_architecture(self.net), "dtype": np.float32})
        self._start = self._p.copy()
        self.inputs = {k: feature_matrix(v, list(s.features)) for k, v in self.points.items()}
        lo, hi = self.domain
        centres = lo + (np.arange(GRID) + 0.5) * (hi - lo) / GRID
        x1, x2 = np.meshgrid(centres, centres[::-1])  # rows from the top: x2 falls
        grid = feature_matrix(np.column_stack([x1.ravel(), x2.ravel()]), list(s.features))
        self._grid = grid.astype(np.float32)
        self._begin()

    def _begin(self) -> None:
        """Epoch 0 at the current weights: a fresh history and batch order."""
        self.epoch = 0
        self.history: list[tuple[int, float | None, float | None]] = []
        self._rng = np.random.default_rng(self.settings.seed)
        self._epoch_seconds = 1e-3  # a running estimate of one epoch's time
        self._credit = 0.0  # seconds of training saved up from slices shorter than an epoch
        self.pending = 0

    # --- training -------------------------------------------------------------------

    def step(self) -> None:
        """One epoch: every training point once, in batches."""
        self.train_for(math.inf, max_epochs=1)

    def train_for(self, seconds: float, max_epochs: int | None = None) -> int:
        """Train whole epochs for about ``seconds`` (at most ``max_epochs``).

        A slice too short for half an epoch is saved up for the next call (so many tabs
        sharing the machine each still get their frames), else at least one epoch runs.
        While Step presses are pending, only those epochs are trained. Returns the
        epochs completed; a diverged run raises ``TrainingDivergedError`` and pauses.
        """
        if max_epochs is None and not self.playing and self.pending:
            max_epochs = self.pending
        seconds += self._credit
        if seconds < 0.5 * self._cheapest_call():
            self._credit = seconds
            return 0
        self._credit = 0.0
        snapshot, before = self._p.copy(), self.epoch
        limit = MAX_EPOCHS_PER_FIT if max_epochs is None else min(max_epochs, MAX_EPOCHS_PER_FIT)
        try:
            if self.engine == "jax":
                self._train_compiled(limit, time.perf_counter() + seconds)
            else:
                self._fit(limit, _Deadline(time.perf_counter() + seconds, self))
                self.trained_by = "numpy"
        except TrainingDivergedError:
            self._diverged(snapshot, before)
        if not np.isfinite(self._p).all():
            self._diverged(snapshot, before)
        done = self.epoch - before
        if max_epochs is not None:
            self.pending = max(0, self.pending - done)
        return done

    def _fit(self, epochs: int, stopper: _Deadline) -> None:
        """Up to ``epochs`` of mini-batch SGD through ``MLP.fit``, L1/L2 on the weights only;
        ``stopper`` ends it at its deadline and counts the epochs."""
        optimizer = FlatSGD(self.settings.lr, self._p, self._g)
        try:
            self.net.fit(**self._fit_data(), epochs=epochs, optimizer=optimizer,
                         seed=self._rng,  # one generator: each epoch's order follows the last
                         callbacks=[stopper])  # fmt: skip
        finally:
            self.epoch += stopper.epochs

    def _fit_data(self) -> dict[str, Any]:
        """``fit``'s data, batch size and penalty: L1/L2 on the weights only."""
        s = self.settings
        penalty = REGULARIZERS.get(s.regularization)
        decay = penalty(s.reg_rate) if penalty is not None and s.reg_rate > 0 else 0.0
        X, T = self.inputs["train"], self.targets["train"]
        return {"X": X, "T": T, "batch_size": s.batch_size, "weight_decay": decay}

    # --- training compiled ----------------------------------------------------------

    def _train_compiled(self, limit: int, deadline: float) -> None:
        """Up to ``limit`` epochs by ``deadline`` in compiled calls of ``LENGTHS`` epochs; NumPy
        for the rest of the slice while the length it wants compiles in the background."""
        key = self._program_key()
        if key != self._costs_key:
            self._costs, self._costs_key = costs_for(key), key
        before, compiled = self.epoch, 0
        while (done := self.epoch - before) < limit:
            left = deadline - time.perf_counter()
            length = self._costs.choose(limit - done, left, self._epoch_seconds, first=not done)
            if not length and done:
                break
            ready = self._ready_length(key, max(length, 1), limit - done)
            if ready is None:
                self._fit(limit - done, _Deadline(deadline, self))  # NumPy meanwhile
                break
            start, contended = time.perf_counter(), WARMER.busy
            self._fit_jax(ready)
            if not contended:  # a call beside a compile says little about the next ones
                self._costs.record(ready, time.perf_counter() - start)
            compiled += ready
        self.trained_by = "jax" if 2 * compiled >= self.epoch - before else "numpy"

    def _ready_length(self, key: tuple, length: int, epochs: int) -> int | None:
        """``length`` if its program is compiled, else the longest shorter one that is and beats
        NumPy (asking for ``length`` in the background); before any is measured, the shortest
        compiled one up to ``epochs``, to measure it. ``None``: train with NumPy."""
        if WARMER.wanted((key, length)):
            WARMER.request((key, length), self._warm_job(length))
        ready = [n for n in LENGTHS if n <= epochs and WARMER.ready((key, n))]
        if ready and not self._costs.seconds:
            return ready[0]
        for n in reversed(ready):
            faster = n == length or self._costs.estimate(n, 0.0) < n * self._epoch_seconds
            if n <= length and faster:
                return n
        return None

    def _fit_jax(self, epochs: int) -> None:
        """``epochs`` of the same training compiled: plain ``SGD`` (``FlatSGD`` is NumPy's)."""
        history = self.net.fit(**self._fit_data(), epochs=epochs,
                               optimizer=SGD(self.settings.lr), seed=self._rng,
                               engine="jax")  # fmt: skip
        self.compile_seconds += history.extra.get("compile_seconds", 0.0)
        self.epoch += epochs

    def _program_key(self) -> tuple:
        """What the compiled program depends on: the shapes, the functions, the penalty."""
        s, net = self.settings, self.net
        fit = self._fit_data()
        penalty = fit["weight_decay"]
        penalty = (s.regularization, s.reg_rate) if penalty else None
        return (net.sizes, net.activation.name, net.output_activation.name, net.loss.name,
                len(fit["X"]), s.batch_size, penalty)  # fmt: skip

    def _warm_job(self, epochs: int) -> Any:
        """A throwaway ``fit`` of a copy of the network, on the same shapes: it compiles the
        program of ``epochs`` epochs into the engine's cache."""
        copy, fit, lr = MLP(**_architecture(self.net)), self._fit_data(), self.settings.lr
        return lambda: copy.fit(**fit, epochs=epochs, optimizer=SGD(lr), seed=0, engine="jax")

    def _cheapest_call(self) -> float:
        """Seconds of the shortest training call: an epoch, or the quickest compiled call once
        one is measured (a slice saves up for it, as NumPy's slices save up for an epoch)."""
        if self.engine == "jax" and self._costs.seconds:
            return min(self._costs.seconds.values())
        return self._epoch_seconds

    def _diverged(self, snapshot: Array, epoch_before: int) -> None:
        diverged_at, self.epoch = self.epoch, epoch_before
        self._p[...] = snapshot
        self.playing, self.pending = False, 0
        raise TrainingDivergedError(
            f"training diverged by epoch {diverged_at}: the weights became infinite or "
            f"NaN; paused at epoch {epoch_before}, the weights from then kept. "
            f"Lower the learning rate.",
            epoch=diverged_at,
            history=None,
        )

    # --- editing --------------------------------------------------------------------

    def set_weight(self, layer: int, source: int, target: int, value: float) -> None:
        """Set one weight (``source = -1``: the bias of ``target``)."""
        params = self.net.params
        if layer >= len(params):
            raise ConfigError(f"layer {layer} does not exist; the network has {len(params)}")
        W = params[layer]["W"]
        if not 0 <= target < W.shape[1] or not -1 <= source < W.shape[0]:
            raise ConfigError(
                f"no weight from unit {source} to unit {target} in layer {layer}: "
                f"it is {W.shape[0]} x {W.shape[1]}"
            )
        if source == -1:
            params[layer]["b"][target] = value
        else:
            W[source, target] = value

    # --- step-through and hover (mlplab.playground.stepthrough, mlplab.playground.hover) --

    def trace(self) -> dict[str, Any]:
        """Pause, and take the next epoch traced line by line: ``MLP.trace`` runs the epoch
        through ``fit`` with the options ``step`` trains with (the network ends as ``step``
        would leave it, to rounding: ``SGD``, not ``FlatSGD``). Returns the ``trace`` message."""
        self.playing, self.pending = False, 0
        snapshot, before = self._p.copy(), self.epoch
        fit = self._fit_data()
        try:
            traced = self.net.trace(fit.pop("X"), fit.pop("T"), **fit,
                                    optimizer=SGD(self.settings.lr), seed=self._rng)  # fmt: skip
        except TrainingDivergedError:
            self.epoch += 1
            self._diverged(snapshot, before)
        self.epoch += 1
        if not np.isfinite(self._p).all():
            self._diverged(snapshot, before)
        self.traced_epoch = self.epoch
        return trace_message(traced, before)

    def inspect_unit(self, column: int, unit: int, point: tuple[float, float]) -> dict[str, Any]:
        """A unit's formula with its live numbers at ``point`` (``hover.unit_formula``)."""
        return unit_formula(self.net, list(self.settings.features), column, unit, point)

    def inspect_link(self, layer: int, source: int, target: int) -> dict[str, Any]:
        """A link's weight and last gradient (``hover.link_value``). The gradient is known
        after a step NumPy took (the compiled engine keeps none, save a traced step's)."""
        known = self.epoch > 0 and (self.engine == "numpy" or self.traced_epoch == self.epoch)
        return link_value(self.net, layer, source, target, known)

    # --- what the page sees ---------------------------------------------------------

    def losses(self) -> tuple[float | None, float | None]:
        """``(train, test)`` mean loss at the current weights; ``None`` where it overflowed."""
        values = [self.net.evaluate(self.inputs[k], self.targets[k]) for k in ("train", "test")]
        return tuple(v if math.isfinite(v) else None for v in values)  # type: ignore[return-value]

    def output_range(self) -> tuple[float, float]:
        """The output values the heatmap's colours span: the targets' range."""
        if self.settings.problem == "classification":
            return 0.0, 1.0
        t = np.concatenate([self.targets["train"], self.targets["test"]])
        lo, hi = float(t.min()), float(t.max())
        return (lo, hi) if hi > lo else (lo - 1, hi + 1)

    def frame(self) -> dict[str, Any]:
        """Epoch, losses, the output over the plane, every unit's heatmap and the weights."""
        train_loss, test_loss = self.losses()
        if not self.history or self.history[-1][0] != self.epoch:
            self.history.append((self.epoch, train_loss, test_loss))
        with np.errstate(over="ignore", invalid="ignore"):  # a heatmap shows inf/NaN as a limit
            for mine, theirs in zip(self._viewer.params, self.net.params, strict=True):
                for name, value in theirs.items():
                    mine[name][...] = value
            y = self._viewer.predict(self._grid)
            outputs = [layer.h for layer in self._viewer.layers]  # each layer's output, now
            last = self._viewer.params[-1]
            below = outputs[-2] if len(outputs) > 1 else self._grid
            z = below @ last["W"] + last["b"]  # the output units' input, before their sigmoid
        lo, hi = self.output_range()
        k = NEURON_STRIDE
        units = np.concatenate(
            [h.reshape(GRID, GRID, -1)[k // 2 :: k, k // 2 :: k, :] for h in outputs], axis=2
        )
        return {
            "type": "frame",
            "epoch": self.epoch,
            "train_loss": train_loss,
            "test_loss": test_loss,
            "playing": self.playing,
            "engine": self.engine,
            "trained_by": self.trained_by,
            "compiling": self.engine == "jax" and WARMER.busy,  # for any tab, in the background
            "grid": GRID,
            "output": encode_grid(y.T, lo, hi),
            "output_range": [lo, hi],
            "output_z": None if self.settings.problem == "regression" else encode_grid(z.T, -Z, Z),
            "z_range": [-Z, Z],
            "unit_grid": GRID // k,
            "units": encode_grid(np.moveaxis(units, 2, 0), -1.0, 1.0),
            "weights": [
                {name: np.round(v, 5).tolist() for name, v in p.items()} for p in self.net.params
            ],
        }

    def state(self) -> dict[str, Any]:
        """The set-up: settings, architecture, points, and each input's heatmap."""
        k = NEURON_STRIDE
        inputs = self._grid.reshape(GRID, GRID, -1)[k // 2 :: k, k // 2 :: k, :]
        scale = np.maximum(np.abs(inputs).max(axis=(0, 1)), 1e-12)
        return {
            "type": "state",
            "settings": self.settings.model_dump(mode="json"),
            "sizes": list(self.net.sizes),
            "features": [FEATURES[f].label for f in self.settings.features],
            "classes": self.classes,
            "problem": self.settings.problem,
            "domain": list(self.domain),
            "points": {
                k_: {
                    "x": np.round(self.points[k_], 4).tolist(),
                    "label": np.round(self.labels[k_], 4).tolist(),
                }
                for k_ in ("train", "test")
            },
            "inputs": encode_grid(np.moveaxis(inputs / scale, 2, 0), -1.0, 1.0),
            "unit_grid": GRID // k,
            "history": self.history,
        }

    def code(self, epochs: int) -> dict[str, Any]:
        """The NumPy program training this network further, and the predictions it prints."""
        from mlplab.export._numpy import TrainSpec, numpy_source

        X, t, lr = self.inputs["train"], self.targets["train"], self.settings.lr
        source = numpy_source(self.net, train=TrainSpec(X, t, epochs=epochs, lr=lr))
        copy = MLP(**_architecture(self.net))
        for mine, theirs in zip(copy.params, self.net.params, strict=True):
            for name in mine:
                mine[name][...] = theirs[name]
        copy.fit(X, t, epochs=epochs, lr=lr)
        predictions = copy.predict(X)
        return {
            "type": "code",
            "source": source,
            "epochs": epochs,
            "predictions": predictions.tolist(),
            "printed": str(predictions),  # as the program's print(predict(X)) shows it
        }


class _Deadline(Callback):
    """Stops ``fit`` after the epoch that brings the deadline within half an epoch."""

    def __init__(self, deadline: float, session: Session) -> None:
        self.deadline, self.session, self.epochs = deadline, session, 0
        self.last = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> bool:
        now = time.perf_counter()
        s = self.session
        s._epoch_seconds = 0.7 * s._epoch_seconds + 0.3 * (now - self.last)
        self.last, self.epochs = now, self.epochs + 1
        return now + 0.5 * s._epoch_seconds >= self.deadline


class FlatSGD(SGD):
    """``SGD(lr)``, stepping all parameters at once through the flat buffers they view.

    The same numbers as ``SGD(lr)`` (``p -= lr * g``), in one operation instead of one
    per array: on the playground's small layers that is most of a step's cost.
    """

    def __init__(self, lr: float, params: Array, grads: Array) -> None:
        super().__init__(lr)
        self.flat, self.flat_grads = params, grads
        self.work = np.empty_like(params)

    def step(self, params: Any, grads: Any) -> None:
        if self.lr == 1.0:
            self.flat -= self.flat_grads  # SGD's lr == 1 path: p -= g
        else:
            self.flat -= np.multiply(self.flat_grads, self.lr, out=self.work)


def _architecture(net: MLP) -> dict[str, Any]:
    """Keyword arguments that build a network of ``net``'s shape."""
    return {k: v for k, v in net.config().items() if k != "stack"}


def _changed(old: Settings, new: Settings, keys: tuple[str, ...]) -> bool:
    return any(getattr(old, k) != getattr(new, k) for k in keys)


def _domain(points: Array, dataset: str) -> tuple[float, float]:
    """The square of the plane shown: fixed for the built-in sets, fitted to uploads."""
    if dataset == "xor":
        return -0.5, 1.5
    if dataset != UPLOAD:
        return -6.0, 6.0
    lo, hi = float(points.min()), float(points.max())
    pad = max(0.1 * (hi - lo), 1e-3)
    return lo - pad, hi + pad


def _flatten(net: MLP) -> tuple[Array, Array, int]:
    """Make every parameter and gradient a view into one flat array, weights first.

    Returns ``(params, grads, number of weights)``. The layers keep writing their
    gradients into ``grad[name]`` with ``out=``, so the views fill the flat buffer.
    """
    pairs = [(p, layer.grad, "W") for p, layer in zip(net.params, net.layers, strict=True)]
    pairs += [(p, layer.grad, "b") for p, layer in zip(net.params, net.layers, strict=True)]
    size = sum(p[name].size for p, _, name in pairs)
    flat_p, flat_g = np.empty(size), np.zeros(size)
    offset = 0
    for p, g, name in pairs:
        value = p[name]
        view = flat_p[offset : offset + value.size].reshape(value.shape)
        view[...] = value
        p[name] = view
        g[name] = flat_g[offset : offset + value.size].reshape(value.shape)
        offset += value.size
    n_weights = sum(p["W"].size for p in net.params)
    return flat_p, flat_g, n_weights
