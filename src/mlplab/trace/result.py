"""``Trace``: the steps of one traced epoch, as text, HTML, a dict or JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np

from mlplab.errors import ConfigError
from mlplab.trace import render
from mlplab.trace.steps import Step

__all__ = ["FORMAT", "Trace"]

FORMAT = "mlplab-trace/1"


class Trace:
    """The lines of one training epoch, in the order they ran, with the arrays they computed.

    Returned by ``MLP.trace``. ``steps`` holds every ``Step`` (every batch's); ``step("h1")``
    finds one by the array it produces. ``str(trace)`` is plain text (the first batch, arrays
    NumPy-style, large ones elided with their shapes said; ``text(rows=, batches=)`` for more
    or less), ``_repr_html_`` renders it in Jupyter (the changed weights highlighted), and
    ``to_dict()`` / ``to_json()`` give it as data::

        {"format": "mlplab-trace/1",
         "epoch": 0,                      # the epoch traced (epochs trained before it)
         "network": {...},                # MLP.config(): sizes, activations, loss, bias, ...
         "optimizer": "SGD(lr=1.0)",
         "loss": 0.54,                    # the epoch's loss as fit records it (a list: stack)
         "batches": 1, "rows": [4],       # the batches of the epoch and the rows of each
         "steps": [                       # in the order they ran, every batch's
           {"index": 0, "phase": "forward",   # forward, loss, backward, penalty, update
            "layer": 1,                   # 1-based (W1 is layer 1); None: the whole network
            "batch": 0,                   # from 0
            "line": "h1 = σ(X @ W1)",     # the seed's notation
            "name": "h1",                 # the array it produces ...
            "value": [[...], ...],        # ... as nested lists (0-d: a number)
            "shape": [4, 4],
            "param": None,                # "W2" for a gradient, penalty or update step of W2
            "inputs": {"X": [[...]], "W1": [[...]]},   # the named arrays it read
            "details": {"z1": [[...]]},   # intermediate values (z, y - t, delta @ W.T)
            "before": None,               # an update's parameter before it ...
            "changed": None,              # ... and where it changed (booleans)
            "source": {"module": "mlplab.nn.layer", "function": "Dense.forward",
                       "line": 212, "code": "self.h = ops.act(z, self._h)  # h = act(z)"},
            "called_from": {...} or None},        # the line that asked for it
           ...]}

    Non-finite numbers are ``None`` in the dict (JSON has no NaN).
    """

    def __init__(self, steps: list[Step], *, epoch: int, history: Any, network: dict[str, Any],
                 optimizer: str) -> None:  # fmt: skip
        self.steps = steps
        self.epoch = epoch
        self.history = history
        self.network = network
        self.optimizer = optimizer

    @property
    def batches(self) -> int:
        """How many batches (optimizer steps) the epoch took."""
        return max((s.batch for s in self.steps), default=-1) + 1

    @property
    def rows(self) -> list[int]:
        """The rows of each batch."""
        first = [s for s in self.steps if s.phase == "forward" and s.layer == 1]
        return [int(np.shape(s.inputs["X"])[-2]) for s in first]

    @property
    def loss(self) -> Any:
        """The epoch's loss as ``fit`` records it (one per network for a stack)."""
        value = self.history.loss[0]
        return float(value) if np.ndim(value) == 0 else np.asarray(value)

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __getitem__(self, index: int) -> Step:
        return self.steps[index]

    def batch(self, k: int) -> list[Step]:
        """The steps of batch ``k`` (from 0)."""
        return [s for s in self.steps if s.batch == k]

    def step(self, name: str, batch: int = 0) -> Step:
        """The step of batch ``batch`` producing ``name`` (``"h1"``, ``"delta2"``, ``"W1"``)."""
        for s in self.steps:
            if s.batch == batch and s.name == name:
                return s
        names = list(dict.fromkeys(s.name for s in self.steps))
        raise ConfigError(f"no step produces {name!r} in batch {batch}; the steps produce "
                          f"{', '.join(names)}")  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The trace as JSON-ready values (the format in the class docstring)."""
        loss = self.loss
        return {
            "format": FORMAT,
            "epoch": self.epoch,
            "network": self.network,
            "optimizer": self.optimizer,
            "loss": loss if isinstance(loss, float) else loss.tolist(),
            "batches": self.batches,
            "rows": self.rows,
            "steps": [s.to_dict() for s in self.steps],
        }

    def to_json(self, indent: int | None = None) -> str:
        """``to_dict()`` as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def text(self, rows: int | None = None, batches: int | None = 1) -> str:
        """Plain text: each line, where it ran, and its arrays (``rows`` of each at most; the
        first ``batches`` batches, ``None``: all)."""
        return render.text(self, rows=rows, batches=batches)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return (f"<Trace of epoch {self.epoch}: {len(self.steps)} steps in {self.batches} "
                f"batch(es), {self.optimizer}>")  # fmt: skip

    def _repr_html_(self) -> str:
        return render.html(self)
