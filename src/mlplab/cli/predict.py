"""``mlplab predict MODEL --input 0,1,1``: a saved network's outputs (and class names, if any)."""

from __future__ import annotations

import json

import click
import numpy as np

from mlplab.cli.options import json_option
from mlplab.errors import DataError
from mlplab.experiments.data import class_names, predicted_classes
from mlplab.nn.network import MLP

__all__ = ["predict"]


def _row(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise DataError(f"--input {text!r}: expected numbers separated by commas") from None


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
    rows = [_row(text) for text in inputs]
    width = net.sizes[0]
    for text, row in zip(inputs, rows, strict=True):
        if len(row) != width:
            raise DataError(f"--input {text!r} has {len(row)} values; the model takes {width}")
    y = net.predict(np.array(rows))  # the model's input scaler, if any, applies itself
    names = class_names(net, model)
    predicted = None if names is None else predicted_classes(y, names)
    if as_json:
        doc = {"inputs": rows, "predictions": y.tolist()}
        if names is not None:
            doc.update(classes=names, predicted_classes=predicted)
        click.echo(json.dumps(doc))
        return
    for i, (text, pred) in enumerate(zip(inputs, y, strict=True)):
        named = "" if predicted is None else f"  {predicted[i]}"
        click.echo(f"{text} -> {' '.join(f'{v:.6f}' for v in np.atleast_1d(pred))}{named}")
