"""A tab's training between frames: whole epochs of ``MLP.fit`` for the time a frame allows.

Training goes through the library: a few epochs of ``MLP.fit`` per call, with the library's
own ``SGD`` (mini-batch on the mean loss, the batch order drawn from the tab's own
generator, L1 or L2 as ``mlplab.train.regularization`` objects on the weights only; the
losses shown are the data loss without that term), as many calls as fit in the time a frame
allows. Nothing here computes an update: ``fit`` and its optimizer do.

Under ``engine="jax"`` the same epochs run compiled (``mlplab.playground.compiled``): calls
of a few fixed lengths, each compiled once in the background while NumPy trains meanwhile.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from mlplab.errors import ConfigError, TrainingDivergedError
from mlplab.nn.network import MLP
from mlplab.playground.compiled import LENGTHS, Compiler, Costs
from mlplab.playground.frames import architecture
from mlplab.playground.schema import Settings
from mlplab.train.callbacks import Callback
from mlplab.train.optimizers import SGD
from mlplab.train.regularization import L1, L2

Array = np.ndarray

__all__ = ["ENGINES", "CompiledTrainer", "Trainer", "check_engine"]

ENGINES = ("numpy", "jax")
MAX_EPOCHS_PER_FIT = 10_000  # epochs in one call of fit (a slice stops it sooner)
REGULARIZERS = {"L1": L1, "L2": L2}


class Trainer:
    """Trains one network on ``(X, T)`` in time slices; counts its epochs and keeps its history.

    ``settings`` may change between calls (the rate, the batches, the penalty: live
    changes); the network, the data and the engine are the trainer's for its life.
    """

    engine = "numpy"

    def __init__(self, net: MLP, X: Array, T: Array, settings: Settings) -> None:
        self.net, self.X, self.T, self.settings = net, X, T, settings
        self.trained_by: str | None = None  # the engine that trained most of the last slice
        self.compile_seconds = 0.0  # compiling inside slices (0 when all was compiled ahead)
        self._sgd = SGD(settings.lr)
        self._start = _copy(net)
        self.begin()

    def begin(self) -> None:
        """Epoch 0 at the current weights: a fresh history and batch order."""
        self.epoch = 0
        self.history: list[tuple[int, float | None, float | None]] = []
        self._rng = np.random.default_rng(self.settings.seed)
        self.epoch_seconds = 1e-3  # a running estimate of one epoch's time
        self._credit = 0.0  # seconds of training saved up from slices shorter than an epoch

    def rewind(self) -> None:
        """The same start again: the first weights and the same batch order."""
        _restore(self.net, self._start)
        self.begin()

    def close(self) -> None:
        """Let go of what the trainer holds beyond its network (nothing, on NumPy)."""

    # --- a slice --------------------------------------------------------------------

    def train_for(self, seconds: float, max_epochs: int | None = None) -> int:
        """Train whole epochs for about ``seconds`` (at most ``max_epochs``).

        A slice too short for half an epoch is saved up for the next call (so many tabs
        sharing the machine each still get their frames), else at least one epoch runs.
        Returns the epochs completed; a diverged run raises ``TrainingDivergedError``
        with the weights from before the slice put back.
        """
        seconds += self._credit
        if seconds < 0.5 * self._cheapest_call():
            self._credit = seconds
            return 0
        self._credit = 0.0
        snapshot, before = _copy(self.net), self.epoch
        limit = MAX_EPOCHS_PER_FIT if max_epochs is None else min(max_epochs, MAX_EPOCHS_PER_FIT)
        try:
            self._train(limit, time.perf_counter() + seconds)
        except TrainingDivergedError:
            self._diverged(snapshot, before)
        if not _finite(self.net):
            self._diverged(snapshot, before)
        return self.epoch - before

    def _train(self, limit: int, deadline: float) -> None:
        """Up to ``limit`` epochs by ``deadline``."""
        self._fit(limit, _Deadline(deadline, self))
        self.trained_by = "numpy"

    def _fit(self, epochs: int, stopper: _Deadline) -> None:
        """Up to ``epochs`` through ``MLP.fit``; ``stopper`` ends it at its deadline."""
        try:
            self.net.fit(**self._fit_options(), epochs=epochs, callbacks=[stopper])
        finally:
            self.epoch += stopper.epochs

    def trace(self) -> Any:
        """One epoch through ``MLP.trace`` (``fit`` with a step's options, recorded line by
        line); the network takes that epoch. A diverged epoch puts the weights back and
        raises ``TrainingDivergedError``, as a slice does."""
        snapshot, before = _copy(self.net), self.epoch
        fit = self._fit_options()
        try:
            traced = self.net.trace(fit.pop("X"), fit.pop("T"), **fit)
        except TrainingDivergedError:
            self.epoch += 1
            self._diverged(snapshot, before)
        self.epoch += 1
        if not _finite(self.net):
            self._diverged(snapshot, before)
        return traced

    def _fit_options(self) -> dict[str, Any]:
        """``fit``'s data, optimizer, batches, penalty (on the weights only) and generator."""
        s = self.settings
        if self._sgd.lr != s.lr:  # a new rate: a new optimizer (nothing else sets its rate)
            self._sgd = SGD(s.lr)
        # one generator, self._rng: each epoch's batch order follows the last
        return {"X": self.X, "T": self.T, "optimizer": self._sgd, "batch_size": s.batch_size,
                "weight_decay": self._penalty(), "seed": self._rng}  # fmt: skip

    def _penalty(self) -> L1 | L2 | float:
        """L1 or L2 on the weights, or 0.0 for none."""
        s = self.settings
        penalty = REGULARIZERS.get(s.regularization)
        return penalty(s.reg_rate) if penalty is not None and s.reg_rate > 0 else 0.0

    def _diverged(self, snapshot: list[dict[str, Array]], epoch_before: int) -> None:
        diverged_at, self.epoch = self.epoch, epoch_before
        _restore(self.net, snapshot)
        raise TrainingDivergedError(
            f"training diverged by epoch {diverged_at}: the weights became infinite or "
            f"NaN; paused at epoch {epoch_before}, the weights from then kept. "
            f"Lower the learning rate.",
            epoch=diverged_at,
            history=None,
        )

    def _cheapest_call(self) -> float:
        """Seconds of the shortest training call: an epoch."""
        return self.epoch_seconds


class CompiledTrainer(Trainer):
    """A ``Trainer`` whose epochs run compiled by JAX, the programs from the app's ``compiler``.

    It holds (``Compiler.use``) the program key it trains, and lets it go (``close``) when it
    trains another or is done with.
    """

    engine = "jax"

    def __init__(self, net: MLP, X: Array, T: Array, settings: Settings,
                 compiler: Compiler) -> None:  # fmt: skip
        self.compiler = compiler
        self._key: tuple | None = None  # the compiled program used (held from ``compiler``)
        self._costs = Costs()
        super().__init__(net, X, T, settings)

    def close(self) -> None:
        """Let go of the compiled programs this trainer used."""
        if self._key is not None:
            self.compiler.release(self._key)
        self._key = None

    def _cheapest_call(self) -> float:
        """An epoch, or the quickest compiled call once one is measured (a slice saves up for
        it, as NumPy's slices save up for an epoch)."""
        if self._costs.seconds:
            return min(self._costs.seconds.values())
        return self.epoch_seconds

    def _train(self, limit: int, deadline: float) -> None:
        """Up to ``limit`` epochs by ``deadline`` in compiled calls of ``LENGTHS`` epochs; NumPy
        for the rest of the slice while the length it wants compiles in the background."""
        key = self.program_key()
        self._hold(key)
        before, compiled = self.epoch, 0
        while (done := self.epoch - before) < limit:
            left = deadline - time.perf_counter()
            length = self._costs.choose(limit - done, left, self.epoch_seconds, first=not done)
            if not length and done:
                break
            ready = self.ready_length(key, max(length, 1), limit - done)
            if ready is None:
                self._fit(limit - done, _Deadline(deadline, self))  # NumPy meanwhile
                break
            start, contended = time.perf_counter(), self.compiler.warmer.busy
            self._fit_compiled(key, ready)
            if not contended:  # a call beside a compile says little about the next ones
                self._costs.record(ready, time.perf_counter() - start)
            compiled += ready
        self.trained_by = "jax" if 2 * compiled >= self.epoch - before else "numpy"

    def _hold(self, key: tuple) -> None:
        """Train ``key``'s programs from now on (letting go of the last key's)."""
        if key == self._key:
            return
        self.close()
        self._costs, self._key = self.compiler.use(key), key

    def ready_length(self, key: tuple, length: int, epochs: int) -> int | None:
        """``length`` if its program is compiled, else the longest shorter one that is and beats
        NumPy (asking for ``length`` in the background); before any is measured, the shortest
        compiled one up to ``epochs``, to measure it. ``None``: train with NumPy."""
        self._hold(key)
        warmer = self.compiler.warmer
        if warmer.wanted((key, length)):
            warmer.request((key, length), self._warm_job(key, length))
        ready = [n for n in LENGTHS if n <= epochs and warmer.ready((key, n))]
        if ready and not self._costs.seconds:
            return ready[0]
        for n in reversed(ready):
            faster = n == length or self._costs.estimate(n, 0.0) < n * self.epoch_seconds
            if n <= length and faster:
                return n
        return None

    def _fit_compiled(self, key: tuple, epochs: int) -> None:
        """``epochs`` of the same training, compiled by the engine holding ``key``'s programs."""
        history = self.net.fit(**self._fit_options(), epochs=epochs,
                               engine=self.compiler.engine(key))  # fmt: skip
        self.compile_seconds += history.extra.get("compile_seconds", 0.0)
        self.epoch += epochs

    def program_key(self) -> tuple:
        """What the compiled program depends on: the shapes, the functions, the penalty."""
        s, net = self.settings, self.net
        penalty = (s.regularization, s.reg_rate) if self._penalty() else None
        return (net.sizes, net.activation.name, net.output_activation.name, net.loss.name,
                len(self.X), s.batch_size, penalty)  # fmt: skip

    def _warm_job(self, key: tuple, epochs: int) -> Any:
        """A throwaway ``fit`` of a copy of the network, on the same shapes: it compiles the
        program of ``epochs`` epochs into the engine that holds ``key``'s programs."""
        copy, fit = MLP(**architecture(self.net)), self._fit_options()
        fit["seed"], engine = 0, self.compiler.engine(key)
        return lambda: copy.fit(**fit, epochs=epochs, engine=engine)


def check_engine(engine: str) -> str:
    """``engine`` if a session can train with it, else a one-line ``ConfigError``."""
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}; expected one of: {', '.join(ENGINES)}")
    return engine


class _Deadline(Callback):
    """Stops ``fit`` after the epoch that brings the deadline within half an epoch."""

    def __init__(self, deadline: float, trainer: Trainer) -> None:
        self.deadline, self.trainer, self.epochs = deadline, trainer, 0
        self.last = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> bool:
        now = time.perf_counter()
        t = self.trainer
        t.epoch_seconds = 0.7 * t.epoch_seconds + 0.3 * (now - self.last)
        self.last, self.epochs = now, self.epochs + 1
        return now + 0.5 * t.epoch_seconds >= self.deadline


def _copy(net: MLP) -> list[dict[str, Array]]:
    return [{name: v.copy() for name, v in p.items()} for p in net.params]


def _restore(net: MLP, saved: list[dict[str, Array]]) -> None:
    for p, kept in zip(net.params, saved, strict=True):
        for name, v in kept.items():
            p[name][...] = v


def _finite(net: MLP) -> bool:
    return all(np.isfinite(v).all() for p in net.params for v in p.values())
