"""Training diagnostics: name what is happening while a network trains.

Five things a learner cannot see in a loss number, each with its epoch range:

- ``plateau``: the loss hardly moves for a stretch while still far from zero.
- ``oscillation``: the loss goes up and down; the step is too large.
- ``saturated``: sigmoid/tanh hidden units pinned near their limits for every
  example, so their derivative (the seed's ``h * (1 - h)``) is about 0.
- ``dead_relu``: ReLU units that output 0 for every example; no gradient reaches them.
- ``vanishing_gradient``: a layer whose gradient is a tiny fraction of the largest
  layer's, or of its own at the start while the loss is still high.

The loss-based detectors read ``History.loss`` after training (``loss_events``).
The unit and gradient detectors look at the values the training loop already
has (each layer's ``h`` and ``grad``) every ``every`` epochs; between looks the
callback does one comparison. Use the callback::

    diag = Diagnostics(net)
    history = net.fit(X, t, callbacks=[diag])
    for event in history.events:
        print(event)        # epochs 0-2950: plateau, loss flat near 0.5
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.checks import positive_int
from mlplab.errors import ConfigError
from mlplab.train.history import Event

if TYPE_CHECKING:
    from mlplab.nn.network import MLP
    from mlplab.train.history import History

__all__ = ["SATURATING", "Diagnostics", "Event", "loss_events"]

# saturating activation -> its derivative's largest value (the derivative itself is the
# activation's own, ``Activation.derivative``, taken from the output h)
SATURATING: dict[str, float] = {"sigmoid": 0.25, "tanh": 1.0}


def _runs(flags: np.ndarray, gap: int = 0) -> Iterator[tuple[int, int]]:
    """``(first, last)`` index of each run of true values, bridging up to ``gap`` false ones."""
    padded = np.concatenate([[False], np.asarray(flags, bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    runs = [[int(a), int(b) - 1] for a, b in zip(edges[::2], edges[1::2], strict=True)]
    merged: list[list[int]] = []
    for run in runs:
        if merged and run[0] - merged[-1][1] - 1 <= gap:
            merged[-1][1] = run[1]
        else:
            merged.append(run)
    yield from ((first, last) for first, last in merged)


def loss_events(
    loss: Any,
    *,
    window: int | None = None,
    flat: float = 2e-3,
    floor: float = 1e-3,
    rising: float = 0.2,
    min_windows: int = 2,
) -> list[Event]:
    """Plateaus and oscillations in a loss curve (one loss per epoch).

    The curve is cut into windows of ``window`` epochs (default 1 % of the run, at
    least 5). A window is *flat* when the loss changes by less than ``flat`` of its
    value across it, while still above ``floor`` times the largest loss (a curve
    that has converged to ~0 is not on a plateau). A window *oscillates* when the
    loss rises on at least ``rising`` of its epochs, by more than 0.1 % of its mean
    in total. ``min_windows`` consecutive windows make an event (up to two quiet
    windows between two stretches do not split them).
    """
    loss = np.asarray(loss, dtype=float)
    if loss.ndim != 1:
        raise ConfigError("loss_events reads one network's loss curve (1-D)")
    n = len(loss)
    w = window or max(5, n // 100)
    count = (n - 1) // w
    if count < min_windows:
        return []
    starts = np.arange(count) * w
    ends = starts + w
    segments = np.stack([loss[s : e + 1] for s, e in zip(starts, ends, strict=True)])
    steps = np.diff(segments, axis=1)
    ups = steps > 1e-9 * np.abs(segments[:, :-1])  # a rise, not rounding
    up_total = np.where(ups, steps, 0).sum(axis=1)
    oscillating = (ups.mean(axis=1) >= rising) & (up_total > 1e-3 * segments.mean(axis=1))
    first, last = segments[:, 0], segments[:, -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.abs(first - last) / np.abs(first)
    flat_windows = (change < flat) & (last > floor * loss.max()) & ~oscillating

    events = []
    for kind, flags in (("plateau", flat_windows), ("oscillation", oscillating)):
        for a, b in _runs(flags, gap=2):
            if b - a + 1 < min_windows:
                continue
            start, end = int(starts[a]), int(ends[b])
            if kind == "plateau":
                level = float(np.median(loss[start : end + 1]))
                message = f"plateau, loss flat near {level:.3g}"
            else:
                share = float(ups[a : b + 1].mean())
                message = f"oscillation, the loss rises on {share:.0%} of epochs (step too large?)"
            events.append(Event(kind, start, end, message))
    return events


@dataclass
class _Sample:
    epoch: int
    saturated: list[int | None]  # per hidden layer: units pinned (None: not sigmoid/tanh)
    dead: list[int | None]  # per hidden layer: ReLUs at 0 for every example (None: not ReLU)
    grad_rms: list[float]  # per layer: root mean square of dL/dW
    loss: float


class Diagnostics:
    """A ``fit`` callback that watches the network and fills ``History.events``.

    Parameters
    ----------
    net
        The network being trained (one network, not a stack).
    every
        Look at the units and gradients every this many epochs.
    pinned
        A sigmoid/tanh unit is saturated when its derivative is below this share
        of its largest value (0.25 for sigmoid, 1 for tanh) ...
    share
        ... for at least this share of the examples.
    vanishing
        A layer's gradient has collapsed when its RMS is below this share of the
        largest layer's.
    persist
        Consecutive samples a unit or gradient condition must last to be reported.
    units
        Look at the units and gradients at all; ``False`` watches the loss curve only
        (under a compiled engine, which keeps no layer values to look at).
    """

    def __init__(
        self,
        net: MLP,
        *,
        every: int = 50,
        pinned: float = 0.02,
        share: float = 0.95,
        vanishing: float = 1e-3,
        persist: int = 2,
        units: bool = True,
        **loss_options: Any,
    ) -> None:
        if net.stack is not None:
            raise ConfigError("diagnostics watch one network; train a stack without them")
        self.net = net
        self.every = positive_int("every", every)
        self.pinned, self.share, self.vanishing, self.persist = pinned, share, vanishing, persist
        self.loss_options = loss_options
        self.units = bool(units)
        self.samples: list[_Sample] = []
        self.events: list[Event] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if self.units and epoch % self.every == 0:
            self.samples.append(self._sample(epoch, logs["loss"]))

    def _sample(self, epoch: int, loss: float) -> _Sample:
        activation = self.net.activation  # every hidden layer's
        saturated: list[int | None] = []
        dead: list[int | None] = []
        for h in self.net.outputs[:-1]:  # each hidden layer's output, from the last forward pass
            name = activation.name
            if name in SATURATING and activation.from_output:
                flat = activation.derivative(h) < self.pinned * SATURATING[name]  # (n, units)
                saturated.append(int(np.sum(flat.mean(axis=0) >= self.share)))
            else:
                saturated.append(None)
            dead.append(int(np.sum(np.all(h <= 0, axis=0))) if name == "relu" else None)
        grad_rms = [float(np.sqrt(np.mean(np.square(g["W"])))) for g in self.net.grads]
        return _Sample(epoch, saturated, dead, grad_rms, float(loss))

    def on_train_end(self, history: History) -> None:
        """Sample the last epoch, run every detector, and store the events in ``history``."""
        last = history.epochs - 1
        if self.units and last >= 0 and (not self.samples or self.samples[-1].epoch != last):
            self.samples.append(self._sample(last, history.loss[last]))
        events = loss_events(history.loss, **self.loss_options) + self.unit_events()
        self.events = sorted(events, key=lambda e: (e.start, e.kind))
        history.events.extend(self.events)

    def unit_events(self) -> list[Event]:
        """Saturated units, dead ReLUs and vanishing gradients, from the samples taken."""
        if not self.samples:
            return []
        epochs = np.array([s.epoch for s in self.samples])
        sizes = self.net.sizes
        events: list[Event] = []
        for i in range(len(sizes) - 2):  # hidden layers
            units = sizes[i + 1]
            for kind, counts, what in (
                (
                    "saturated",
                    [s.saturated[i] for s in self.samples],
                    "saturated (pinned near their limits for every example)",
                ),
                (
                    "dead_relu",
                    [s.dead[i] for s in self.samples],
                    "dead (ReLU output 0 for every example)",
                ),
            ):
                if counts[0] is None:
                    continue
                counts_a = np.array(counts)
                for a, b in self._persistent(counts_a > 0):
                    worst = int(counts_a[a : b + 1].max())
                    message = f"hidden layer {i + 1}: {worst} of {units} units {what}"
                    events.append(Event(kind, int(epochs[a]), int(epochs[b]), message, i + 1))
        return events + self._gradient_events(epochs)

    def _gradient_events(self, epochs: np.ndarray) -> list[Event]:
        """Layers whose gradient is tiny beside the largest layer's (through depth), or
        beside their own at the start while the loss is still above a tenth of its start."""
        rms = np.array([s.grad_rms for s in self.samples])  # (samples, layers)
        loss = np.array([s.loss for s in self.samples])
        with np.errstate(divide="ignore", invalid="ignore"):
            across = rms / rms.max(axis=1, keepdims=True)
            over_time = rms / rms[0]
        high = (loss > 0.1 * loss[0])[:, None]
        events = []
        for what, ratio, flags in (
            ("× the largest layer's (vanishing gradient)", across, across < self.vanishing),
            (
                "× its size at the start, the loss still high",
                over_time,
                (over_time < self.vanishing) & high,
            ),
        ):
            for a, b in self._persistent(flags.any(axis=1)):
                layers = np.flatnonzero(flags[a : b + 1].any(axis=0)) + 1
                worst = float(np.nanmin(ratio[a : b + 1][flags[a : b + 1]]))
                which = _layer_list(layers)
                message = f"{which}: gradient down to {worst:.1e} {what}"
                events.append(
                    Event(
                        "vanishing_gradient",
                        int(epochs[a]),
                        int(epochs[b]),
                        message,
                        int(layers[0]),
                    )
                )
        return events

    def _persistent(self, flags: np.ndarray) -> Iterator[tuple[int, int]]:
        for a, b in _runs(flags, gap=2):
            if b - a + 1 >= min(self.persist, len(flags)):
                yield a, b


def _layer_list(layers: np.ndarray) -> str:
    """``layer 3`` or ``layers 1-4`` or ``layers 1, 3``."""
    if len(layers) == 1:
        return f"layer {layers[0]}"
    if np.all(np.diff(layers) == 1):
        return f"layers {layers[0]}-{layers[-1]}"
    return "layers " + ", ".join(str(n) for n in layers)
