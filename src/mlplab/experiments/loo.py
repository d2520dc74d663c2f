"""Leave-one-out over many seeds: exercise 4 done properly.

For each row of a data set, a stack of ``seeds`` networks (seeds S, S+1, ...) trains
on the other rows; the held-out row's prediction is then compared with its target.
One run can get lucky; twenty tell whether the architecture generalises to the
missing row or only memorises the rest.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlplab.datasets import load_dataset
from mlplab.experiments.config import TrainConfig
from mlplab.experiments.limits import check_network, check_run_memory
from mlplab.nn.network import MLP
from mlplab.nn.targets import correct
from mlplab.progress import terminal_progress
from mlplab.train.callbacks import Callback

__all__ = ["HeldOutWatch", "leave_one_out", "record_epochs"]


def record_epochs(epochs: int, points: int = 120) -> np.ndarray:
    """Epoch counts (1-based), log-spaced, at which to record losses for the plot."""
    if epochs == 0:
        return np.array([], dtype=int)
    return np.unique(np.geomspace(1, epochs, points).astype(int))


class HeldOutWatch(Callback):
    """A ``fit`` callback recording, after chosen epoch counts, the mean loss per example on
    the training rows and on the held-out row, both averaged over the stack of seeds.

    On the NumPy engine it evaluates the network at those epochs. A compiled engine's
    weights are current only where its blocks end, so there (``from_logs``) it reads the
    epochs' logs instead: the held-out row is then ``fit``'s validation set, an epoch's
    ``loss`` is taken at the weights of ``epoch`` updates and its ``val_loss`` after that
    epoch's update. (Validating every epoch would double the NumPy engine's time.) Call
    ``finish()`` after ``fit``. Frozen (diverged) networks are left out of the means.
    """

    def __init__(
        self, net: MLP, train: tuple, held_out: tuple, record: set[int], from_logs: bool = False
    ) -> None:
        self.net, self.train, self.held_out, self.record = net, train, held_out, record
        self.from_logs = from_logs
        self.train_curve: list[float] = []
        self.held_curve: list[float] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        rows = len(self.train[0])
        if not self.from_logs:
            if epoch + 1 in self.record:  # after this epoch's update
                self.train_curve.append(_finite_mean(self.net.evaluate(*self.train)) / rows)
                self.held_curve.append(_finite_mean(self.net.evaluate(*self.held_out)))
            return
        if epoch in self.record:  # the loss of the weights after `epoch` updates
            self.train_curve.append(_finite_mean(logs["loss"]) / rows)
        if epoch + 1 in self.record:  # validation runs after the epoch's update
            self.held_curve.append(_finite_mean(logs["val_loss"]))

    def finish(self) -> None:
        """The training loss after the last update, where the logs have not given it."""
        if len(self.train_curve) < len(self.held_curve):
            rows = len(self.train[0])
            self.train_curve.append(_finite_mean(self.net.evaluate(*self.train)) / rows)


def _finite_mean(values: Any) -> float:
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")


def leave_one_out(config: TrainConfig, seeds: int, *, quiet: bool = True) -> dict[str, Any]:
    """Train ``seeds`` networks per held-out row; return per-row results and loss curves.

    ``rows`` holds, per row, its inputs and target, the fraction of seeds that put it
    on the right side (``right_fraction``), their mean prediction and the two curves
    recorded at ``record_epochs``.
    """
    X, t = load_dataset(config.dataset)
    sizes = config.sizes(X.shape[1], t.shape[1])
    check_network(config, sizes)
    check_run_memory(config, sizes, len(X), nets=seeds, validated=True)
    record = record_epochs(config.epochs)
    engine = config.engine_kwargs(seeds)
    rows = []
    for row in range(len(X)):
        keep = np.arange(len(X)) != row
        held_out = (X[row : row + 1], t[row : row + 1])
        net = MLP(config.sizes(X.shape[1], t.shape[1]), **config.network_kwargs(), stack=seeds)
        compiled = engine["engine"] != "numpy"
        watch = HeldOutWatch(net, (X[keep], t[keep]), held_out, set(record.tolist()), compiled)
        with terminal_progress(config.epochs, quiet=quiet, desc=f"row {row}") as bars:
            net.fit(X[keep], t[keep], epochs=config.epochs, lr=config.lr,
                    validation=held_out if compiled else None, callbacks=[*bars, watch],
                    **engine)  # fmt: skip
        watch.finish()
        y = net.predict(X[row : row + 1])[:, 0, :]  # (seeds, outputs)
        right = correct(y, np.broadcast_to(t[row], y.shape))
        rows.append(
            {
                "row": row,
                "inputs": X[row].tolist(),
                "target": t[row].tolist(),
                "right_fraction": float(right.mean()),
                "mean_prediction": y.mean(axis=0).tolist(),
                "train_curve": watch.train_curve,
                "heldout_curve": watch.held_curve,
            }
        )
    return {"rows": rows, "record_epochs": record.tolist(), "seeds": seeds,
            "engine": engine["engine"]}  # fmt: skip
