"""Pictures: the loss curve (exercise 5) and held-out loss (exercise 4), as matplotlib figures.

Uses ``matplotlib.figure.Figure`` directly (no pyplot, no global state, no
display needed); the figures show themselves inline in Jupyter. Imported only
by the commands that draw. ``mlplab.plot`` is the public face of this module.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mlplab.train.fit import History

__all__ = ["loo_figure", "loss_figure", "plot_loss", "save_figure", "sweep_figure"]


@functools.cache
def _figure_class() -> type:
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - depends on the environment
        from mlplab.errors import ConfigError

        raise ConfigError("plotting needs matplotlib: pip install 'mlplab[plot]'") from None

    class NotebookFigure(Figure):
        """A ``Figure`` that Jupyter shows inline (as PNG) without pyplot."""

        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", dpi=100)
            return buffer.getvalue()

    return NotebookFigure


def _figure(width: float = 6.4, height: float = 4.0):
    return _figure_class()(figsize=(width, height), layout="constrained")


def loss_figure(history: History, *, title: str = ""):
    """The loss against weight updates, on a log scale."""
    events = list(getattr(history, "events", ()))
    fig = _figure(6.4, 4.0 + 0.2 * len(events))
    ax = fig.add_subplot()
    loss = np.asarray(history.loss)
    epochs = np.asarray(history.extra.get("loss_epochs", np.arange(len(loss)))) + 1
    if loss.ndim == 1:
        ax.plot(epochs, loss, lw=1.5, label="training loss")
    else:  # a stack: median and the 10-90 % band
        p10, p50, p90 = np.nanpercentile(loss, [10, 50, 90], axis=1)  # NaN: diverged
        ax.fill_between(epochs, p10, p90, alpha=0.3, label="10-90 %")
        ax.plot(epochs, p50, lw=1.5, label="median")
    _mark_events(fig, ax, events)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("weight updates (epochs)")
    ax.set_ylabel("loss")
    ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return fig


EVENT_COLOURS = {
    "plateau": "tab:orange",
    "oscillation": "tab:red",
    "saturated": "tab:purple",
    "dead_relu": "tab:gray",
    "vanishing_gradient": "tab:brown",
}


def _mark_events(fig, ax, events) -> None:
    """Shade each diagnostic event's epoch range; list what was seen under the axes."""
    handles = []
    for event in events:
        colour = EVENT_COLOURS.get(event.kind, "tab:olive")
        # epochs are drawn 1-based (a log axis has no 0)
        handles.append(ax.axvspan(event.start + 1, event.end + 1, color=colour, alpha=0.15, lw=0))
    if handles:
        labels = [str(event) for event in events]
        fig.legend(handles, labels, loc="outside lower left", fontsize=7, frameon=False)


def loo_figure(
    epochs: np.ndarray,
    train_loss: Sequence[np.ndarray],
    heldout_loss: Sequence[np.ndarray],
    labels: Sequence[str],
    *,
    title: str = "",
):
    """One panel per held-out row: its loss over the epochs beside the training loss."""
    n = len(labels)
    fig = _figure(3.2 * n, 3.4)
    axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
    for ax, train, held, label in zip(axes, train_loss, heldout_loss, labels, strict=True):
        ax.plot(epochs, train, label="training loss (per example)")
        ax.plot(epochs, held, label="held-out example's loss")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("epochs")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("loss (mean over seeds)")
    axes[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    return fig


def save_figure(fig, path: str | Path) -> None:
    """Save ``fig`` to ``path`` through a temporary file and a rename."""
    from mlplab.io.models import atomic_write_bytes

    buffer = io.BytesIO()
    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    fig.savefig(buffer, format=fmt, dpi=120)
    atomic_write_bytes(path, buffer.getvalue())


def plot_loss(history: History, path: str | Path, *, title: str = "") -> None:
    """Draw ``history``'s loss curve into ``path`` (exercise 5)."""
    save_figure(loss_figure(history, title=title), path)


def _label(value) -> str:
    if isinstance(value, list | tuple):
        return "x".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def sweep_figure(rows: Sequence[dict], x: str, y: str, *, title: str = ""):
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
    fig = _figure(1.2 + 0.9 * len(xs), 1.2 + 0.6 * len(ys))
    ax = fig.add_subplot()
    image = ax.imshow(rate, vmin=0, vmax=1, cmap="viridis", aspect="auto", origin="lower")
    for (i, j), value in np.ndenumerate(rate):
        if np.isfinite(value):
            colour = "black" if value > 0.5 else "white"
            ax.text(j, i, f"{value:.0%}", ha="center", va="center", color=colour, fontsize=8)
    ax.set_xticks(range(len(xs)), xs)
    ax.set_yticks(range(len(ys)), ys)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax, label="solved fraction")
    return fig
