"""``mlplab explain``: the seed's loop, line by line, with the arrays one epoch computes.

By default the seed's own run (its 3-4-1 network on XOR from seed 0) at epoch 0. Each line
of the seed's loop is printed with the arrays it computes, in the seed's notation and signs,
then the mlplab line that computed them (``MLP.trace``) and how the two relate.
"""

from __future__ import annotations

from typing import Any

import click
import numpy as np

from mlplab.cli.options import data_options, json_option, network_options, optimizer_options
from mlplab.experiments.config import TrainConfig
from mlplab.experiments.runs import new_network, training_rows
from mlplab.trace import Trace
from mlplab.trace.render import format_array, header, per_row
from mlplab.trace.seed_view import SeedLine, seed_lines
from mlplab.train.optimizers import get_optimizer

__all__ = ["explain"]

SIGNS = (
    "mlplab's delta is dL/dz, the gradient: the seed's y_delta and h_delta are -delta.\n"
    "mlplab's update W -= lr * dW (dW = h.T @ delta) is the seed's W += h.T @ y_delta with lr = 1."
)


@click.command()
@click.option(
    "--epoch", type=click.IntRange(min=0), default=0, show_default=True,
    help="Train this many epochs first, then explain the next one.",
)  # fmt: skip
@click.option(
    "--rows", type=click.IntRange(min=1), default=None, metavar="N",
    help="Show at most N rows of each array with one row per example.",
)  # fmt: skip
@json_option
@lambda command: network_options(command, epochs=False)
@data_options
@optimizer_options
def explain(epoch: int, rows: int | None, as_json: bool, **options: Any) -> None:
    """Show one epoch of training line by line: the seed's lines with the arrays they
    compute, and the mlplab line that computes each; with no options, the seed's run at
    epoch 0."""
    config = TrainConfig.from_options({**options, "epochs": epoch})
    trace = _trace(config, epoch)
    if as_json:
        click.echo(trace.to_json())
        return
    click.echo(_text(trace, config, rows))


def _trace(config: TrainConfig, epoch: int) -> Trace:
    """Train ``epoch`` epochs of the configured run, then trace the next one."""
    data, rows = training_rows(config, None)
    net = new_network(config, data)
    X, t = data.X[rows], data.t[rows]
    settings = {
        "optimizer": get_optimizer(config.optimizer, config.lr),  # one, its state going on
        "seed": np.random.default_rng(config.seed),  # one shuffle, going on
        "batch_size": config.batch_size,
        "schedule": config.schedule,
        "weight_decay": config.weight_decay,
        "standardize": config.standardize,
    }
    if epoch:
        net.fit(X, t, epochs=epoch, **settings)
    return net.trace(X, t, **settings)


def _text(trace: Trace, config: TrainConfig, rows: int | None) -> str:
    start = "epoch 0, before any update" if not trace.epoch else (
        f"epoch {trace.epoch}, after {trace.epoch} epochs of training")  # fmt: skip
    out = [f"mlplab explain: {config.data or config.dataset}, seed {config.seed}, {start}",
           header(trace).replace(f"epoch {trace.epoch} of a", "a", 1), SIGNS, ""]  # fmt: skip
    if trace.batches > 1:
        out += [f"The first of {trace.batches} batches ({trace.rows[0]} rows) is shown.", ""]
    out += _arrays("the data and the weights", _start(trace), rows, "lines 1-4" if
                   _numbered(trace) else "")  # fmt: skip
    for line in seed_lines(trace):
        out += _seed_line(line, rows)
    out.append(f"loss of the epoch (before its update): {trace.loss:.8g}" if isinstance(
        trace.loss, float) else "")  # fmt: skip
    return "\n".join(out)


def _numbered(trace: Trace) -> bool:
    return any(line.number for line in seed_lines(trace))


def _start(trace: Trace) -> list[tuple[str, Any]]:
    """``X``, ``t`` and each layer's parameters as the epoch found them."""
    loss = trace.step("L")
    arrays = [("X", trace.step("h1" if len(trace.network["sizes"]) > 2 else "y").inputs["X"]),
              ("t", loss.inputs["t"])]  # fmt: skip
    for s in trace.batch(0):
        if s.phase == "forward":
            arrays += [(k, v) for k, v in s.inputs.items() if k[0] in "Wb"]
    return arrays


def _arrays(title: str, arrays: list[tuple[str, Any]], rows: int | None, where: str) -> list[str]:
    out = [f"{where}: {title}" if where else title]
    for name, value in arrays:
        out += [f"{name} =", format_array(value, rows if per_row(name) else None)]
    return [*out, ""]


def _seed_line(line: SeedLine, rows: int | None) -> list[str]:
    out = [f"line {line.number}: {line.code}" if line.number else line.code]
    for name, value in line.arrays:
        out += [f"{name} =", format_array(value, rows if per_row(name) else None)]
    out.append(f"  {line.relation}")
    for step in line.steps:
        out.append(f"  mlplab  {step.line}")
        out.append(f"          at {step.source}: {step.source.code}")
        if line.mlplab_only and step.phase != "backward":
            out += [f"  {step.name} =", format_array(step.value, None, "  ")]
    return [*out, ""]
