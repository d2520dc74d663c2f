"""``mlplab ensemble``: train many seeds of one network at once and say how often it learns.

Networks ``seed, seed+1, ..., seed+nets-1`` train as one stack; the report is the
fraction that solved the task, when they did, and how low their loss went.
"""

from __future__ import annotations

import json
from typing import Any

import click
import numpy as np

from mlplab.cli.data import prepare_data
from mlplab.cli.options import (
    TrainConfig,
    data_options,
    json_option,
    network_options,
    optimizer_options,
    plot_option,
    quiet_option,
)
from mlplab.cli.progress import epoch_progress
from mlplab.experiments import StackOutcome, check_memory, estimate_bytes, memory_limit, train_stack
from mlplab.nn.network import MLP
from mlplab.train.job import CLASSIFICATION_LOSSES
from mlplab.train.optimizers import OPTIMIZERS

__all__ = ["ensemble", "ensemble_data", "max_memory_option", "run_ensemble", "stack_bytes"]


def run_ensemble(
    config: TrainConfig, nets: int, *, max_memory: float | None = None, quiet: bool = True
) -> StackOutcome:
    """Train ``nets`` seeds of the configured network as one stack (refusing one too large)."""
    X, t = ensemble_data(config)
    sizes = config.sizes(X.shape[1], t.shape[1])
    limit = memory_limit() if max_memory is None else max_memory * 2**30
    check_memory(stack_bytes(config, sizes, len(X), nets), limit, nets)
    net = MLP(sizes, **config.network_kwargs(), stack=nets)
    with epoch_progress(config.epochs, quiet=quiet, desc=f"{nets} networks") as bars:
        return train_stack(
            net,
            X,
            t,
            epochs=config.epochs,
            lr=config.lr,
            callbacks=bars,
            seed=config.seed,
            standardize=config.standardize,
            **config.optimizer_kwargs(),
        )


def ensemble_data(config: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """Every row of the configured data (a built-in set or ``--data``), inputs as read."""
    data = prepare_data(config)
    return data.X, data.t


def stack_bytes(config: TrainConfig, sizes: list[int], n_examples: int, nets: int) -> int:
    """``estimate_bytes`` for this configuration, with the per-epoch accuracy where fit keeps it."""
    per_epoch = config.epochs if config.loss in CLASSIFICATION_LOSSES else 0
    copies = 1 + len(getattr(OPTIMIZERS[config.optimizer], "slots", ()))  # scratch + state
    rows = n_examples  # work arrays for every row (the solve watch predicts them all) ...
    if config.batch_size is not None:  # ... and for a batch and a shorter last batch
        rows += 2 * min(config.batch_size, n_examples)
    return estimate_bytes(
        sizes, rows, nets, config.dtype, per_epoch=per_epoch, optimizer_copies=copies
    )


def max_memory_option(command: Any) -> Any:
    return click.option(
        "--max-memory",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        metavar="GIB",
        help="Refuse stacks estimated to need more (default: half the physical memory).",
    )(command)


def describe(config: TrainConfig, nets: int) -> str:
    hidden = "-".join(str(h) for h in config.hidden)
    batches = "full batch" if config.batch_size is None else f"batches of {config.batch_size}"
    return (
        f"{config.data or config.dataset}: {nets} networks, hidden {hidden} {config.activation}/"
        f"{config.output_activation}, {config.loss} ({config.reduction}), {config.epochs} epochs, "
        f"{config.optimizer} lr {config.lr:g} ({batches}), init {config.init}, "
        f"seeds {config.seed}..{config.seed + nets - 1}"
    )


def _g(x: float | None) -> str:
    return "-" if x is None else f"{x:.4g}"


@click.command()
@network_options
@data_options
@optimizer_options
@click.option(
    "--nets",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Networks to train: seeds S, S+1, ..., one stack.",
)
@plot_option("Median loss and the 10-90 % band against epochs.")
@max_memory_option
@json_option
@quiet_option
def ensemble(
    nets: int,
    plot_path: str | None,
    max_memory: float | None,
    as_json: bool,
    quiet: bool,
    **options: Any,
) -> None:
    """Train many seeds of a network at once; report how many solve the task, and when."""
    config = TrainConfig.from_options(options)
    outcome = run_ensemble(config, nets, max_memory=max_memory, quiet=quiet)
    if plot_path:
        from mlplab.plotting import plot_loss

        hidden = "-".join(str(h) for h in config.hidden)
        title = f"{config.data or config.dataset}: {nets} seeds, hidden {hidden}"
        title += f" {config.activation}, lr {config.lr:g}"
        plot_loss(outcome.history, plot_path, title=title)
    summary = outcome.summary()
    if as_json:
        click.echo(json.dumps({**summary, "config": config.to_dict()}))
        return
    steps, loss = summary["epochs_to_solve"], summary["final_loss"]
    click.echo(describe(config, nets))
    click.echo()
    click.echo(
        f"solved            {summary['solved_fraction']:.1%} ({outcome.solved.sum()} of {nets})"
    )
    click.echo(
        f"epochs to solve   median {_g(steps['median'])}, 90th percentile {_g(steps['p90'])} "
        f"(watched every {steps['resolution']} epochs)"
    )
    click.echo(
        f"final loss        p10 {_g(loss['p10'])}  p50 {_g(loss['p50'])}  p90 {_g(loss['p90'])}"
    )
    if summary["diverged"]:
        click.echo(f"diverged          {summary['diverged']} (frozen where their loss blew up)")
    seconds = summary["seconds"]
    click.echo(f"time              {seconds:.2f} s ({nets / max(seconds, 1e-9):.0f} networks/s)")
    if plot_path:
        click.echo(f"\nplot written to {plot_path}")
