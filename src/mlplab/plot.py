"""Pictures of networks and their training, drawn with matplotlib.

Every function draws where pandas' ``.plot()`` would and returns the ``Figure`` drawn on:

- on ``ax=`` when given (an ``Axes`` of yours, in a figure of yours);
- else, when pyplot is in use (imported), on pyplot's current axes (``plt.subplots()``, say),
  or on a new pyplot figure when there is none or the current one is another picture's:
  ``history.plot(); plt.savefig("loss.png")`` and ``plt.show()`` work as after ``df.plot()``,
  and two pictures in a row get a figure each;
- else on a new figure built without pyplot (no global state, no display needed), which
  shows itself inline in Jupyter and saves with ``fig.savefig(path)`` or
  ``save_figure(fig, path)`` (through a temporary file).

matplotlib is imported only when a figure is drawn; it needs ``mlplab[plot]``. Classes and
signs are drawn in the playground's colours: orange for class 0 and negative weights, blue
for class 1 and positive ones.

- ``history(h)`` / ``loss_figure(h)`` / ``History.plot()``: the loss curve with
  diagnostic events marked (exercise 5); ``plot_loss(h, path)`` saves it
- ``decision_boundary(net, X, y)``: what a network answers over the input plane
- ``network(net)``: the architecture, weights coloured by sign, width by magnitude
- ``loo_figure(...)``: leave-one-out, each held-out row's loss beside the training loss
- ``sweep_figure(rows, x, y)``: a sweep's solved fraction over two of its axes
- ``figure()``: an empty figure of the same kind, for pictures of your own
"""

from __future__ import annotations

import functools
import io
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.errors import ConfigError, DataError
from mlplab.nn.targets import predicted_class

if TYPE_CHECKING:
    from mlplab.nn.network import MLP
    from mlplab.train.history import History

__all__ = [
    "EVENT_COLOURS",
    "MIDDLE",
    "NEGATIVE",
    "POSITIVE",
    "decision_boundary",
    "figure",
    "history",
    "input_names",
    "loo_figure",
    "loss_figure",
    "network",
    "plot_loss",
    "save_figure",
    "sweep_figure",
    "sweep_size",
]

POSITIVE = "#0877bd"  # positive weights and class 1, blue as the playground draws them
NEGATIVE = "#f59322"  # negative weights and class 0, orange
MIDDLE = "#e8eaeb"  # undecided (probability 0.5)
OWN = "_mlplab_picture"  # marks a pyplot figure a picture made for itself
TITLE_WIDTH = 80  # characters per title line before it wraps (6.4 in at 9 pt)
EVENT_COLOURS = {
    "plateau": "tab:orange",
    "oscillation": "tab:red",
    "saturated": "tab:purple",
    "dead_relu": "tab:gray",
    "vanishing_gradient": "tab:brown",
}


@functools.cache
def _figure_class() -> type:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ConfigError("plotting needs matplotlib: pip install 'mlplab[plot]'") from None

    class NotebookFigure(Figure):
        """A ``Figure`` that Jupyter shows inline (as PNG) without pyplot."""

        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", dpi=100)
            return buffer.getvalue()

    return NotebookFigure


def figure(width: float = 6.4, height: float = 4.0):
    """An empty ``Figure`` (constrained layout) that shows itself inline in Jupyter."""
    return _figure_class()(figsize=(width, height), layout="constrained")


def _axes(ax: Any, width: float, height: float) -> Any:
    """Where to draw: ``ax``; when pyplot is in use, the current axes of a figure of the
    user's, else a new pyplot figure's; without pyplot, a new figure's built without it."""
    if ax is not None:
        return ax
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return figure(width, height).add_subplot()
    if pyplot.get_fignums() and not getattr(pyplot.gcf(), OWN, False):
        return pyplot.gca()
    return _pyplot_figure(pyplot, width, height).add_subplot()


def _pyplot_figure(pyplot: Any, width: float, height: float) -> Any:
    """A new pyplot figure, marked as a picture's own: the next picture does not draw on it."""
    fig = pyplot.figure(figsize=(width, height), layout="constrained")
    setattr(fig, OWN, True)
    return fig


def _panels(axes: Any, n: int, width: float, height: float) -> list[Any]:
    """``n`` side-by-side axes sharing y: ``axes`` given, or a new figure's (pyplot's when in
    use)."""
    if axes is not None:
        axes = list(np.atleast_1d(axes))
        if len(axes) != n:
            raise ConfigError(f"ax: {len(axes)} axes given; this picture draws {n} panels")
        return axes
    pyplot = sys.modules.get("matplotlib.pyplot")
    fig = figure(width, height) if pyplot is None else _pyplot_figure(pyplot, width, height)
    return list(fig.subplots(1, n, sharey=True, squeeze=False)[0])


def _title(ax: Any, title: str) -> None:
    """A title in the figure's small type, wrapped to fit above the axes."""
    ax.set_title(textwrap.fill(title, TITLE_WIDTH), fontsize=9)


def _constrained(fig: Any) -> bool:
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    return isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)


def _plain_log_ticks(ax: Any) -> None:
    """Decimal tick labels (0.14, not 1.4×10⁻¹) on a log axis spanning under two decades."""
    from matplotlib.ticker import LogFormatterSciNotation

    class PlainWhenNarrow(LogFormatterSciNotation):
        def __call__(self, x: float, pos: int | None = None) -> str:
            label = super().__call__(x, pos)
            low, high = sorted(self.axis.get_view_interval())
            return f"{x:.3g}" if label and low > 0 and high < 100 * low else label

    for axis in (ax.xaxis, ax.yaxis):
        if axis.get_scale() == "log":
            axis.set_major_formatter(PlainWhenNarrow())
            axis.set_minor_formatter(PlainWhenNarrow(labelOnlyBase=False))


def save_figure(fig, path: str | Path) -> None:
    """Save ``fig`` to ``path`` through a temporary file and a rename."""
    from mlplab.io.models import atomic_write_bytes

    buffer = io.BytesIO()
    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    fig.savefig(buffer, format=fmt, dpi=120)
    atomic_write_bytes(path, buffer.getvalue())


def loss_figure(history: History, *, title: str = "", ax: Any = None):
    """The loss against weight updates, on a log scale, diagnostic events shaded.

    ``title`` defaults to the run's (``history.extra["title"]``, what ``mlplab train`` prints).
    """
    events = list(getattr(history, "events", ()))
    ax = _axes(ax, 6.4, 4.0 + 0.2 * len(events))
    loss = np.asarray(history.loss)
    epochs = np.asarray(history.extra.get("loss_epochs", np.arange(len(loss)))) + 1
    if loss.ndim == 1:
        ax.plot(epochs, loss, lw=1.5, label="training loss")
    else:  # a stack: median and the 10-90 % band
        p10, p50, p90 = np.nanpercentile(loss, [10, 50, 90], axis=1)  # NaN: diverged
        ax.fill_between(epochs, p10, p90, alpha=0.3, label="10-90 %")
        ax.plot(epochs, p50, lw=1.5, label="median")
        ax.legend(loc="lower left")  # below a falling curve's start
    _mark_events(ax, events)
    ax.set_xscale("log")
    ax.set_yscale("log")
    _plain_log_ticks(ax)
    ax.set_xlabel("weight updates (epochs)")
    ax.set_ylabel("loss")
    _title(ax, title or str(history.extra.get("title", "")))
    ax.grid(True, which="both", alpha=0.3)
    return ax.figure


def history(h: History, *, title: str = "", ax: Any = None):
    """The loss against epochs (log-log), diagnostic events shaded; same as ``h.plot()``."""
    return loss_figure(h, title=title, ax=ax)


def _mark_events(ax, events) -> None:
    """Shade each diagnostic event's epoch range; list what was seen under the axes (in the
    axes' legend when the figure has no constrained layout to make room below)."""
    handles = []
    for event in events:
        colour = EVENT_COLOURS.get(event.kind, "tab:olive")
        # epochs are drawn 1-based (a log axis has no 0)
        handles.append(ax.axvspan(event.start + 1, event.end + 1, color=colour, alpha=0.15, lw=0))
    if not handles:
        return
    labels = [str(event) for event in events]
    if _constrained(ax.figure):
        ax.figure.legend(handles, labels, loc="outside lower left", fontsize=7, frameon=False)
    else:
        ax.legend(handles, labels, loc="best", fontsize=7)


def loo_figure(
    epochs: np.ndarray,
    train_loss: Sequence[np.ndarray],
    heldout_loss: Sequence[np.ndarray],
    labels: Sequence[str],
    *,
    title: str = "",
    ax: Any = None,
):
    """One panel per held-out row: its loss over the epochs beside the training loss.

    ``ax``: one ``Axes`` per row, to draw on instead of a new figure.
    """
    n = len(labels)
    axes = _panels(ax, n, 3.2 * n, 3.4)
    for panel, train, held, label in zip(axes, train_loss, heldout_loss, labels, strict=True):
        panel.plot(epochs, train, label="training loss (per example)")
        panel.plot(epochs, held, label="held-out example's loss")
        panel.set_xscale("log")
        panel.set_yscale("log")
        _plain_log_ticks(panel)
        panel.set_title(label, fontsize=9)
        panel.set_xlabel("epochs")
        panel.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("loss (mean over seeds)")
    axes[0].legend(fontsize=7)
    fig = axes[0].figure
    fig.suptitle(textwrap.fill(title, TITLE_WIDTH * n // 2), fontsize=9)
    return fig


def plot_loss(history: History, path: str | Path, *, title: str = "") -> None:
    """Draw ``history``'s loss curve into ``path`` (exercise 5), never on pyplot's figures."""
    events = len(getattr(history, "events", ()))
    ax = figure(6.4, 4.0 + 0.2 * events).add_subplot()
    save_figure(loss_figure(history, title=title, ax=ax), path)


def _label(value) -> str:
    if isinstance(value, list | tuple):
        return "x".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def sweep_size(rows: Sequence[dict], x: str, y: str) -> tuple[float, float]:
    """The figure size ``(width, height)`` in inches that fits ``sweep_figure``'s cells."""
    xs = {_label(r[x]) for r in rows}
    ys = {_label(r[y]) for r in rows}
    return 1.2 + 0.9 * len(xs), 1.2 + 0.6 * len(ys)


def sweep_figure(rows: Sequence[dict], x: str, y: str, *, title: str = "", ax: Any = None):
    """A heatmap of the solved fraction over two of a sweep's axes (averaged over the others)."""
    xs = list(dict.fromkeys(_label(r[x]) for r in rows))
    ys = list(dict.fromkeys(_label(r[y]) for r in rows))
    total = np.zeros((len(ys), len(xs)))
    count = np.zeros_like(total)
    for r in rows:
        i, j = ys.index(_label(r[y])), xs.index(_label(r[x]))
        total[i, j] += r["solved_fraction"]
        count[i, j] += 1
    rate = np.divide(total, count, out=np.full_like(total, np.nan), where=count > 0)
    ax = _axes(ax, *sweep_size(rows, x, y))
    fig = ax.figure
    image = ax.imshow(rate, vmin=0, vmax=1, cmap="viridis", aspect="auto", origin="lower")
    for (i, j), value in np.ndenumerate(rate):
        if np.isfinite(value):
            colour = "black" if value > 0.5 else "white"
            ax.text(j, i, f"{value:.0%}", ha="center", va="center", color=colour, fontsize=8)
    ax.set_xticks(range(len(xs)), xs)
    ax.set_yticks(range(len(ys)), ys)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    _title(ax, title)
    fig.colorbar(image, ax=ax, label="solved fraction")
    return fig


def _labels(y: Any) -> np.ndarray:
    """Class labels from a 0/1 column, one-hot rows or integer labels."""
    y = np.asarray(y)
    if (y.ndim == 2 and y.shape[1] > 1) or y.dtype.kind == "f":
        return predicted_class(y.reshape(len(y), -1))
    return y.reshape(len(y))


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


def _one_network(net: MLP, index: int) -> MLP:
    """Network ``index`` of a stack as a network of its own (the same weights and input
    scaling), so a picture of it computes one network's outputs, not the whole stack's."""
    if net.stack is None:
        return net
    from mlplab.nn.network import MLP

    one = MLP(net.sizes, net.activation, net.output_activation, net.loss, net.reduction,
              bias=net.bias, dtype=net.dtype)  # fmt: skip
    for mine, stacked in zip(one.params, net.params, strict=True):
        for name, value in mine.items():
            value[...] = stacked[name][index]  # outside a narrower network's width: zeros
    one.input_scaler = net.input_scaler
    return one


def _class_colours():
    """Orange (class 0) through the undecided grey to blue (class 1): the playground's."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("mlplab", [NEGATIVE, MIDDLE, POSITIVE])


def decision_boundary(
    net: MLP,
    X: Any,
    y: Any,
    *,
    resolution: int = 200,
    index: int = 0,
    title: str = "",
    ax: Any = None,
):
    """The network's answer over the input plane, with the points ``(X, y)`` on top.

    One output: the predicted probability of class 1, from orange (class 0) to blue
    (class 1), the 0.5 contour drawn. Several: the argmax class. Gate data (``[x1, x2, 1]``
    rows) is drawn in the ``(x1, x2)`` plane. For a stack, network ``index`` is drawn.
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
    out = _one_network(net, index).predict(grid)
    labels = _labels(y)

    ax = _axes(ax, 5.0, 4.4)
    fig = ax.figure
    if out.shape[-1] == 1:
        p = out[:, 0].reshape(g1.shape)
        cmap = _class_colours()
        image = ax.contourf(g1, g2, p, levels=np.linspace(0, 1, 11), cmap=cmap, alpha=0.45)
        ax.contour(g1, g2, p, levels=[0.5], colors="k", linewidths=1.2)
        fig.colorbar(image, ax=ax, label="predicted probability of class 1")
        vmax = 1
    else:
        classes = out.shape[-1]
        cls = predicted_class(out).reshape(g1.shape)
        ax.contourf(g1, g2, cls, levels=np.arange(classes + 1) - 0.5, cmap="tab10", alpha=0.3)
        cmap, vmax = "tab10", 9
    size = 80 if len(X) <= 16 else 34
    ax.scatter(X[:, 0], X[:, 1], c=labels, cmap=cmap, vmin=0, vmax=vmax, s=size,
               edgecolors="#183d4e", linewidths=0.8, zorder=3)  # fmt: skip
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    _title(ax, title or f"decision boundary of {_arch(net)}")
    return fig


def _arch(net: MLP) -> str:
    return "-".join(str(s) for s in net.sizes) + f" {net.activation.name}"


def input_names(net: MLP) -> list[str]:
    """``x1, x2, ...``; without bias vectors (the seed's way), the last input is its constant 1."""
    n = net.sizes[0]
    names = [f"x{i + 1}" for i in range(n)]
    if not net.bias and n > 1:
        names[-1] = "1"
    return names


def network(
    net: MLP,
    *,
    index: int = 0,
    title: str = "",
    inputs: Sequence[str] | None = None,
    ax: Any = None,
):
    """The architecture drawn as a graph: one column of units per layer.

    Each weight is a line coloured by its sign (blue positive, orange negative)
    and as wide as its magnitude (relative to the largest in the network);
    units are filled by the sign of their bias when there is one. The inputs are
    labelled ``inputs`` (default ``input_names(net)``: ``x1, x2, 1`` for the seed's network).
    """
    _figure_class()  # matplotlib, or the extra to install
    from matplotlib.collections import LineCollection

    params = [{k: _select(v, net, index) for k, v in p.items()} for p in net.params]
    sizes = net.sizes
    names = list(inputs) if inputs is not None else input_names(net)
    if len(names) != sizes[0]:
        raise ConfigError(f"inputs: {len(names)} names for the network's {sizes[0]} inputs")
    tallest = max(sizes)
    # unit 0 of each layer at the top
    ys = [np.linspace((n - 1) / 2, -(n - 1) / 2, n) if n > 1 else np.zeros(1) for n in sizes]
    biggest = max(float(np.abs(p["W"]).max()) for p in params) or 1.0

    ax = _axes(ax, max(4.0, 1.8 * len(sizes)), max(3.0, min(9.0, 0.45 * tallest + 1.5)))
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
    _units(ax, net, params, ys)
    if sizes[0] <= 16:  # name each input left of its unit
        for name, y in zip(names, ys[0], strict=True):
            ax.annotate(name, (0, y), xytext=(-9, 0), textcoords="offset points", ha="right",
                        va="center", fontsize=8)  # fmt: skip
    ax.set_xlim(-0.5, len(sizes) - 0.5)
    ax.set_ylim(-tallest / 2 - 1.2, tallest / 2 + 0.5)
    ax.axis("off")
    stack = "" if net.stack is None else f" (network {index} of {net.stack})"
    _title(ax, title or f"{'-'.join(map(str, sizes))}{stack}: blue > 0, orange < 0, width = |w|")
    return ax.figure


def _units(ax: Any, net: MLP, params: list[dict[str, Any]], ys: list[np.ndarray]) -> None:
    """Each layer's units, filled by the sign of their bias, with the layer's name below."""
    sizes = net.sizes
    marker = max(20.0, 300.0 / max(1.0, max(sizes) / 6))
    for layer, (n, y) in enumerate(zip(sizes, ys, strict=True)):
        face: Any = "white"
        if layer > 0 and "b" in params[layer - 1]:
            face = np.where(params[layer - 1]["b"] >= 0, POSITIVE, NEGATIVE)
        ax.scatter(np.full(n, layer), y, s=marker, c=face, edgecolors="k", zorder=3)
        if layer == 0:
            name = "inputs"
        else:
            name = net.activation.name if layer < len(sizes) - 1 else net.output_activation.name
        ax.annotate(f"{name}\n{n}", (layer, ys[layer].min() - 0.6), ha="center", va="top",
                    fontsize=8, annotation_clip=False)  # fmt: skip
