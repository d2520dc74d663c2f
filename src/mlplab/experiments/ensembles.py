"""Ensembles: many seeds of one configured network trained at once, as one stack.

Networks ``seed, seed+1, ..., seed+nets-1`` train as one stack (``train_stack``);
the outcome says which solved the task, when, and how low their loss went. A stack
estimated not to fit in memory is refused before anything is allocated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mlplab.experiments.config import TrainConfig
from mlplab.experiments.data import prepare_data
from mlplab.experiments.limits import check_network, stack_bytes
from mlplab.experiments.stacks import (
    StackOutcome,
    check_memory,
    memory_limit,
    train_stack,
)
from mlplab.nn.network import MLP
from mlplab.progress import terminal_progress

__all__ = [
    "DEFAULT_NETS",
    "describe",
    "ensemble_data",
    "run_ensemble",
    "train_configured",
]

DEFAULT_NETS = 1000  # networks in an ensemble (and in a sweep's cell) unless told


def run_ensemble(
    config: TrainConfig, nets: int, *, max_memory: float | None = None, quiet: bool = True
) -> StackOutcome:
    """Train ``nets`` seeds of the configured network as one stack (refusing one too large).

    ``max_memory`` is in GiB (default: half the physical memory, or less under a
    ``ulimit -v`` or a cgroup limit). Unless ``quiet``, a progress bar is drawn on stderr
    when it is a terminal.
    """
    X, t = ensemble_data(config)
    sizes = config.sizes(X.shape[1], t.shape[1])
    check_network(config, sizes)
    limit = memory_limit() if max_memory is None else max_memory * 2**30
    check_memory(stack_bytes(config, sizes, len(X), nets), limit, nets)
    net = MLP(sizes, **config.network_kwargs(), stack=nets)
    with terminal_progress(config.epochs, quiet=quiet, desc=f"{nets} networks") as bars:
        return train_configured(config, net, X, t, bars)


def train_configured(
    config: TrainConfig, net: MLP, X: np.ndarray, t: np.ndarray, callbacks: Sequence[Any]
) -> StackOutcome:
    """``train_stack`` of ``net`` with the configured fitting options: the mini-batch order
    from ``config.seed`` (the whole ensemble's, whichever block ``net`` is), the engine
    ``auto`` resolves to for ``net.stack`` networks, the optimizer and schedule."""
    return train_stack(
        net,
        X,
        t,
        epochs=config.epochs,
        lr=config.lr,
        callbacks=callbacks,
        seed=config.seed,
        standardize=config.standardize,
        **config.engine_kwargs(net.stack or 1),
        **config.optimizer_kwargs(),
    )


def ensemble_data(config: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """Every row of the configured data (a built-in set or ``data``), inputs as read."""
    data = prepare_data(config)
    return data.X, data.t


def describe(config: TrainConfig, nets: int) -> str:
    """One line naming the ensemble: data, networks, architecture, training, seeds."""
    hidden = "-".join(str(h) for h in config.hidden)
    batches = "full batch" if config.batch_size is None else f"batches of {config.batch_size}"
    return (
        f"{config.data or config.dataset}: {nets} networks, hidden {hidden} {config.activation}/"
        f"{config.output_activation}, {config.loss} ({config.reduction}), {config.epochs} epochs, "
        f"{config.optimizer} lr {config.lr:g} ({batches}), init {config.init}, "
        f"seeds {config.seed}..{config.seed + nets - 1}"
    )
