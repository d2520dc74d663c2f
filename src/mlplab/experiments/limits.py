"""Run settings bounded before anything is allocated: one set of rules for every source.

``check_settings`` holds the static bounds (epochs, layer sizes, points, batch size) that
``TrainConfig`` applies to itself, whether it comes from the command line, a run record
or a checkpoint. ``check_run_memory`` applies the ensemble's memory estimate to any run
(``train``, ``loo``, a sweep's cell, a resumed checkpoint) once the data's shape is known,
before the network is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlplab.checks import softmax_outputs
from mlplab.engines import check_engine
from mlplab.errors import ConfigError
from mlplab.experiments.stacks import check_memory, estimate_bytes, memory_limit
from mlplab.train.optimizers import OPTIMIZERS
from mlplab.train.stack_record import kept_every

if TYPE_CHECKING:
    from mlplab.experiments.config import TrainConfig

__all__ = [
    "MAX_EPOCHS",
    "MAX_LAYERS",
    "MAX_POINTS",
    "MAX_WIDTH",
    "check_network",
    "check_run_memory",
    "check_settings",
    "run_bytes",
    "stack_bytes",
]

MAX_EPOCHS = 10**8  # a loss per epoch: 800 MB of history at the most
MAX_WIDTH = 1 << 24  # units in one layer
MAX_LAYERS = 1000
MAX_POINTS = 10**7  # points drawn for a 2-D data set


def check_settings(config: TrainConfig) -> None:
    """Refuse settings no run could allocate, naming the option and its bound."""
    bounds = [
        ("--epochs", config.epochs, MAX_EPOCHS),
        ("--points", config.points, MAX_POINTS),
        ("--hidden (layers)", len(config.hidden), MAX_LAYERS),
        *((f"--hidden {h}", h, MAX_WIDTH) for h in config.hidden),
    ]
    for option, value, bound in bounds:
        if value > bound:
            raise ConfigError(f"{option}: {value} is more than mlplab allows ({bound})")
    if config.batch_size is not None and config.batch_size < 1:
        raise ConfigError(f"--batch-size {config.batch_size}: expected a positive number")
    if config.epochs < 0 or config.points < 2:
        raise ConfigError("--epochs must be >= 0 and --points >= 2")
    check_engine(config.engine, config.device, flags=True)


def check_network(config: TrainConfig, sizes: list[int]) -> None:
    """Refuse an architecture that trains but cannot learn: softmax over a single output."""
    softmax_outputs(config.output_activation, sizes[-1], option="--output-activation",
                    fix="--output-activation sigmoid")  # fmt: skip


def run_bytes(
    config: TrainConfig, sizes: list[int], n_examples: int, nets: int = 1, validated: bool = False
) -> int:
    """About the bytes a run takes: the ensemble's estimate, plus the per-epoch history
    (``validated``: validation rows given to ``fit``, as ``loo`` gives its held-out row)."""
    records = 1 + (2 if config.validation or validated else 0)  # loss, val loss and accuracy
    return stack_bytes(config, sizes, n_examples, nets) + 8 * config.epochs * records * nets


def check_run_memory(
    config: TrainConfig,
    sizes: list[int],
    n_examples: int,
    *,
    nets: int = 1,
    max_memory: float | None = None,
    validated: bool = False,
) -> None:
    """Refuse a run estimated to need more than ``max_memory`` GiB (default: ``memory_limit``,
    half the RAM or what ulimit -v or a cgroup leaves, if less)."""
    limit = memory_limit() if max_memory is None else max_memory * 2**30
    estimate = run_bytes(config, sizes, n_examples, nets, validated)
    if nets == 1 and estimate > limit:
        arch = "-".join(map(str, sizes))
        raise ConfigError(
            f"a {arch} network on {n_examples} examples for {config.epochs} epochs needs about "
            f"{estimate / 2**30:.3g} GiB of memory, over the limit of {limit / 2**30:.3g} GiB; "
            "use smaller layers, fewer examples or fewer epochs"
        )
    check_memory(estimate, limit, nets)


def stack_bytes(config: TrainConfig, sizes: list[int], n_examples: int, nets: int) -> int:
    """``estimate_bytes`` for this configuration, with the accuracy where fit keeps it (at the
    epochs a stack's loss record keeps, so bounded)."""
    # the accuracy: kept for the classification losses, and by a compiled ensemble's watch
    per_epoch = len(range(0, config.epochs, kept_every(nets, config.epochs)))
    copies = 1 + len(getattr(OPTIMIZERS[config.optimizer], "slots", ()))  # scratch + state
    rows = n_examples  # work arrays for every row (the solve watch predicts them all) ...
    if config.batch_size is not None:  # ... and for a batch and a shorter last batch
        rows += 2 * min(config.batch_size, n_examples)
    return estimate_bytes(
        sizes, rows, nets, config.dtype, per_epoch=per_epoch, optimizer_copies=copies
    )
