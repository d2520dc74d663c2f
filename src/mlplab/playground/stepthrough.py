"""The page's step-through: one traced training step (``MLP.trace``) as the ``trace`` message.

The session asks the library for the trace of its next epoch (the network takes that epoch,
exactly as training would take it); this module picks the lines of one batch (the first:
its forward pass reads the weights the diagram shows until the walk's end), cuts the
arrays with one row per example to their first rows, and says which units and links of
the diagram each line touches. Nothing here computes a value of the network: every array
is the trace's.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from mlplab.trace import Trace
from mlplab.trace.steps import Step, as_json_value

__all__ = ["ROWS", "touches", "trace_message"]

ROWS = 4  # rows of an example-per-row array shown (the batch size is said beside them)
PARAM = re.compile(r"^(d?[Wb]\d+|lr|m_?\w*|v_?\w*)$")  # parameters and their kin: whole


def trace_message(trace: Trace, epoch: int, rows: int = ROWS) -> dict[str, Any]:
    """The ``trace`` message: the first batch's lines of ``trace`` (the step from ``epoch``
    to ``epoch + 1``), each with its arrays and the diagram's parts it touches."""
    steps = [s for s in trace.steps if s.batch == 0]
    layers = max(s.layer or 0 for s in trace.steps)
    batches = 1 + max(s.batch for s in trace.steps)
    n = _batch_rows(steps)
    return {
        "type": "trace",
        "epoch": epoch,
        "batches": batches,
        "batch_rows": n,
        "rows_shown": min(rows, n),
        "batch_note": _batch_note(n, batches, rows),
        "lines": [_line(s, layers, n, rows) for s in steps],
    }


def touches(step: Step, layers: int) -> tuple[list[int], list[int]]:
    """The diagram's columns (0: the inputs) and weight layers (0: ``W1``) a line touches."""
    i = step.layer
    if i is None or step.phase == "loss":  # the loss: the outputs
        return [layers], []
    if step.phase == "forward":
        return [i - 1, i], [i - 1]
    what = step.param or step.name
    if step.phase == "backward" and what.startswith("delta"):
        # the output's delta: the outputs; a hidden delta: its units and the weights above
        return ([i], []) if i == layers else ([i], [i])
    if what.lstrip("d").startswith("b"):  # a bias, its gradient or its update: its units
        return [i], []
    return [i - 1, i], [i - 1]  # a weight's gradient, penalty or update: its links


def _line(step: Step, layers: int, n: int, rows: int) -> dict[str, Any]:
    columns, links = touches(step, layers)
    update = step.before is not None  # an update: the parameter before and after it
    read = {k: v for k, v in step.inputs.items() if not (update and k == step.name)}
    arrays = [_array(name, value, "in", n, rows) for name, value in read.items()]
    arrays += [_array(name, value, "detail", n, rows) for name, value in step.details.items()]
    if update:
        arrays.append(_array(f"{step.name} before", step.before, "before", n, rows))
    out = _array(f"{step.name} after" if update else step.name, step.value, "out", n, rows)
    if update:
        out["changed"] = as_json_value(step.changed)
    arrays.append(out)
    return {
        "text": step.line,
        "phase": step.phase,
        "layer": step.layer,
        "source": str(step.source),
        "code": step.source.code,
        "columns": columns,
        "links": links,
        "arrays": arrays,
    }


def _array(name: str, value: Any, role: str, n: int, rows: int) -> dict[str, Any]:
    """An array for a table: one with a row per example cut to its first ``rows``."""
    a = np.asarray(value)
    per_example = a.ndim == 2 and a.shape[0] == n and not PARAM.match(name.split(" ")[0])
    shown = a[:rows] if per_example else a
    return {
        "name": name,
        "role": role,
        "shape": list(a.shape),
        "rows_shown": len(shown) if per_example else None,
        "values": as_json_value(shown),
    }


def _batch_rows(steps: list[Step]) -> int:
    """Rows in the batch: those of the first layer's input ``X``."""
    X = next(s.inputs["X"] for s in steps if s.phase == "forward" and "X" in s.inputs)
    return int(np.shape(X)[0])


def _batch_note(n: int, batches: int, rows: int) -> str:
    shown = f"the first {rows} shown" if n > rows else "all shown"
    if batches == 1:
        return f"one batch: all {n} training rows ({shown})"
    return (
        f"batch 1 of {batches}: {n} rows ({shown}); the other {batches - 1} batches run the "
        f"same lines, and the diagram shows the network after all {batches}"
    )
