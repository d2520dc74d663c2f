"""One configured training run: its data, its network, its fit, its scores.

``run_training(config)`` is what ``mlplab train`` runs; the pieces (``training_rows``,
``new_network``, ``fit_network``) are what a checkpointed run resumes with.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from mlplab.diagnostics import Diagnostics
from mlplab.errors import ConfigError
from mlplab.experiments.data import CLASSES_KEY, PreparedData, prepare_data
from mlplab.experiments.limits import check_network, check_run_memory
from mlplab.nn.network import MLP
from mlplab.nn.targets import accuracy
from mlplab.progress import terminal_progress

if TYPE_CHECKING:
    from mlplab.experiments.config import TrainConfig
    from mlplab.train.callbacks import Callback
    from mlplab.train.history import History
    from mlplab.train.optimizers import Optimizer

__all__ = [
    "fit_network",
    "new_network",
    "run_training",
    "split_scores",
    "training_rows",
]


def training_rows(config: TrainConfig, holdout: int | None) -> tuple[PreparedData, np.ndarray]:
    """The configured data, split, and the rows to train on (minus ``holdout``)."""
    data = prepare_data(config)
    rows = data.parts.train
    if holdout is not None:
        if not 0 <= holdout < len(data.X):
            raise ConfigError(
                f"--holdout {holdout} is out of range: {data.source} has rows 0 to "
                f"{len(data.X) - 1}"
            )
        rows = rows[rows != holdout]
    return data, rows


def new_network(config: TrainConfig, data: PreparedData) -> MLP:
    """The configured network, carrying the data's split and class names.

    Its size and the run's memory are checked first (``check_run_memory``).
    """
    sizes = config.sizes(data.X.shape[1], data.t.shape[1])
    check_network(config, sizes)
    check_run_memory(config, sizes, len(data.X))
    net = MLP(sizes, **config.network_kwargs())
    if data.classes is not None:
        net.training_metadata[CLASSES_KEY] = list(data.classes)
    net.training_metadata["split"] = {
        name: getattr(data.parts, name).tolist() for name in ("validation", "test")
    }
    return net


def fit_network(
    net: MLP,
    config: TrainConfig,
    data: PreparedData,
    rows: np.ndarray,
    *,
    epochs: int,
    quiet: bool,
    optimizer: Optimizer | None = None,
    callbacks: Sequence[Callback] = (),
    seed: int | np.random.Generator | None = None,
) -> History:
    """Train ``net`` on ``rows`` for ``epochs`` with the configured fitting options.

    With ``standardize`` the network fits its input scaler on ``rows`` first. Unless
    ``quiet``, a progress bar is drawn on stderr when it is a terminal.
    """
    inputs = data.X
    val = data.parts.validation
    # ~200 looks, whatever the length; a compiled engine keeps no layer values to look at
    watch = Diagnostics(net, every=max(1, epochs // 200), units=config.engine == "numpy")
    with terminal_progress(epochs, quiet=quiet) as bars:
        return net.fit(
            inputs[rows],
            data.t[rows],
            epochs=epochs,
            lr=config.lr,
            callbacks=[*bars, *callbacks, watch],
            optimizer=optimizer if optimizer is not None else config.optimizer,
            batch_size=config.batch_size,
            validation=(inputs[val], data.t[val]) if len(val) else None,
            early_stopping=config.early_stopping,
            schedule=config.schedule,
            weight_decay=config.weight_decay,
            seed=config.seed if seed is None else seed,
            standardize=config.standardize,
            **config.engine_kwargs(),
        )


def run_training(
    config: TrainConfig,
    *,
    holdout: int | None = None,
    quiet: bool = True,
    callbacks: Sequence[Callback] = (),
) -> tuple[MLP, History, np.ndarray, np.ndarray, float]:
    """Build and train the configured network; returns ``(net, history, X, t, seconds)``.

    ``X`` and ``t`` are all rows of the data as read; the split is in
    ``net.training_metadata`` and the standardisation (if any) is ``net.input_scaler``.
    """
    data, rows = training_rows(config, holdout)
    net = new_network(config, data)
    start = time.perf_counter()
    history = fit_network(
        net, config, data, rows, epochs=config.epochs, quiet=quiet, callbacks=callbacks
    )
    return net, history, data.X, data.t, time.perf_counter() - start


def split_scores(
    net: MLP, X: np.ndarray, t: np.ndarray, holdout: int | None = None
) -> dict[str, dict[str, float]]:
    """Mean loss per example and accuracy on each part of the network's split.

    ``holdout``, a row trained without, is scored on its own ("held out"), not as training.
    """
    split = net.training_metadata.get("split", {})
    held = {name: np.asarray(split.get(name, []), dtype=int) for name in ("validation", "test")}
    if holdout is not None:
        held["held out"] = np.array([holdout])
    train = np.setdiff1d(np.arange(len(X)), np.concatenate(list(held.values())))
    scores = {}
    for name, rows in (("train", train), *held.items()):
        if len(rows):
            loss = net.evaluate(X[rows], t[rows]) / (1 if net.reduction == "mean" else len(rows))
            y = net.predict(X[rows])
            scores[name] = {
                "loss": float(loss),
                "accuracy": float(accuracy(y, t[rows])),
                "rows": len(rows),
            }
    return scores
