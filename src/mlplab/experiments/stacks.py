"""Convergence studies on stacks of networks: which seeds solve the task, when, how well.

A network *solves* a task when every output is on the right side of 0.5 (one
output) or every row's largest output is the target class (several outputs).
``train_stack`` trains a stack (``MLP(..., stack=K)``) and watches for that every
few epochs, so one run answers "how often does a 2-2-1 sigmoid network learn XOR,
and after how many epochs?".
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.engines import choose_engine
from mlplab.errors import ConfigError
from mlplab.nn.targets import correct
from mlplab.train.stack_record import MAX_LOSS_VALUES

if TYPE_CHECKING:
    from mlplab.engines.base import EpochLogs
    from mlplab.nn.network import MLP
    from mlplab.train.callbacks import Callback
    from mlplab.train.history import History

Array = np.ndarray

__all__ = [
    "SolveWatch",
    "SolvedInLogs",
    "StackOutcome",
    "check_memory",
    "estimate_bytes",
    "memory_limit",
    "solved",
    "train_stack",
]

WATCHES = 10000  # how many times per run SolveWatch looks at the outputs, at most
# under a compiled engine each look ends a compiled block (about 1 ms each), so fewer
WATCHES_COMPILED = 500


def solved(y: Array, t: Array) -> Array:
    """Whether each network's outputs ``y`` (``(K, n, out)`` or ``(n, out)``) solve targets ``t``.

    Non-finite outputs never count as solved.
    """
    y = np.asarray(y)
    finite = np.isfinite(y).all(axis=(-2, -1))
    return correct(y, t).all(axis=-1) & finite


class SolveWatch:
    """A ``fit`` callback noting, per network, the first watched epoch at which it solved the task.

    Full batch, it looks at the outputs the epoch's loss was taken at (before that
    epoch's update, so epoch ``j`` means after ``j`` updates) in the network's last layer
    (the NumPy engine's). With mini-batches the last output is one batch's, so it predicts
    every row ``X`` after the epoch instead, and counts ``j + 1`` epochs; under a compiled
    engine (``after_update``) after epochs ``every - 1, 2 * every - 1, ...``, where the
    engine's blocks end (``weights_every``). It looks every ``every`` epochs. (A compiled
    engine's full batch: ``SolvedInLogs``.)
    """

    def __init__(
        self, net: MLP, X: Array, t: Array, every: int, after_update: bool = False
    ) -> None:
        self.net, self.X, self.t, self.every = net, X, t, every
        self.first = np.full(net.stack or 1, -1, dtype=np.int64)
        self.after_update = after_update
        self.weights_every = every if after_update else None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if (epoch + self.after_update) % self.every:
            return
        y = None if self.after_update else self.net.outputs[-1]
        if y is None or y.shape[-2] != len(self.t):  # one batch's outputs: look at every row
            y, epoch = self.net.predict(self.X), epoch + 1
        now = solved(y, self.t) & (self.first < 0)
        self.first[now] = epoch


class SolvedInLogs:
    """``SolveWatch`` for a compiled engine's full batch, read from each epoch's logged
    accuracy (a network has solved the task when it is 1 and its loss finite, at the
    outputs before that epoch's update), a block of epochs at a time: no epoch is replayed
    to Python one by one. It looks every ``every`` epochs, as ``SolveWatch`` does."""

    metrics = ("accuracy",)  # computed for its logs, whether or not the History keeps it

    def __init__(self, nets: int, every: int) -> None:
        self.every = every
        self.first = np.full(nets, -1, dtype=np.int64)

    def on_block_end(self, first: int, logs: EpochLogs) -> None:
        start = -first % self.every  # the block's first row looked at, then every every-th
        looked = slice(start, None, self.every)
        now = (logs.accuracy[looked] == 1.0) & np.isfinite(logs.loss[looked])  # (rows, K)
        new = now.any(axis=0) & (self.first < 0)
        self.first[new] = first + start + self.every * now.argmax(axis=0)[new]


@dataclass
class StackOutcome:
    """What one stack's training gave, network by network, and its summary."""

    solved: Array  # (K,) bool, at the final weights
    epochs_to_solve: Array  # (K,) first watched epoch solved; -1 where not solved at the end
    final_loss: Array  # (K,) loss at the final weights; NaN where the network diverged
    diverged: Array  # (K,) bool
    seconds: float
    history: History
    watch_every: int

    @property
    def nets(self) -> int:
        return len(self.solved)

    def summary(self) -> dict[str, Any]:
        """JSON-ready: ``nets``, ``solved_fraction``, ``epochs_to_solve`` (median, p90, over
        the networks that solved it; null if none did), ``final_loss`` (p10, p50, p90 over
        those that did not diverge), ``diverged``, ``seconds`` (training) and
        ``compile_seconds`` (a compiled engine's compiling, apart; 0 on NumPy)."""
        steps = self.epochs_to_solve[self.solved]
        finite = self.final_loss[np.isfinite(self.final_loss)]
        p10, p50, p90 = np.percentile(finite, [10, 50, 90]) if finite.size else (np.nan,) * 3
        return {
            "nets": self.nets,
            "solved_fraction": float(self.solved.mean()),
            "epochs_to_solve": {
                "median": float(np.median(steps)) if steps.size else None,
                "p90": float(np.percentile(steps, 90)) if steps.size else None,
                "resolution": self.watch_every,
            },
            "final_loss": {"p10": _num(p10), "p50": _num(p50), "p90": _num(p90)},
            "diverged": int(self.diverged.sum()),
            "seconds": self.seconds,
            "compile_seconds": float(self.history.extra.get("compile_seconds", 0.0)),
        }


def _num(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def train_stack(
    net: MLP,
    X: Any,
    t: Any,
    *,
    epochs: int,
    lr: float = 1.0,
    callbacks: Sequence[Callback] = (),
    **fit_options: Any,
) -> StackOutcome:
    """Train the stack ``net`` on ``(X, t)`` and say which networks solved it, and when.

    ``fit_options`` go to ``MLP.fit`` (``batch_size``, ``optimizer``, ``schedule``,
    ``weight_decay``, ``seed``); with mini-batches every network of the stack sees
    the same batches, in the order drawn from ``seed`` (default: the stack's seed).
    Epochs-to-solve are watched every ``max(1, epochs // 10000)`` epochs (the
    ``resolution`` of the summary; ``epochs // 500`` under ``engine="jax"`` in mini-batches,
    where each look ends a compiled block); a network solved only by the last update counts
    ``epochs``.
    """
    if net.stack is None:
        raise ConfigError("train_stack needs a stack of networks: MLP(..., stack=K)")
    X, t = net.check_data(X, t, scaled=False)  # fit, predict and evaluate scale them
    engine = fit_options.get("engine")
    if engine == "auto":
        engine = choose_engine("auto", net.stack, epochs, fit_options.get("device"))
        fit_options["engine"] = engine
    compiled = getattr(engine, "name", engine) not in (None, "numpy")  # outputs not in layers
    batch = fit_options.get("batch_size")
    from_logs = compiled and (batch is None or batch >= len(X))  # full batch: the accuracy
    after_update = compiled and not from_logs
    every = max(1, epochs // (WATCHES_COMPILED if after_update else WATCHES))
    watch = (SolvedInLogs(net.stack, every) if from_logs
             else SolveWatch(net, X, t, every, after_update))  # fmt: skip
    history = net.fit(X, t, epochs=epochs, lr=lr, callbacks=[*callbacks, watch], **fit_options)
    diverged = history.extra["diverged_at"] >= 0
    with np.errstate(invalid="ignore"):  # the diverged networks' outputs
        y = net.predict(X)
        final = np.where(diverged, np.nan, net.evaluate(X, t))
    ok = solved(y, t) & ~diverged
    first = np.where(watch.first >= 0, watch.first, epochs)
    return StackOutcome(
        solved=ok,
        epochs_to_solve=np.where(ok, first, -1),
        final_loss=final,
        diverged=diverged,
        seconds=history.seconds,
        history=history,
        watch_every=every,
    )


def estimate_bytes(
    sizes: Sequence[int],
    n_examples: int,
    stack: int,
    dtype: Any,
    *,
    per_epoch: int = 0,
    optimizer_copies: int = 1,
) -> int:
    """About how many bytes training a stack of ``stack`` such networks takes, at most.

    Per network: weights, gradients, a copy made while stacking them and
    ``optimizer_copies`` more for the optimizer's state (Adam keeps two, and
    each optimizer a scratch copy); each layer's work arrays (``z``, ``h``, a
    scratch array, the gradient for the layer below); plus the bounded loss record
    and ``per_epoch`` float64 values per network kept for every epoch (``fit`` keeps
    the accuracy of every epoch for the classification losses).
    """
    item = np.dtype(dtype).itemsize
    per_net = 0
    for fan_in, fan_out in itertools.pairwise(sizes):
        per_net += (3 + optimizer_copies) * (fan_in + 1) * fan_out  # W, b, grads, copies
        per_net += n_examples * (4 * fan_out + fan_in)  # z, h, scratch, grad_x
    return stack * (per_net * item + 8 * per_epoch) + 8 * min(MAX_LOSS_VALUES, stack * 60000)


def memory_limit() -> int:
    """Half the machine's physical memory, or less where the process may take less
    (``ulimit -v``, a cgroup's limit: ``mlplab.checks.memory_limit``)."""
    from mlplab import checks

    return min(checks.physical_memory() // 2, checks.memory_limit())


def check_memory(estimate: int, limit: float, stack: int) -> None:
    """Refuse, with the estimate and the limit, a stack that would not fit."""
    if estimate > limit:
        raise ConfigError(
            f"a stack of {stack} networks needs about {_gib(estimate)} of memory, over the "
            f"limit of {_gib(limit)}; train fewer networks at once (or raise --max-memory)"
        )


def _gib(n: float) -> str:
    return f"{n / 2**30:.3g} GiB"
