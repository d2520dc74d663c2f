"""Pictures of networks and their training, as matplotlib figures.

Every function returns a ``matplotlib.figure.Figure`` built without pyplot: it
shows inline in Jupyter (a figure is its own rich display) and saves with
``fig.savefig(path)`` or ``save_figure(fig, path)``. Needs ``mlplab[plot]``.

- ``history(h)`` / ``History.plot()``: the loss curve with diagnostic events marked
- ``decision_boundary(net, X, y)``: what a network answers over the input plane
- ``network(net)``: the architecture, weights coloured by sign, width by magnitude
- ``figure()``: an empty figure of the same kind, for pictures of your own
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlplab.errors import ConfigError, DataError
from mlplab.nn.network import MLP
from mlplab.plotting import _figure, loo_figure, loss_figure, plot_loss, save_figure
from mlplab.train.fit import History

__all__ = [
    "decision_boundary",
    "figure",
    "history",
    "loo_figure",
    "loss_figure",
    "network",
    "plot_loss",
    "save_figure",
]

POSITIVE, NEGATIVE = "tab:blue", "tab:orange"  # TensorFlow Playground's colours


def figure(width: float = 6.4, height: float = 4.0):
    """An empty ``Figure`` (constrained layout) that shows itself inline in Jupyter."""
    return _figure(width, height)


def history(h: History, *, title: str = ""):
    """The loss against epochs (log-log), diagnostic events shaded; same as ``h.plot()``."""
    return loss_figure(h, title=title)


def _labels(y: Any) -> np.ndarray:
    """Class labels from a 0/1 column, one-hot rows or integer labels."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    return (y.reshape(len(y)) > 0.5).astype(int) if y.dtype.kind == "f" else y.reshape(len(y))


def _plane(X: np.ndarray, n_inputs: int) -> bool:
    """Whether inputs are 2-D points plus the seed's constant-1 column (a gate)."""
    if X.ndim != 2 or X.shape[1] != n_inputs:
        raise DataError(f"X has shape {X.shape}; the network takes {n_inputs} inputs")
    if n_inputs == 2:
        return False
    if n_inputs == 3 and np.all(X[:, 2] == 1):
        return True
    raise ConfigError(
        "decision_boundary draws networks of 2 inputs, or 2 inputs plus the seed's "
        f"constant-1 bias column; this one takes {n_inputs}"
    )


def _select(y: np.ndarray, net: MLP, index: int) -> np.ndarray:
    return y if net.stack is None else y[index]


def decision_boundary(
    net: MLP,
    X: Any,
    y: Any,
    *,
    resolution: int = 200,
    index: int = 0,
    title: str = "",
):
    """The network's answer over the input plane, with the points ``(X, y)`` on top.

    One output: the predicted probability of class 1, the 0.5 contour drawn.
    Several: the argmax class. Gate data (``[x1, x2, 1]`` rows) is drawn in the
    ``(x1, x2)`` plane. For a stack, network ``index`` is drawn.
    """
    X = np.asarray(X, dtype=float)
    gate = _plane(X, net.sizes[0])
    lo, hi = X[:, :2].min(axis=0), X[:, :2].max(axis=0)
    margin = np.maximum((hi - lo) * 0.1, 0.5 if gate else 1e-3)
    lo, hi = lo - margin, hi + margin
    g1, g2 = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    grid = np.column_stack([g1.ravel(), g2.ravel()])
    if gate:
        grid = np.column_stack([grid, np.ones(len(grid))])
    out = _select(net.predict(grid), net, index)
    labels = _labels(y)

    fig = _figure(5.0, 4.4)
    ax = fig.add_subplot()
    if out.shape[-1] == 1:
        p = out[:, 0].reshape(g1.shape)
        image = ax.contourf(g1, g2, p, levels=np.linspace(0, 1, 11), cmap="RdBu", alpha=0.6)
        ax.contour(g1, g2, p, levels=[0.5], colors="k", linewidths=1.2)
        fig.colorbar(image, ax=ax, label="predicted probability of class 1")
        cmap, vmax = "RdBu", 1
    else:
        classes = out.shape[-1]
        cls = out.argmax(axis=-1).reshape(g1.shape)
        ax.contourf(g1, g2, cls, levels=np.arange(classes + 1) - 0.5, cmap="tab10", alpha=0.35)
        cmap, vmax = "tab10", 9
    ax.scatter(
        X[:, 0], X[:, 1], c=labels, cmap=cmap, vmin=0, vmax=vmax, edgecolors="k", s=28, zorder=3
    )
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title(title or f"decision boundary of {_arch(net)}", fontsize=9)
    return fig


def _arch(net: MLP) -> str:
    return "-".join(str(s) for s in net.sizes) + f" {net.activation.name}"


def network(net: MLP, *, index: int = 0, title: str = ""):
    """The architecture drawn as a graph: one column of units per layer.

    Each weight is a line coloured by its sign (blue positive, orange negative)
    and as wide as its magnitude (relative to the largest in the network);
    units are filled by the sign of their bias when there is one.
    """
    from matplotlib.collections import LineCollection

    params = [{k: _select(v, net, index) for k, v in p.items()} for p in net.params]
    sizes = net.sizes
    tallest = max(sizes)
    ys = [np.linspace(-(n - 1) / 2, (n - 1) / 2, n) if n > 1 else np.zeros(1) for n in sizes]
    biggest = max(float(np.abs(p["W"]).max()) for p in params) or 1.0

    fig = _figure(max(4.0, 1.8 * len(sizes)), max(3.0, min(9.0, 0.45 * tallest + 1.5)))
    ax = fig.add_subplot()
    for layer, p in enumerate(params):
        W = p["W"]
        i, j = np.meshgrid(np.arange(W.shape[0]), np.arange(W.shape[1]), indexing="ij")
        segments = np.stack(
            [
                np.column_stack([np.full(W.size, layer), ys[layer][i.ravel()]]),
                np.column_stack([np.full(W.size, layer + 1), ys[layer + 1][j.ravel()]]),
            ],
            axis=1,
        )
        w = W.ravel()
        colours = np.where(w >= 0, POSITIVE, NEGATIVE)
        widths = 0.2 + 4.0 * np.abs(w) / biggest
        ax.add_collection(LineCollection(segments, colors=colours, linewidths=widths, alpha=0.7))
    marker = max(20.0, 300.0 / max(1.0, tallest / 6))
    for layer, (n, y) in enumerate(zip(sizes, ys, strict=True)):
        face = "white"
        if layer > 0 and "b" in params[layer - 1]:
            face = np.where(params[layer - 1]["b"] >= 0, POSITIVE, NEGATIVE)
        ax.scatter(np.full(n, layer), y, s=marker, c=face, edgecolors="k", zorder=3)
        if layer == 0:
            name = "inputs"
        else:
            name = net.activation.name if layer < len(sizes) - 1 else net.output_activation.name
        ax.annotate(
            f"{name}\n{n}",
            (layer, ys[layer].min() - 0.6),
            ha="center",
            va="top",
            fontsize=8,
            annotation_clip=False,
        )
    ax.set_xlim(-0.5, len(sizes) - 0.5)
    ax.set_ylim(-tallest / 2 - 1.2, tallest / 2 + 0.5)
    ax.axis("off")
    stack = "" if net.stack is None else f" (network {index} of {net.stack})"
    ax.set_title(
        title or f"{'-'.join(map(str, sizes))}{stack}: blue > 0, orange < 0, width = |w|",
        fontsize=9,
    )
    return fig
