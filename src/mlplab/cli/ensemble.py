"""``mlplab ensemble``: train many seeds of one network at once and say how often it learns.

Networks ``seed, seed+1, ..., seed+nets-1`` train as one stack; the report is the
fraction that solved the task, when they did, and how low their loss went.
"""

from __future__ import annotations

import json
from typing import Any

import click

from mlplab.cli.options import (
    data_options,
    device_option,
    engine_option,
    json_option,
    max_memory_option,
    network_options,
    optimizer_options,
    plot_option,
    quiet_option,
)
from mlplab.cli.outputs import check_outputs
from mlplab.experiments.config import TrainConfig
from mlplab.experiments.ensembles import DEFAULT_NETS, describe, run_ensemble

__all__ = ["ensemble"]


def _g(x: float | None) -> str:
    return "-" if x is None else f"{x:.4g}"


@click.command()
@network_options
@data_options
@optimizer_options
@click.option(
    "--nets",
    type=click.IntRange(min=1),
    default=DEFAULT_NETS,
    show_default=True,
    help="Networks to train: seeds S, S+1, ..., one stack.",
)
@plot_option("Median loss and the 10-90 % band against epochs.")
@max_memory_option
@engine_option
@device_option
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
    check_outputs({}, {"--plot": plot_path})
    outcome = run_ensemble(config, nets, max_memory=max_memory, quiet=quiet)
    if plot_path:
        from mlplab.plot import plot_loss

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
    engine = config.engine_kwargs(nets)["engine"]
    click.echo(f"time              {seconds:.2f} s ({nets / max(seconds, 1e-9):.0f} networks/s, "
               f"engine {engine})")  # fmt: skip
    if plot_path:
        click.echo(f"\nplot written to {plot_path}")
