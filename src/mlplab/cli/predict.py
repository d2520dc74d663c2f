"""``mlplab predict MODEL --input 0,1,1``: a saved network's outputs (and class names, if any)."""

from __future__ import annotations

import json

import click
import numpy as np

from mlplab.cli.options import json_option
from mlplab.cli.words import counted
from mlplab.datasets import DATASETS
from mlplab.errors import DataError
from mlplab.experiments.data import class_names, predicted_classes
from mlplab.nn.network import MLP

__all__ = ["predict"]


def _row(text: str) -> list[float]:
    try:
        row = [float(v) for v in text.split(",")]
    except ValueError:
        raise DataError(f"--input {text!r}: expected numbers separated by commas") from None
    bad = next((v for v in row if not np.isfinite(v)), None)
    if bad is not None:
        raise DataError(f"--input {text!r}: {bad} is not a finite number")
    return row


def _inputs(net: MLP, inputs: tuple[str, ...]) -> np.ndarray:
    """The --input rows as the model's dtype, every value checked to fit it."""
    rows = [_row(text) for text in inputs]
    width = net.sizes[0]
    limit = float(np.finfo(net.dtype).max)
    for text, row in zip(inputs, rows, strict=True):
        if len(row) != width:
            raise DataError(
                f"--input {text!r} has {counted(len(row), 'value')}; the model takes {width}"
                + _bias_hint(net, row)
            )
        too_big = next((v for v in row if abs(v) > limit), None)
        if too_big is not None:
            raise DataError(
                f"--input {text!r}: {too_big:g} does not fit the model's {np.dtype(net.dtype)} "
                f"inputs (at most {limit:.4g})"
            )
    return np.array(rows)


def _bias_hint(net: MLP, row: list[float]) -> str:
    """For a model trained on the seed's gate rows ``[x1, x2, 1]``: what the last value is."""
    cli = net.training_metadata.get("cli")
    dataset = DATASETS.get(cli.get("dataset")) if isinstance(cli, dict) else None
    if dataset is None or not dataset.gate or cli.get("data") or len(row) != net.sizes[0] - 1:
        return ""
    given = ",".join(f"{v:g}" for v in row)
    return (
        f", the third being the constant-1 bias column the seed appends to its inputs "
        f"(try --input {given},1)"
    )


def _class_labels(net: MLP, model: str) -> list[str] | None:
    """The class names saved with the model or, for a multi-class model, its class numbers."""
    names = class_names(net, model)
    if names is None and net.sizes[-1] > 1 and net.output_activation.name == "softmax":
        names = [str(i) for i in range(net.sizes[-1])]
    return names


@click.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option(
    "--input",
    "inputs",
    multiple=True,
    required=True,
    metavar="X1,X2,...",
    help="One example; repeat for more.",
)
@json_option
def predict(model: str, inputs: tuple[str, ...], as_json: bool) -> None:
    """Print a saved model's predictions for each --input."""
    net = MLP.load(model)
    X = _inputs(net, inputs)
    with np.errstate(all="ignore"):
        y = net.predict(X)  # the model's input scaler, if any, applies itself
    if not np.all(np.isfinite(y)):
        raise DataError(
            f"the model's outputs are not finite for these inputs (too large for its "
            f"{np.dtype(net.dtype)} weights?)"
        )
    names = _class_labels(net, model)
    stacked = net.stack is not None
    per_net = list(y) if stacked else [y]  # a stack predicts (networks, rows, outputs)
    predicted = None if names is None else [predicted_classes(p, names) for p in per_net]
    if as_json:
        doc = {"inputs": X.tolist(), "predictions": y.tolist()}
        if names is not None:
            doc.update(classes=names, predicted_classes=predicted if stacked else predicted[0])
        click.echo(json.dumps(doc))
        return
    for k, outputs in enumerate(per_net):
        label = f"network {k}: " if stacked else ""
        for i, (text, pred) in enumerate(zip(inputs, outputs, strict=True)):
            named = "" if predicted is None else f"  {predicted[k][i]}"
            values = " ".join(f"{v:.6f}" for v in np.atleast_1d(pred))
            click.echo(f"{label}{text} -> {values}{named}")
