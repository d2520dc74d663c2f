"""``mlplab loo``: exercise 4 done properly, leave-one-out over many seeds.

For each row of the data set, a stack of ``--seeds`` networks (seeds S, S+1, ...)
trains on the other rows; the held-out row's prediction is then compared with
its target (``mlplab.experiments.leave_one_out``).
"""

from __future__ import annotations

import json
from typing import Any

import click
import numpy as np

from mlplab.cli.options import (
    device_option,
    engine_option,
    json_option,
    network_options,
    plot_option,
    quiet_option,
)
from mlplab.cli.outputs import check_outputs
from mlplab.cli.words import counted
from mlplab.experiments.config import TrainConfig
from mlplab.experiments.loo import leave_one_out

__all__ = ["loo"]

DEFAULT_SEEDS = 20


@click.command()
@network_options
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=DEFAULT_SEEDS,
    show_default=True,
    help="Networks (seeds S, S+1, ...) trained per held-out row.",
)
@plot_option("Per held-out row, its loss over the epochs beside the training loss.")
@engine_option
@device_option
@json_option
@quiet_option
def loo(seeds: int, plot_path: str | None, as_json: bool, quiet: bool, **options: Any) -> None:
    """Leave one row out, train on the rest over many seeds, test the missing row."""
    config = TrainConfig.from_options(options)
    check_outputs({}, {"--plot": plot_path})
    result = leave_one_out(config, seeds, quiet=quiet)
    if plot_path:
        from mlplab.plot import figure, loo_figure, save_figure

        labels = [
            f"row {r['row']} held out: {r['inputs'][:-1]} -> {r['target'][0]:g}"
            for r in result["rows"]
        ]
        n = len(labels)  # on a figure of its own, never pyplot's
        panels = figure(3.2 * n, 3.4).subplots(1, n, sharey=True, squeeze=False)[0]
        fig = loo_figure(
            np.array(result["record_epochs"]),
            [r["train_curve"] for r in result["rows"]],
            [r["heldout_curve"] for r in result["rows"]],
            labels,
            title=f"{config.dataset}: leave one out, {counted(seeds, 'seed')} each",
            ax=panels,
        )
        save_figure(fig, plot_path)
    if as_json:
        summary = [{k: v for k, v in r.items() if not k.endswith("_curve")} for r in result["rows"]]
        click.echo(json.dumps({"rows": summary, "seeds": seeds, "engine": result["engine"],
                               "config": config.to_dict()}))  # fmt: skip
        return
    click.echo(
        f"{config.dataset}: leave one out, {counted(seeds, 'seed')} per row, "
        f"{counted(config.epochs, 'epoch')} each "
        f"(engine {result['engine']})"
    )
    click.echo()
    click.echo("held-out row  inputs  target  right side of 0.5  mean prediction")
    for r in result["rows"]:
        inputs = ",".join(f"{v:g}" for v in r["inputs"])
        click.echo(
            f"{r['row']:>12}  {inputs:>6}  {r['target'][0]:>6g}  "
            f"{r['right_fraction']:>17.0%}  {r['mean_prediction'][0]:>15.4f}"
        )
    if plot_path:
        click.echo(f"\nplot written to {plot_path}")
