"""``mlplab ensemble``: train many seeds of one network at once and say how often it learns.

Networks ``seed, seed+1, ..., seed+nets-1`` train as one stack; the report is the
fraction that solved the task, when they did, and how low their loss went. With
``--dask tcp://HOST:PORT`` the stack trains in blocks of consecutive seeds on a Dask
cluster's workers (``mlplab.experiments.blocks``), with the same results.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from mlplab.cli.options import (
    dask_options,
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
from mlplab.cli.words import counted
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
@dask_options("Train the stack in blocks on this Dask scheduler's workers (the same results).")
@click.option(
    "--block-nets", type=click.IntRange(min=1), default=None, metavar="N",
    help="With --dask: networks per block, about (default 1000).",
)  # fmt: skip
@plot_option("Median loss and the 10-90 % band against epochs.")
@max_memory_option
@engine_option
@device_option
@json_option
@quiet_option
def ensemble(
    nets: int,
    dask_address: str | None,
    dask_timeout: float,
    block_nets: int | None,
    plot_path: str | None,
    max_memory: float | None,
    as_json: bool,
    quiet: bool,
    **options: Any,
) -> None:
    """Train many seeds of a network at once; report how many solve the task, and when."""
    config = TrainConfig.from_options(options)
    check_outputs({}, {"--plot": plot_path})
    if dask_address is None:
        _no_cluster_options(block_nets)
        outcome = run_ensemble(config, nets, max_memory=max_memory, quiet=quiet)
    else:
        outcome = _on_cluster(config, nets, dask_address, dask_timeout, block_nets, max_memory,
                              quiet)  # fmt: skip
    if plot_path:
        from mlplab.plot import plot_loss

        hidden = "-".join(str(h) for h in config.hidden)
        title = f"{config.data or config.dataset}: {nets} seeds, hidden {hidden}"
        title += f" {config.activation}, lr {config.lr:g}"
        plot_loss(outcome.history, plot_path, title=title)
    summary = outcome.summary()
    if as_json:
        doc = {**summary, "config": config.to_dict()}
        if dask_address is not None:
            doc["dask"] = _cluster_facts(outcome, dask_address)
        click.echo(json.dumps(doc))
        return
    steps, loss = summary["epochs_to_solve"], summary["final_loss"]
    click.echo(describe(config, nets))
    click.echo()
    click.echo(
        f"solved            {summary['solved_fraction']:.1%} ({outcome.solved.sum()} of {nets})"
    )
    click.echo(
        f"epochs to solve   median {_g(steps['median'])}, 90th percentile {_g(steps['p90'])} "
        f"(watched every {counted(steps['resolution'], 'epoch')})"
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
    if dask_address is not None:
        click.echo(_cluster_time(outcome))
    if plot_path:
        click.echo(f"\nplot written to {plot_path}")


def _no_cluster_options(block_nets: int | None) -> None:
    """Refuse the options that only mean something with ``--dask``."""
    if block_nets is not None:
        from mlplab.errors import ConfigError

        raise ConfigError("--block-nets splits the stack over a Dask cluster: give --dask too")


def _on_cluster(
    config: TrainConfig, nets: int, address: str, timeout: float, block_nets: int | None,
    max_memory: float | None, quiet: bool,
) -> Any:  # fmt: skip
    """The ensemble trained in blocks on the cluster, with a progress bar over its networks."""
    from mlplab.experiments.blocks import DEFAULT_BLOCK_NETS, run_ensemble_dask

    bar = None
    if not quiet and sys.stderr.isatty():
        from tqdm.auto import tqdm

        bar = tqdm(total=nets, desc="networks (per block)", unit="net", file=sys.stderr,
                   leave=False)  # fmt: skip
    try:  # lost blocks raise BlocksLost, one line naming them
        return run_ensemble_dask(
            config, nets, address, timeout=timeout, max_memory=max_memory,
            block_nets=block_nets or DEFAULT_BLOCK_NETS,
            progress=None if bar is None else bar.update,
        )  # fmt: skip
    finally:
        if bar is not None:
            bar.close()


def _cluster_facts(outcome: Any, address: str) -> dict[str, Any]:
    extra = outcome.history.extra
    return {"address": address, "blocks": extra["blocks"], "wall_seconds": extra["wall_seconds"]}


def _cluster_time(outcome: Any) -> str:
    """Which time is which: the line above sums the blocks' training; the client's clock."""
    extra = outcome.history.extra
    wall = extra["wall_seconds"]
    return (
        f"on the cluster    {extra['blocks']} blocks; the time above is their training summed; "
        f"{wall:.2f} s on the client's clock ({outcome.nets / max(wall, 1e-9):.0f} networks/s)"
    )
