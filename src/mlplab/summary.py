"""A network described for people: a text table for terminals, an HTML table for notebooks.

``MLP.summary()`` and ``MLP._repr_html_()`` delegate here, so Jupyter shows a
network as a table of its layers (shapes, activation, parameter count) and a
terminal gets the same table in plain text. NumPy only; nothing is printed.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlplab.nn.network import MLP

__all__ = ["layer_rows", "summary_html", "summary_text"]

HEADERS = ("layer", "units", "activation", "W", "b", "params")


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


def layer_rows(net: MLP) -> list[tuple[str, ...]]:
    """One row per layer: name, ``fan_in -> fan_out``, activation, shapes and parameter count."""
    rows = []
    n_layers = len(net.params)
    for i, (param, layer) in enumerate(zip(net.params, net.layers, strict=True), start=1):
        W = param["W"]
        b = param.get("b")
        name = "output" if i == n_layers else f"hidden {i}"
        count = W.size + (0 if b is None else b.size)
        units = f"{W.shape[-2]} -> {W.shape[-1]}"
        bias = "-" if b is None else _shape(b.shape)
        rows.append((name, units, layer.activation.name, _shape(W.shape), bias, f"{count:,}"))
    return rows


def _header(net: MLP) -> str:
    arch = "-".join(str(s) for s in net.sizes)
    stack = "" if net.stack is None else f", a stack of {net.stack} networks"
    return f"MLP {arch}{stack}"


def _footer(net: MLP) -> list[str]:
    seed = "fresh" if net.seed is None else str(net.seed)
    return [
        f"loss {net.loss.name} ({net.reduction}), init {net.init}, seed {seed}, "
        f"dtype {net.dtype.__name__}",
        f"{net.n_params:,} parameters" + ("" if net.bias else " (no bias vectors, as in the seed)"),
    ]


def summary_text(net: MLP) -> str:
    """The network as a plain-text table, one line per layer."""
    rows = [HEADERS, *layer_rows(net)]
    widths = [max(len(row[c]) for row in rows) for c in range(len(HEADERS))]
    lines = [_header(net)]
    for r, row in enumerate(rows):
        cells = [
            cell.ljust(w) if c < 3 else cell.rjust(w)
            for c, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if r == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.extend(_footer(net))
    return "\n".join(lines)


def summary_html(net: MLP) -> str:
    """The network as an HTML table (what Jupyter shows for an ``MLP``)."""
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in HEADERS)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>"
        for row in layer_rows(net)
    )
    footer = "<br>".join(esc(line) for line in _footer(net))
    return (
        f'<div class="mlplab-summary"><strong>{esc(_header(net))}</strong>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f"<small>{footer}</small></div>"
    )
