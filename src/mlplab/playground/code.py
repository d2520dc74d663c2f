"""The page's "Show code": the tab's network as a NumPy program that trains it further and prints.

The program is ``mlplab.export``'s NumPy source with the training data read from a CSV file
(``DATA_FILE``, which the page offers beside the program) instead of written inline, and its
printout of the predictions elided past ``SHOWN_ROWS`` rows, as NumPy elides long arrays.
What the page shows as the printout is what the program prints.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from mlplab.export._numpy import TrainSpec, numpy_source
from mlplab.nn.network import MLP
from mlplab.playground.frames import architecture

Array = np.ndarray

__all__ = ["DATA_FILE", "SHOWN_ROWS", "program"]

DATA_FILE = "playground-data.csv"
SHOWN_ROWS = 10  # predictions printed in full up to this many rows; past it, 3 + ... + 3


def program(net: MLP, X: Array, t: Array, epochs: int, lr: float) -> dict[str, Any]:
    """The ``code`` message: the program training a copy of ``net`` for ``epochs`` on ``(X, t)``
    at rate ``lr`` (plain SGD, full batch), the CSV file it reads, and what it prints."""
    source = numpy_source(net, train=TrainSpec(X, t, epochs=epochs, lr=lr))
    copy = MLP(**architecture(net))
    for mine, theirs in zip(copy.params, net.params, strict=True):
        for name in mine:
            mine[name][...] = theirs[name]
    copy.fit(X, t, epochs=epochs, lr=lr)
    predictions = copy.predict(X)
    with np.printoptions(threshold=SHOWN_ROWS):
        printed = str(predictions)  # as the program's print(predict(X)) shows it
    return {
        "type": "code",
        "source": _reading_data(source, X.shape[1], t.shape[1]),
        "data_file": DATA_FILE,
        "data": _csv(X, t),
        "epochs": epochs,
        "rows": len(X),
        "printed": printed,
    }


def _reading_data(source: str, inputs: int, outputs: int) -> str:
    """``source`` with its ``X = ...`` and ``t = ...`` literals replaced by reading ``DATA_FILE``,
    and its final print eliding long arrays."""
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("X = np.array("))
    end = next(i for i, line in enumerate(lines) if line.startswith("t = np.array(") and i > start)
    while not lines[end].endswith(")"):  # the literal of t ends with its dtype's ")"
        end += 1
    reading = [
        f"# the training data: {DATA_FILE} (saved from the page beside this program),",
        f"# one row per point: {inputs} input column(s), then {outputs} target column(s)",
        f'data = np.loadtxt("{DATA_FILE}", delimiter=",", skiprows=1, ndmin=2)',
        f"X, t = data[:, :{inputs}], data[:, {inputs}:]",
    ]
    printing = [f"np.set_printoptions(threshold={SHOWN_ROWS})  # a long array: its ends"]
    last = len(lines) - 1 - lines[::-1].index("print(predict(X))")
    lines = lines[:start] + reading + lines[end + 1 : last] + printing + lines[last:]
    return "\n".join(lines) + "\n"


def _csv(X: Array, t: Array) -> str:
    """``X`` and ``t`` side by side as CSV text, every number exact (17 significant digits)."""
    header = [f"x{i + 1}" for i in range(X.shape[1])] + [f"t{i + 1}" for i in range(t.shape[1])]
    out = io.StringIO()
    np.savetxt(out, np.column_stack([X, t]), fmt="%.17g", delimiter=",",
               header=",".join(header), comments="")  # fmt: skip
    return out.getvalue()
