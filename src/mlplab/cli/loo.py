"""``mlplab loo``: exercise 4 done properly, leave-one-out over many seeds.

For each row of the data set, a stack of ``--seeds`` networks (seeds S, S+1, ...)
trains on the other rows; the held-out row's prediction is then compared with
its target. One run can get lucky; twenty tell whether the architecture
generalises to the missing row or only memorises the rest.
"""

from __future__ import annotations

import json
from typing import Any

import click
import numpy as np

from mlplab.cli.options import TrainConfig, json_option, network_options, plot_option, quiet_option
from mlplab.cli.progress import epoch_progress
from mlplab.datasets import load_dataset
from mlplab.nn.network import MLP

__all__ = ["leave_one_out", "loo"]


def _record_epochs(epochs: int, points: int = 120) -> np.ndarray:
    """Epoch counts (1-based), log-spaced, at which to record losses for the plot."""
    if epochs == 0:
        return np.array([], dtype=int)
    return np.unique(np.geomspace(1, epochs, points).astype(int))


class _HeldOutWatch:
    """A ``fit`` callback recording, at chosen epochs, the mean loss per example on the
    training rows and on the held-out row (both averaged over the stack of seeds)."""

    def __init__(self, net: MLP, train: tuple, held_out: tuple, record: set[int]) -> None:
        self.net, self.train, self.held_out, self.record = net, train, held_out, record
        self.train_curve: list[float] = []
        self.held_curve: list[float] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if epoch + 1 in self.record:  # after this epoch's update
            X, t = self.train
            self.train_curve.append(float(np.mean(self.net.evaluate(X, t))) / len(X))
            self.held_curve.append(float(np.mean(self.net.evaluate(*self.held_out))))


def leave_one_out(config: TrainConfig, seeds: int, *, quiet: bool = True) -> dict[str, Any]:
    """Train ``seeds`` networks per held-out row; return per-row results and loss curves."""
    X, t = load_dataset(config.dataset)
    record = _record_epochs(config.epochs)
    rows = []
    for row in range(len(X)):
        keep = np.arange(len(X)) != row
        net = MLP(config.sizes(X.shape[1], t.shape[1]), **config.network_kwargs(), stack=seeds)
        watch = _HeldOutWatch(
            net, (X[keep], t[keep]), (X[row : row + 1], t[row : row + 1]), set(record.tolist())
        )
        with epoch_progress(config.epochs, quiet=quiet, desc=f"row {row}") as bars:
            net.fit(X[keep], t[keep], epochs=config.epochs, lr=config.lr, callbacks=[*bars, watch])
        y = net.predict(X[row : row + 1])[:, 0, :]  # (seeds, outputs)
        right = np.all((y > 0.5) == (t[row] > 0.5), axis=-1)
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
    return {"rows": rows, "record_epochs": record.tolist(), "seeds": seeds}


@click.command()
@network_options
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Networks (seeds S, S+1, ...) trained per held-out row.",
)
@plot_option("Per held-out row, its loss over the epochs beside the training loss.")
@json_option
@quiet_option
def loo(seeds: int, plot_path: str | None, as_json: bool, quiet: bool, **options: Any) -> None:
    """Leave one row out, train on the rest over many seeds, test the missing row."""
    config = TrainConfig.from_options(options)
    result = leave_one_out(config, seeds, quiet=quiet)
    if plot_path:
        from mlplab.plotting import loo_figure, save_figure

        labels = [
            f"row {r['row']} held out: {r['inputs'][:-1]} -> {r['target'][0]:g}"
            for r in result["rows"]
        ]
        fig = loo_figure(
            np.array(result["record_epochs"]),
            [r["train_curve"] for r in result["rows"]],
            [r["heldout_curve"] for r in result["rows"]],
            labels,
            title=f"{config.dataset}: leave one out, {seeds} seeds each",
        )
        save_figure(fig, plot_path)
    if as_json:
        summary = [{k: v for k, v in r.items() if not k.endswith("_curve")} for r in result["rows"]]
        click.echo(json.dumps({"rows": summary, "seeds": seeds, "config": config.to_dict()}))
        return
    click.echo(
        f"{config.dataset}: leave one out, {seeds} seeds per row, {config.epochs} epochs each"
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
