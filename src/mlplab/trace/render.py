"""A trace as plain text and as HTML (each line, its arrays, the changed weights marked)."""

from __future__ import annotations

import html as html_escape
import re
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from mlplab.trace.result import Trace
    from mlplab.trace.steps import Step

__all__ = ["format_array", "header", "html", "text"]

MAX_TEXT_VALUES = 200  # more values than this print elided, NumPy-style, their shape said
MAX_CELLS = 8  # rows and columns of an HTML table at most


def header(trace: Trace) -> str:
    """``epoch 0 of a 3-4-1 sigmoid/sigmoid network, squared_error (sum), SGD(lr=1.0), ...``"""
    net = trace.network
    arch = "-".join(str(s) for s in net["sizes"])
    rows = trace.rows
    batch = f"one batch of {rows[0]} rows" if len(rows) == 1 else (
        f"{len(rows)} batches of {rows[0]} rows")  # fmt: skip
    return (f"epoch {trace.epoch} of a {arch} {net['activation']}/{net['output_activation']} "
            f"network, {net['loss']} ({net['reduction']}), {trace.optimizer}, {batch}")  # fmt: skip


PER_ROW = re.compile(r"(X|t|y|w|z\d+|h\d*|delta\d+)(_delta)?\b")


def per_row(name: str) -> bool:
    """Whether the array ``name`` has one row per example (``X``, ``h1``, ``delta2``,
    ``y_delta``, ``y - t``, ...), not a parameter's shape."""
    return PER_ROW.match(name) is not None


def format_array(a: Any, rows: int | None = None, indent: str = "") -> str:
    """``a`` NumPy-style; a large one elided, its shape said; at most ``rows`` rows."""
    a = np.asarray(a)
    note = ""
    if rows is not None and a.ndim >= 2 and a.shape[-2] > rows:
        note = f"  (first {rows} of {a.shape[-2]} rows)"
        a = a[..., :rows, :]
    if a.size > MAX_TEXT_VALUES:
        note = f"  (shape {'x'.join(map(str, a.shape))}, elided){note}"
    body = np.array2string(a, threshold=MAX_TEXT_VALUES, edgeitems=3, max_line_width=100)
    return "\n".join(indent + line for line in (body + note).splitlines())


def _step_text(step: Step, rows: int | None) -> list[str]:
    out = [f"[{step.index}] {step.line}", f"    at {step.source}: {step.source.code}"]
    arrays = {**step.inputs, **step.details}
    if step.before is not None:
        arrays.pop(step.name, None)
        arrays[f"{step.name} (before)"] = step.before
    arrays[f"{step.name} (after)" if step.before is not None else step.name] = step.value
    for name, value in arrays.items():
        out.append(f"    {name} =")
        out.append(format_array(value, rows if per_row(name) else None, "      "))
    return out


def text(trace: Trace, rows: int | None = None, batches: int | None = 1) -> str:
    """The trace as plain text (see ``Trace.text``)."""
    lines = [f"Trace of {header(trace)}; loss {_loss(trace.loss)}"]
    shown = trace.batches if batches is None else min(batches, trace.batches)
    for k in range(shown):
        if trace.batches > 1:
            lines.append(f"-- batch {k} of {trace.batches} ({trace.rows[k]} rows)")
        for step in trace.batch(k):
            lines.extend(_step_text(step, rows))
    if shown < trace.batches:
        lines.append(f"... {trace.batches - shown} more batch(es) not shown "
                     "(Trace.text(batches=None) shows all)")  # fmt: skip
    return "\n".join(lines)


def _loss(loss: Any) -> str:
    return f"{loss:.6g}" if isinstance(loss, float) else np.array2string(np.asarray(loss))


def _table(a: Any, changed: Any = None) -> str:
    a = np.atleast_2d(np.asarray(a))
    if a.ndim > 2:
        return f"<i>shape {'x'.join(map(str, a.shape))}</i>"
    mask = None if changed is None else np.atleast_2d(np.asarray(changed))
    cells = []
    for i in range(min(a.shape[0], MAX_CELLS)):
        row = []
        for j in range(min(a.shape[1], MAX_CELLS)):
            mark = mask is not None and bool(mask[i, j])
            style = ' style="background:#ffe08a"' if mark else ""
            row.append(f"<td{style}>{a[i, j]:.6g}</td>")
        if a.shape[1] > MAX_CELLS:
            row.append("<td>…</td>")
        cells.append("<tr>" + "".join(row) + "</tr>")
    if a.shape[0] > MAX_CELLS:
        cells.append("<tr><td>⋮</td></tr>")
    return '<table style="display:inline-table;margin:2px 8px">' + "".join(cells) + "</table>"


def _step_html(step: Step) -> str:
    esc = html_escape.escape
    parts = [f"<div><code><b>{esc(step.line)}</b></code> "
             f"<small>{esc(str(step.source))}</small><br>"]  # fmt: skip
    arrays = dict(step.inputs)
    if step.before is not None:
        arrays[step.name] = step.before
    for name, value in {**arrays, **step.details}.items():
        label = f"{name} (before)" if name == step.name else name
        parts.append(f"<span>{esc(label)} = {_table(value)}</span>")
    label = step.name + (" (after)" if step.before is not None else "")
    parts.append(f"<span><b>{esc(label)}</b> = {_table(step.value, step.changed)}</span></div>")
    return "".join(parts)


def html(trace: Trace) -> str:
    """The trace as HTML for Jupyter: each line, its arrays as small tables, changes marked."""
    body = "".join(_step_html(s) for s in trace.batch(0))
    more = "" if trace.batches == 1 else f"<p>{trace.batches - 1} more batch(es) not shown</p>"
    head = html_escape.escape(f"Trace of {header(trace)}; loss {_loss(trace.loss)}")
    return f'<div class="mlplab-trace"><p>{head}</p>{body}{more}</div>'
