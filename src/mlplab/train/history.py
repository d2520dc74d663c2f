"""``History``: what a ``fit`` recorded, one entry per epoch run."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Event", "History"]


@dataclass(frozen=True)
class Event:
    """Something seen during training, from epoch ``start`` to ``end`` (inclusive)."""

    kind: str
    start: int
    end: int
    message: str
    layer: int | None = None

    def __str__(self) -> str:
        return f"epochs {self.start}-{self.end}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
            "message": self.message,
            "layer": self.layer,
        }


@dataclass
class History:
    """What training recorded, one entry per epoch run.

    Full batch: ``loss[j]`` is the loss at the start of epoch ``j``, the loss of
    the weights the epoch's gradient was taken at, before its update (the seed's
    ``y`` inside the loop is the same). Mini-batches: ``loss[j]`` is the loss
    over epoch ``j``'s batches, each taken before its own update (a running
    figure, as Keras and PyTorch loops report it); ``accuracy`` likewise.
    ``val_loss`` and ``val_accuracy`` are measured after the epoch (the loss in the
    network's reduction: with ``"sum"`` it grows with the number of examples). Accuracy is
    recorded for the classification losses, and for any loss with ``fit(metrics=("accuracy",))``;
    the arrays are ``None`` otherwise.
    ``events`` are what a ``mlplab.diagnostics.Diagnostics`` callback saw (plateaus,
    saturated units, ...). ``seconds`` is the time the epochs took; a compiled engine's
    compiling is apart, in ``extra["compile_seconds"]``. For a stack, ``loss[j]`` holds one
    loss per network, long runs keep every N-th epoch only (``extra["loss_epochs"]``; the
    metrics at the same epochs), and a diverged network is frozen
    rather than stopping the others (``extra["diverged_at"]``); see ``mlplab.train.stack_record``.
    """

    loss: np.ndarray
    epochs: int = 0
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    accuracy: np.ndarray | None = None
    val_loss: np.ndarray | None = None
    val_accuracy: np.ndarray | None = None
    best_epoch: int | None = None  # with early stopping: the epoch whose weights were kept
    events: list[Event] = field(default_factory=list)

    def plot(self, *, title: str = "", ax: Any = None):
        """The loss curve with the diagnostic events marked; returns the matplotlib ``Figure``
        drawn on (``ax``'s, pyplot's current one, or a new one: see ``mlplab.plot``)."""
        from mlplab.plot import loss_figure

        return loss_figure(self, title=title, ax=ax)

    @property
    def final_loss(self) -> float:
        return float(self.loss[-1]) if len(self.loss) else math.nan

    def __len__(self) -> int:
        return len(self.loss)
