"""One tab's state: its settings, data and network, and what the page asks of them.

The page never does arithmetic: a ``Session`` trains with mlplab (``trainer``), turns the
network into compact frames (``frames``) and writes it out as a program (``code``), all as
plain JSON-ready dicts. It knows nothing of the web; ``app`` carries its messages over a
WebSocket.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mlplab.errors import ConfigError, DataError, TrainingDivergedError
from mlplab.nn.network import MLP
from mlplab.playground.code import program
from mlplab.playground.compiled import Compiler
from mlplab.playground.data import SPLITS, TabData, load_tab_data
from mlplab.playground.features import feature_matrix
from mlplab.playground.frames import (
    GRID,
    NEURON_STRIDE,
    Viewer,
    decode_grid,
    feature_labels,
    weights,
)
from mlplab.playground.hover import link_value, unit_formula
from mlplab.playground.regression import REGRESSION_SETS
from mlplab.playground.schema import LIMITS, UPLOAD, Settings, settings_from_link
from mlplab.playground.stepthrough import trace_message
from mlplab.playground.trainer import CompiledTrainer, Trainer, check_engine
from mlplab.playground.upload import parse_points

Array = np.ndarray

__all__ = ["GRID", "NEURON_STRIDE", "Session", "decode_grid"]

DATA_KEYS = ("dataset", "noise", "train_ratio", "points", "data_seed", "problem")
NETWORK_KEYS = ("features", "hidden", "activation", "problem", "seed")
MAX_PENDING = 10_000  # Step presses waiting to be trained


class Session:
    """The state behind one browser tab. Every method is quick except ``train_for``/``code``.

    ``engine="jax"`` trains compiled, with programs from ``compiler`` (the app's; a session
    made alone makes its own). ``close`` lets go of them when the tab goes away.
    """

    def __init__(
        self, settings: Settings | None = None, engine: str = "numpy",
        compiler: Compiler | None = None,
    ) -> None:  # fmt: skip
        self.engine = check_engine(engine)
        self.compiler = compiler if compiler is not None or engine == "numpy" else Compiler()
        self.settings = settings or Settings()
        self.playing = False
        self.pending = 0  # epochs asked for by Step and not yet trained
        self.traced_epoch = -1  # the epoch a traced step (``trace``) brought the network to
        self.uploaded: tuple[Array, Array] | None = None
        self._load_data()
        self._build_network()

    # --- what the tab holds -----------------------------------------------------------

    @property
    def epoch(self) -> int:
        return self.trainer.epoch

    @property
    def trained_by(self) -> str | None:
        return self.trainer.trained_by

    @property
    def compile_seconds(self) -> float:
        return self.trainer.compile_seconds

    @property
    def busy(self) -> bool:
        """Playing, or Step presses still to train."""
        return self.playing or self.pending > 0

    def close(self) -> None:
        """The tab has gone: stop, and let go of the compiled programs it used."""
        self.playing, self.pending = False, 0
        self.trainer.close()

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
        self.trainer.settings = settings  # a live change

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
        self.trainer.rewind()
        self.pending = 0

    def _load_data(self) -> None:
        data: TabData = load_tab_data(self.settings, self.uploaded)
        self.points, self.labels, self.targets = data.points, data.labels, data.targets
        self.classes, self.domain = data.classes, data.domain

    def _build_network(self) -> None:
        s = self.settings
        n_out = self.targets["train"].shape[1]
        if s.problem == "regression":
            output, loss = "identity", "squared_error"
        elif n_out > 1:
            output, loss = "softmax", "cross_entropy"
        else:
            output, loss = "sigmoid", "binary_cross_entropy"
        self.net = MLP([len(s.features), *s.hidden, n_out], activation=s.activation,
                       output_activation=output, loss=loss, reduction="mean", init="glorot",
                       seed=s.seed)  # fmt: skip
        self.inputs = {k: feature_matrix(self.points[k], list(s.features)) for k in SPLITS}
        self._viewer = Viewer(self.net, list(s.features), self.domain)
        previous: Trainer | None = getattr(self, "trainer", None)  # None: the first network
        if previous is not None:
            previous.close()
        X, T = self.inputs["train"], self.targets["train"]
        if self.compiler is None:
            self.trainer: Trainer = Trainer(self.net, X, T, s)
        else:
            self.trainer = CompiledTrainer(self.net, X, T, s, self.compiler)
        self.pending = 0

    # --- training -------------------------------------------------------------------

    def ask_step(self) -> None:
        """Step pressed: pause, and one more epoch to train (``train_for`` trains it)."""
        self.playing = False
        self.pending = min(self.pending + 1, MAX_PENDING)

    def step(self) -> None:
        """One epoch: every training point once, in batches."""
        self.train_for(math.inf, max_epochs=1)

    def train_for(self, seconds: float, max_epochs: int | None = None) -> int:
        """Train whole epochs for about ``seconds`` (at most ``max_epochs``; while Step presses
        are pending, only those). Returns the epochs completed; a diverged run raises
        ``TrainingDivergedError`` and pauses, the weights from before the slice kept."""
        if max_epochs is None and not self.playing and self.pending:
            max_epochs = self.pending
        try:
            done = self.trainer.train_for(seconds, max_epochs)
        except TrainingDivergedError:
            self.playing, self.pending = False, 0
            raise
        if max_epochs is not None:
            self.pending = max(0, self.pending - done)
        return done

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
        """Pause, and take the next epoch traced line by line (``Trainer.trace``: through
        ``fit`` with the options a step trains with). Returns the ``trace`` message."""
        self.playing, self.pending = False, 0
        before = self.epoch
        traced = self.trainer.trace()
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
        values = [self.net.evaluate(self.inputs[k], self.targets[k]) for k in SPLITS]
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
        history = self.trainer.history
        if not history or history[-1][0] != self.epoch:
            history.append((self.epoch, train_loss, test_loss))
        regression = self.settings.problem == "regression"
        warmer = self.compiler.warmer if self.compiler is not None else None
        return {
            "type": "frame",
            "epoch": self.epoch,
            "train_loss": train_loss,
            "test_loss": test_loss,
            "playing": self.playing,
            "engine": self.engine,
            "trained_by": self.trained_by,
            "compiling": warmer is not None and warmer.busy,  # for any tab, in the background
            **self._viewer.heatmaps(self.net, self.output_range(), regression),
            "weights": weights(self.net),
        }

    def state(self) -> dict[str, Any]:
        """The set-up: settings, architecture, points, and each input's heatmap."""
        return {
            "type": "state",
            "settings": self.settings.model_dump(mode="json"),
            "sizes": list(self.net.sizes),
            "features": feature_labels(self.settings.features),
            "classes": self.classes,
            "problem": self.settings.problem,
            "domain": list(self.domain),
            "points": {k: self._points(k) for k in SPLITS},
            **self._viewer.inputs(),
            "history": self.trainer.history,
        }

    def _points(self, split: str) -> dict[str, list]:
        return {"x": np.round(self.points[split], 4).tolist(),
                "label": np.round(self.labels[split], 4).tolist()}  # fmt: skip

    def code(self, epochs: int) -> dict[str, Any]:
        """The NumPy program training this network further, and what it prints."""
        X, t = self.inputs["train"], self.targets["train"]
        return program(self.net, X, t, epochs, self.settings.lr)


def _changed(old: Settings, new: Settings, keys: tuple[str, ...]) -> bool:
    return any(getattr(old, k) != getattr(new, k) for k in keys)
